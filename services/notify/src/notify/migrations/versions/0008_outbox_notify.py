"""Revision 0008 (after 0007): the outbox notifies on commit, as
portal_runtime.migrations.create_outbox_notify makes it (the relay wakes at once), and so do
deliveries (`notify_deliveries`: the sender wakes when a delivery is staged)."""

from notify.service.sending import DELIVERIES_CHANNEL
from portal_runtime.migrations import create_insert_notify, create_outbox_notify, drop_insert_notify, drop_outbox_notify

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    create_outbox_notify()
    create_insert_notify("deliveries", DELIVERIES_CHANNEL)


def downgrade() -> None:
    drop_insert_notify("deliveries")
    drop_outbox_notify()
