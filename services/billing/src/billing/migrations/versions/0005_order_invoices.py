"""client-area orders' invoices: one invoice per order (uq_invoices_order, whatever its kind and
period), lines naming the service and period they pay for, invoice_history (voiding) and
order_cancellations (kept until, and after, the order's invoice exists)

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "uq_invoices_order",
        "invoices",
        ["source_id"],
        unique=True,
        postgresql_where=sa.text("source_kind IN ('order', 'renewal')"),
    )
    op.add_column("invoice_lines", sa.Column("subscription_id", postgresql.UUID(), nullable=True))
    op.add_column("invoice_lines", sa.Column("period_start", sa.Date(), nullable=True))
    op.add_column("invoice_lines", sa.Column("period_end", sa.Date(), nullable=True))
    op.create_table(
        "invoice_history",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("invoice_id", postgresql.UUID(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("from_status", sa.String(32), nullable=True),
        sa.Column("to_status", sa.String(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_invoice_history"),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"], name="fk_invoice_history_invoice_id_invoices"),
    )
    op.create_index("ix_invoice_history_invoice_id", "invoice_history", ["invoice_id"])
    op.create_table(
        "order_cancellations",
        sa.Column("order_id", postgresql.UUID(), nullable=False),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name="pk_order_cancellations"),
    )


def downgrade() -> None:
    op.drop_table("order_cancellations")
    op.drop_table("invoice_history")
    for column in ("period_end", "period_start", "subscription_id"):
        op.drop_column("invoice_lines", column)
    op.drop_index("uq_invoices_order", "invoices")
