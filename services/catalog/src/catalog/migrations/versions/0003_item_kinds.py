"""item kinds and prices per billing cycle: items.kind (existing items are services) and
items.units; item_prices (one price per cycle, position 0 the primary one) replaces items.price,
billing and billing_period_months; item_parents (an add-on's service items)

An existing item's one price becomes its one cycle: recurring every 1, 3, 6, 12, 24 or 36 months
is monthly, quarterly, semi_annual, annual, biennial or triennial; one_time is one_time. An item
recurring every other number of months has no cycle: the upgrade stops and names it (change its
billing_period_months first).

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

CYCLES = {1: "monthly", 3: "quarterly", 6: "semi_annual", 12: "annual", 24: "biennial", 36: "triennial"}
_CYCLE_OF_ROW = (
    "CASE WHEN billing = 'one_time' THEN 'one_time' "
    + " ".join(f"WHEN billing_period_months = {m} THEN '{c}'" for m, c in CYCLES.items())
    + " END"
)


def upgrade() -> None:
    odd = op.get_bind().execute(
        sa.text(
            "SELECT sku, billing_period_months FROM items WHERE billing = 'recurring' "
            f"AND (billing_period_months IS NULL OR billing_period_months NOT IN ({', '.join(map(str, CYCLES))}))"
        )
    ).all()
    if odd:
        listed = ", ".join(f"{sku} ({months} months)" for sku, months in odd)
        raise RuntimeError(f"items recurring on a period that is no billing cycle: {listed}; change them first")
    op.add_column("items", sa.Column("kind", sa.String(16), nullable=False, server_default="service"))
    op.alter_column("items", "kind", server_default=None)
    op.add_column("items", sa.Column("units", sa.Integer(), nullable=True))
    op.create_table(
        "item_prices",
        sa.Column("item_id", postgresql.UUID(), nullable=False),
        sa.Column("cycle", sa.String(16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("price", sa.Numeric(12, 2), nullable=False),
        sa.PrimaryKeyConstraint("item_id", "cycle", name="pk_item_prices"),
        sa.UniqueConstraint("item_id", "position", name="uq_item_prices_item_id"),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], ondelete="CASCADE", name="fk_item_prices_item_id_items"),
    )
    op.create_table(
        "item_parents",
        sa.Column("item_id", postgresql.UUID(), nullable=False),
        sa.Column("parent_id", postgresql.UUID(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("item_id", "parent_id", name="pk_item_parents"),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], ondelete="CASCADE", name="fk_item_parents_item_id_items"),
        sa.ForeignKeyConstraint(["parent_id"], ["items.id"], name="fk_item_parents_parent_id_items"),
    )
    op.create_index("ix_item_parents_parent_id", "item_parents", ["parent_id"])
    op.execute(f"INSERT INTO item_prices (item_id, cycle, position, price) SELECT id, {_CYCLE_OF_ROW}, 0, price FROM items")
    op.drop_column("items", "price")
    op.drop_column("items", "billing")
    op.drop_column("items", "billing_period_months")


def downgrade() -> None:
    """Back to one price per item: the primary one (other cycles, kinds, units and parents are lost)."""
    op.add_column("items", sa.Column("price", sa.Numeric(12, 2), nullable=True))
    op.add_column("items", sa.Column("billing", sa.String(16), nullable=True))
    op.add_column("items", sa.Column("billing_period_months", sa.Integer(), nullable=True))
    months = " ".join(f"WHEN '{c}' THEN {m}" for m, c in CYCLES.items())
    op.execute(
        "UPDATE items SET price = p.price, "
        "billing = CASE WHEN p.cycle = 'one_time' THEN 'one_time' ELSE 'recurring' END, "
        f"billing_period_months = CASE p.cycle {months} END "
        "FROM item_prices p WHERE p.item_id = items.id AND p.position = 0"
    )
    op.alter_column("items", "price", existing_type=sa.Numeric(12, 2), nullable=False)
    op.alter_column("items", "billing", existing_type=sa.String(16), nullable=False)
    op.drop_table("item_parents")
    op.drop_table("item_prices")
    op.drop_column("items", "units")
    op.drop_column("items", "kind")
