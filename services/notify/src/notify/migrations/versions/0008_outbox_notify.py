"""Revision 0008 (after 0007): the outbox notifies on commit, as
portal_runtime.migrations.create_outbox_notify makes it (the relay wakes at once), and so do
deliveries (`notify_deliveries`: the sender wakes when a delivery is staged)."""

from alembic import op

from portal_runtime.migrations import create_outbox_notify, drop_outbox_notify

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    create_outbox_notify()
    op.execute(
        "CREATE FUNCTION deliveries_notify() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN PERFORM pg_notify('notify_deliveries', ''); RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER deliveries_notify AFTER INSERT ON deliveries FOR EACH STATEMENT "
        "EXECUTE FUNCTION deliveries_notify()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS deliveries_notify ON deliveries")
    op.execute("DROP FUNCTION IF EXISTS deliveries_notify()")
    drop_outbox_notify()
