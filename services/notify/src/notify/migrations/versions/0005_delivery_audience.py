"""a delivery's audience: the account (its confirmed address), or the billing contact an automatic
unit plan names; one delivery per event and audience (an automatic plan's notice goes to both)

Deliveries recorded before are the account's. Downgrading drops the billing contacts' deliveries:
the old schema holds one delivery per event, and that one is the account's.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("audience", sa.String(32), nullable=False, server_default="account"))
    op.alter_column("deliveries", "audience", server_default=None)
    op.drop_constraint("uq_deliveries_cause_event_id", "deliveries", type_="unique")
    op.create_unique_constraint("uq_deliveries_cause_audience", "deliveries", ["cause_event_id", "audience"])


def downgrade() -> None:
    op.execute("DELETE FROM deliveries WHERE audience <> 'account'")
    op.drop_constraint("uq_deliveries_cause_audience", "deliveries", type_="unique")
    op.create_unique_constraint("uq_deliveries_cause_event_id", "deliveries", ["cause_event_id"])
    op.drop_column("deliveries", "audience")
