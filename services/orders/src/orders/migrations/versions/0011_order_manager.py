"""Revision 0011 (after 0010): shipments, payment terms, order notes.

New tables: `shipments` (an order's shipments, numbered per order), `shipment_lines` (the goods
lines' quantities in each), `shipment_tracking_history` (corrections of a shipped one's tracking),
`account_terms` (an account's payment terms). orders gains payment_terms_days (the account's terms
when placed), public_note, private_note and awaiting_quantity (what the goods lines still await:
existing orders of goods not cancelled await everything they ordered, as nothing has shipped).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0010"


def upgrade() -> None:
    op.add_column("orders", sa.Column("payment_terms_days", sa.Integer(), nullable=True))
    op.add_column("orders", sa.Column("public_note", sa.Text(), nullable=True))
    op.add_column("orders", sa.Column("private_note", sa.Text(), nullable=True))
    op.add_column("orders", sa.Column("awaiting_quantity", sa.Integer(), server_default="0", nullable=False))
    op.execute(
        "UPDATE orders SET awaiting_quantity = (SELECT coalesce(sum(l.quantity), 0) FROM order_lines l "
        "WHERE l.order_id = orders.id AND l.kind = 'good') WHERE status <> 'cancelled'"
    )
    op.create_table(
        "shipments",
        sa.Column("id", postgresql.UUID(), nullable=False),
        sa.Column("order_id", postgresql.UUID(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(48), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("carrier", sa.String(100), nullable=True),
        sa.Column("tracking_number", sa.String(100), nullable=True),
        sa.Column("tracking_url", sa.String(2048), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shipped_by", sa.String(200), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name="fk_shipments_order_id_orders", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_shipments"),
        sa.UniqueConstraint("number", name="uq_shipments_number"),
        sa.UniqueConstraint("order_id", "seq", name="uq_shipments_order_id"),
    )
    op.create_index("ix_shipments_order_id", "shipments", ["order_id"])
    op.create_table(
        "shipment_lines",
        sa.Column("shipment_id", postgresql.UUID(), nullable=False),
        sa.Column("line_id", postgresql.UUID(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipments.id"], name="fk_shipment_lines_shipment_id_shipments", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["line_id"], ["order_lines.line_id"], name="fk_shipment_lines_line_id_order_lines"),
        sa.PrimaryKeyConstraint("shipment_id", "line_id", name="pk_shipment_lines"),
    )
    op.create_table(
        "shipment_tracking_history",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("shipment_id", postgresql.UUID(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("old_carrier", sa.String(100), nullable=False),
        sa.Column("old_tracking_number", sa.String(100), nullable=False),
        sa.Column("old_tracking_url", sa.String(2048), nullable=True),
        sa.Column("new_carrier", sa.String(100), nullable=False),
        sa.Column("new_tracking_number", sa.String(100), nullable=False),
        sa.Column("new_tracking_url", sa.String(2048), nullable=True),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name="fk_shipment_tracking_history_shipment_id_shipments",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_shipment_tracking_history"),
    )
    op.create_index("ix_shipment_tracking_history_shipment_id", "shipment_tracking_history", ["shipment_id"])
    op.create_table(
        "account_terms",
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("payment_terms_days", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name="pk_account_terms"),
    )


def downgrade() -> None:
    op.drop_table("account_terms")
    op.drop_index("ix_shipment_tracking_history_shipment_id", table_name="shipment_tracking_history")
    op.drop_table("shipment_tracking_history")
    op.drop_table("shipment_lines")
    op.drop_index("ix_shipments_order_id", table_name="shipments")
    op.drop_table("shipments")
    for column in ("awaiting_quantity", "private_note", "public_note", "payment_terms_days"):
        op.drop_column("orders", column)
