"""Revision 0007 (after 0006): the outbox notifies on commit, as
portal_runtime.migrations.create_outbox_notify makes it (the relay wakes at once)."""

from portal_runtime.migrations import create_outbox_notify, drop_outbox_notify

revision = "0007"
down_revision = "0006"
upgrade = create_outbox_notify
downgrade = drop_outbox_notify
