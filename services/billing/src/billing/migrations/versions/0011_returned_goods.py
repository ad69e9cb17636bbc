"""credit notes for returned goods; invoices.amount_credited (HB2).

Revision ID: 0011_returned_goods
Revises: 0010_credit_notes
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0011_returned_goods"
down_revision = "0010_credit_notes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # placeholder: filled in by its owner (see /work/briefs/issue16.md)


def downgrade() -> None:
    pass
