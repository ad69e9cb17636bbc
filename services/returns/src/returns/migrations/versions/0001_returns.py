"""returnable invoices, rmas, their lines and history; outbox and inbox

Revision ID: 0001
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from portal_runtime.migrations import create_runtime_tables, drop_runtime_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_runtime_tables()
    op.create_table(
        "returnable_invoices",
        sa.Column("invoice_id", postgresql.UUID(), nullable=False),
        sa.Column("number", sa.String(100), nullable=False),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("lines", postgresql.JSONB(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("invoice_id", name="pk_returnable_invoices"),
        sa.UniqueConstraint("number", name="uq_returnable_invoices_number"),
    )
    op.create_index("ix_returnable_invoices_account_id", "returnable_invoices", ["account_id"])
    op.create_table(
        "rmas",
        sa.Column("id", postgresql.UUID(), nullable=False),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("invoice_number", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reject_reason", sa.Text(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rmas"),
    )
    op.create_index("ix_rmas_account_id", "rmas", ["account_id"])
    op.create_index("ix_rmas_invoice_number", "rmas", ["invoice_number"])
    op.create_index("ix_rmas_status", "rmas", ["status"])
    op.create_table(
        "rma_lines",
        sa.Column("rma_id", postgresql.UUID(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(500), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("rma_id", "position", name="pk_rma_lines"),
        sa.ForeignKeyConstraint(["rma_id"], ["rmas.id"], name="fk_rma_lines_rma_id_rmas", ondelete="CASCADE"),
    )
    op.create_table(
        "rma_history",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("rma_id", postgresql.UUID(), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=True),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rma_history"),
        sa.ForeignKeyConstraint(["rma_id"], ["rmas.id"], name="fk_rma_history_rma_id_rmas", ondelete="CASCADE"),
    )
    op.create_index("ix_rma_history_rma_id", "rma_history", ["rma_id"])


def downgrade() -> None:
    op.drop_table("rma_history")
    op.drop_table("rma_lines")
    op.drop_table("rmas")
    op.drop_table("returnable_invoices")
    drop_runtime_tables()
