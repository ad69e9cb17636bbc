"""Revision 0016 (after 0015): the outbox notifies on commit, as
portal_runtime.migrations.create_outbox_notify makes it (the relay wakes at once)."""

from portal_runtime.migrations import create_outbox_notify, drop_outbox_notify

revision = "0016"
down_revision = "0015"
upgrade = create_outbox_notify
downgrade = drop_outbox_notify
