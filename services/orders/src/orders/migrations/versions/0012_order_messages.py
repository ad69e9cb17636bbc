"""Revision 0012 (after 0011): order messages and the copy of orders' invoices for printing.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012"
down_revision = "0011"


def upgrade() -> None:
    op.create_table(
        "order_messages",
        sa.Column("id", postgresql.UUID(), nullable=False),
        sa.Column("order_id", postgresql.UUID(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("side", sa.String(16), nullable=False),
        sa.Column("author", sa.String(401), nullable=False),
        sa.Column("author_name", sa.String(200), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name="fk_order_messages_order_id_orders", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_order_messages"),
    )
    op.create_index("ix_order_messages_account_id", "order_messages", ["account_id"])
    op.create_index("uq_order_messages_thread", "order_messages", ["order_id", "position"], unique=True)
    op.create_table(
        "invoice_documents",
        sa.Column("invoice_id", postgresql.UUID(), nullable=False),
        sa.Column("order_id", postgresql.UUID(), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amount_paid", sa.Numeric(14, 2), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name="fk_invoice_documents_order_id_orders", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("invoice_id", name="pk_invoice_documents"),
    )
    op.create_index("ix_invoice_documents_order_id", "invoice_documents", ["order_id"])


def downgrade() -> None:
    op.drop_table("invoice_documents")
    op.drop_table("order_messages")
