"""advance payments, voids and the account statement; reconciliation statements (HB1).

Revision ID: 0012_account_ledger
Revises: 0011_returned_goods
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0012_account_ledger"
down_revision = "0011_returned_goods"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # placeholder: filled in by its owner (see /work/briefs/issue16.md)


def downgrade() -> None:
    pass
