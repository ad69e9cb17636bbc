"""Revision 0013 (after 0012): the outbox notifies on commit, as
portal_runtime.migrations.create_outbox_notify makes it (the relay wakes at once)."""

from portal_runtime.migrations import create_outbox_notify, drop_outbox_notify

revision = "0013_outbox_notify"
down_revision = "0012_account_ledger"
upgrade = create_outbox_notify
downgrade = drop_outbox_notify
