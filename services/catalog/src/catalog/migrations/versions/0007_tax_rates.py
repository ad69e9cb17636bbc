"""items.tax_rate: the tax rate of an item's prices, a fraction (0.19 is 19 %); NULL: not taxed,
which every existing item stays.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("items", sa.Column("tax_rate", sa.Numeric(5, 4), nullable=True))


def downgrade() -> None:
    op.drop_column("items", "tax_rate")
