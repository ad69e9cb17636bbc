"""Orders' copy of an order's invoice keeps what credit notes took off it (CreditNoteIssued.applied,
by credit note id), so the printed invoice's balance due is lowered by a return's credit.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "invoice_documents",
        sa.Column("credits", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("invoice_documents", "credits")
