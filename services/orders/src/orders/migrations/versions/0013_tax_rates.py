"""Tax rates: orders' copy of a catalog item keeps its tax rate (offered_items.tax_rate), and every
order line records its item's rate when placed (order_lines.tax_rate). NULL: not taxed (rate 0),
which every existing copy and line stays.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("offered_items", sa.Column("tax_rate", sa.Numeric(5, 4), nullable=True))
    op.add_column("order_lines", sa.Column("tax_rate", sa.Numeric(5, 4), nullable=True))


def downgrade() -> None:
    op.drop_column("order_lines", "tax_rate")
    op.drop_column("offered_items", "tax_rate")
