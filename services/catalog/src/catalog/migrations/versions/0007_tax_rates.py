"""items.tax_rate (HT).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # placeholder: filled in by its owner (see /work/briefs/issue16.md)


def downgrade() -> None:
    pass
