"""the client area: carts (lines), orders (lines, history, their invoices, yearly numbers), the
idempotency table (checkout takes Idempotency-Keys), services' reminders, and the subscription
columns of a service bought through the cart (order, parent, domain, cycle, cancellation at
period end, suspension reason); offered items keep catalog's `featured` and `max_per_parent`

A renewal line's `claimed_period` (its period_start while the order is not cancelled) carries
the unique index `uq_order_lines_renewal_claim`: never two live orders for one service and period.
Existing subscriptions come from requests: their cycle is the one their billing means, none is
cancelled at period end; existing copies of add-ons keep the catalog's default of one per parent.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from portal_runtime.migrations import create_idempotency_table, drop_idempotency_table

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UUID = postgresql.UUID
TS = sa.DateTime(timezone=True)
CYCLES = {1: "monthly", 3: "quarterly", 6: "semi_annual", 12: "annual", 24: "biennial", 36: "triennial"}


def _history(table: str, parent: str, parent_table: str) -> None:
    op.create_table(
        table,
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column(parent, UUID(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("from_status", sa.String(32), nullable=True),
        sa.Column("to_status", sa.String(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
        sa.ForeignKeyConstraint(
            [parent], [f"{parent_table}.id"], ondelete="CASCADE", name=f"fk_{table}_{parent}_{parent_table}"
        ),
    )
    op.create_index(f"ix_{table}_{parent}", table, [parent])


def upgrade() -> None:
    create_idempotency_table()
    op.add_column("offered_items", sa.Column("featured", postgresql.JSONB(), nullable=True))
    op.add_column("offered_items", sa.Column("max_per_parent", sa.Integer(), nullable=True))
    op.execute("UPDATE offered_items SET max_per_parent = 1 WHERE kind = 'add_on'")

    op.create_table(
        "carts",
        sa.Column("id", UUID(), nullable=False),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_carts"),
        sa.UniqueConstraint("account_id", name="uq_carts_account_id"),
    )
    op.create_table(
        "cart_lines",
        sa.Column("line_id", UUID(), nullable=False),
        sa.Column("cart_id", UUID(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("item_id", UUID(), nullable=False),
        sa.Column("cycle", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("subscription_id", UUID(), nullable=False),
        sa.Column("parent_subscription_id", UUID(), nullable=True),
        sa.Column("domain", sa.String(253), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("line_id", name="pk_cart_lines"),
        sa.ForeignKeyConstraint(["cart_id"], ["carts.id"], ondelete="CASCADE", name="fk_cart_lines_cart_id_carts"),
    )
    op.create_index("ix_cart_lines_cart_id", "cart_lines", ["cart_id"])

    op.create_table(
        "order_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name="pk_order_counters"),
    )
    op.create_table(
        "orders",
        sa.Column("id", UUID(), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total", sa.Numeric(14, 2), nullable=False),
        sa.Column("placed_at", TS, nullable=False),
        sa.Column("placed_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("cancel_reason", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
        sa.UniqueConstraint("number", name="uq_orders_number"),
    )
    op.create_index("ix_orders_account_id", "orders", ["account_id"])
    op.create_index("ix_orders_status", "orders", ["status"])
    op.create_table(
        "order_lines",
        sa.Column("line_id", UUID(), nullable=False),
        sa.Column("order_id", UUID(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("item_id", UUID(), nullable=False),
        sa.Column("sku", sa.String(64), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("cycle", sa.String(16), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Numeric(12, 2), nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("subscription_id", UUID(), nullable=False),
        sa.Column("parent_subscription_id", UUID(), nullable=True),
        sa.Column("domain", sa.String(253), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("claimed_period", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("line_id", name="pk_order_lines"),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], ondelete="CASCADE", name="fk_order_lines_order_id_orders"),
    )
    op.create_index("ix_order_lines_order_id", "order_lines", ["order_id"])
    op.create_index("uq_order_lines_renewal_claim", "order_lines", ["subscription_id", "claimed_period"], unique=True)
    _history("order_history", "order_id", "orders")
    op.create_table(
        "order_invoices",
        sa.Column("invoice_id", UUID(), nullable=False),
        sa.Column("order_id", UUID(), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("total", sa.Numeric(14, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("issued_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("invoice_id", name="pk_order_invoices"),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], ondelete="CASCADE", name="fk_order_invoices_order_id_orders"
        ),
    )
    op.create_index("ix_order_invoices_order_id", "order_invoices", ["order_id"])

    op.alter_column("subscriptions", "request_id", existing_type=UUID(), nullable=True)
    op.add_column("subscriptions", sa.Column("order_id", UUID(), nullable=True))
    op.add_column("subscriptions", sa.Column("parent_id", UUID(), nullable=True))
    op.add_column("subscriptions", sa.Column("domain", sa.String(253), nullable=True))
    op.add_column("subscriptions", sa.Column("cycle", sa.String(16), nullable=True))
    op.add_column(
        "subscriptions",
        sa.Column("cancel_at_period_end", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.alter_column("subscriptions", "cancel_at_period_end", server_default=None)
    op.add_column("subscriptions", sa.Column("suspend_reason", sa.String(200), nullable=True))
    op.create_foreign_key("fk_subscriptions_order_id_orders", "subscriptions", "orders", ["order_id"], ["id"])
    op.create_foreign_key(
        "fk_subscriptions_parent_id_subscriptions", "subscriptions", "subscriptions", ["parent_id"], ["id"]
    )
    for column in ("order_id", "parent_id", "next_due_on"):
        op.create_index(f"ix_subscriptions_{column}", "subscriptions", [column])
    cycle = (
        "CASE WHEN billing = 'one_time' THEN 'one_time' "
        + " ".join(f"WHEN billing = 'recurring' AND billing_period_months = {m} THEN '{c}'" for m, c in CYCLES.items())
        + " END"
    )
    op.execute(f"UPDATE subscriptions SET cycle = {cycle}")
    # an admin's suspension before reasons were kept is an admin's (a payment does not lift it)
    op.execute("UPDATE subscriptions SET suspend_reason = 'admin' WHERE status = 'suspended'")

    op.create_table(
        "service_reminders",
        sa.Column("subscription_id", UUID(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("reminded_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("subscription_id", "due_on", name="pk_service_reminders"),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            ondelete="CASCADE",
            name="fk_service_reminders_subscription_id_subscriptions",
        ),
    )


def downgrade() -> None:
    op.drop_table("service_reminders")
    # services bought through the cart have no request: they go with the orders
    op.execute(
        "DELETE FROM subscription_history WHERE subscription_id IN (SELECT id FROM subscriptions "
        "WHERE request_id IS NULL)"
    )
    op.execute("UPDATE subscriptions SET parent_id = NULL")
    op.execute("DELETE FROM subscriptions WHERE request_id IS NULL")
    for column in ("next_due_on", "parent_id", "order_id"):
        op.drop_index(f"ix_subscriptions_{column}", table_name="subscriptions")
    op.drop_constraint("fk_subscriptions_parent_id_subscriptions", "subscriptions", type_="foreignkey")
    op.drop_constraint("fk_subscriptions_order_id_orders", "subscriptions", type_="foreignkey")
    for column in ("suspend_reason", "cancel_at_period_end", "cycle", "domain", "parent_id", "order_id"):
        op.drop_column("subscriptions", column)
    op.alter_column("subscriptions", "request_id", existing_type=UUID(), nullable=False)
    for table in ("order_invoices", "order_history", "order_lines", "orders", "order_counters", "cart_lines", "carts"):
        op.drop_table(table)
    op.drop_column("offered_items", "max_per_parent")
    op.drop_column("offered_items", "featured")
    drop_idempotency_table()
