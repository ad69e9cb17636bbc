"""Revision 0009 (after 0008): orders from quotes, reorders and other sales channels, and lines of goods.

orders gains where an order came from (placed_by, quote_id: one order per quote, reordered_from,
channel + channel_order_id: one order per channel order, customer_reference); a line of goods has
no service and no period, so order_lines.subscription_id and period_start may be NULL. Existing
orders came from carts and the renewal job: their new columns stay NULL. Orders gain their three
statuses (checkout, payment, shipping) with their times; cart lines a quantity (goods) and carts the
order a reorder copied.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    op.add_column("orders", sa.Column("placed_by", sa.String(401), nullable=True))
    op.add_column("orders", sa.Column("quote_id", sa.UUID(), nullable=True))
    op.add_column("orders", sa.Column("reordered_from", sa.UUID(), nullable=True))
    op.add_column("orders", sa.Column("channel", sa.String(100), nullable=True))
    op.add_column("orders", sa.Column("channel_order_id", sa.String(200), nullable=True))
    op.add_column("orders", sa.Column("customer_reference", sa.String(100), nullable=True))
    op.create_unique_constraint("uq_orders_quote_id", "orders", ["quote_id"])
    op.create_index("uq_orders_channel_order", "orders", ["channel", "channel_order_id"], unique=True)
    op.alter_column("order_lines", "subscription_id", nullable=True)
    op.alter_column("order_lines", "period_start", nullable=True)
    # the order's three statuses with their times; existing orders: checkout completed when placed,
    # payment cleared when paid, nothing to ship (services only)
    op.add_column("orders", sa.Column("checkout_status", sa.String(16), server_default="completed", nullable=False))
    op.add_column("orders", sa.Column("checkout_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("orders", sa.Column("payment_status", sa.String(16), server_default="not_submitted", nullable=False))
    op.add_column("orders", sa.Column("payment_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "orders", sa.Column("shipping_status", sa.String(20), server_default="not_applicable", nullable=False)
    )
    op.add_column("orders", sa.Column("shipping_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE orders SET checkout_at = placed_at, shipping_at = placed_at")
    op.execute(
        "UPDATE orders SET payment_status = 'cleared', payment_at = "
        "(SELECT max(h.at) FROM order_history h WHERE h.order_id = orders.id AND h.to_status = 'paid') "
        "WHERE status = 'paid'"
    )
    op.create_index("ix_orders_payment_status", "orders", ["payment_status"])
    op.create_index("ix_orders_shipping_status", "orders", ["shipping_status"])
    # cart lines of goods: a quantity, no service; a cart keeps the order a reorder copied
    op.add_column("cart_lines", sa.Column("quantity", sa.Integer(), server_default="1", nullable=False))
    op.alter_column("cart_lines", "subscription_id", nullable=True)
    op.add_column("carts", sa.Column("reordered_from", sa.UUID(), nullable=True))


def downgrade() -> None:
    op.drop_column("carts", "reordered_from")
    op.execute("DELETE FROM cart_lines WHERE subscription_id IS NULL")
    op.alter_column("cart_lines", "subscription_id", nullable=False)
    op.drop_column("cart_lines", "quantity")
    op.drop_index("ix_orders_shipping_status", table_name="orders")
    op.drop_index("ix_orders_payment_status", table_name="orders")
    for column in ("shipping_at", "shipping_status", "payment_at", "payment_status", "checkout_at", "checkout_status"):
        op.drop_column("orders", column)
    op.alter_column("order_lines", "period_start", nullable=False)
    op.alter_column("order_lines", "subscription_id", nullable=False)
    op.drop_index("uq_orders_channel_order", table_name="orders")
    op.drop_constraint("uq_orders_quote_id", "orders", type_="unique")
    for column in ("customer_reference", "channel_order_id", "channel", "reordered_from", "quote_id", "placed_by"):
        op.drop_column("orders", column)
