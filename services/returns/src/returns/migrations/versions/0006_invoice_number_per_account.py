"""An invoice's number unique within its account, not across every copy kept here.

The number is billing's to keep unique. A copy that refused an invoice because another account's
copy had its number dead-lettered the event (several billings on one bus, as in a test run, or a
replayed topic); RMAs look invoices up by the caller's account and number.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint("uq_returnable_invoices_number", "returnable_invoices", type_="unique")
    op.create_unique_constraint(
        "uq_returnable_invoices_account_id_number", "returnable_invoices", ["account_id", "number"]
    )


def downgrade() -> None:
    op.drop_constraint("uq_returnable_invoices_account_id_number", "returnable_invoices", type_="unique")
    op.create_unique_constraint("uq_returnable_invoices_number", "returnable_invoices", ["number"])
