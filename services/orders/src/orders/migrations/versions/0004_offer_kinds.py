"""offered_items keeps catalog's kinds and cycles: kind (existing copies are services), prices
(every (cycle, price), the primary one first), units (a unit package's) and parents (an add-on's
service items)

An existing copy's one price becomes its one cycle: recurring every 1, 3, 6, 12, 24 or 36 months
is monthly, quarterly, semi_annual, annual, biennial or triennial; one_time is one_time; a copy
with no price (a retirement seen first) or another period keeps no cycle prices. Pricing still
reads price, billing and billing_period_months, which stay as they are.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

CYCLES = {1: "monthly", 3: "quarterly", 6: "semi_annual", 12: "annual", 24: "biennial", 36: "triennial"}


def upgrade() -> None:
    op.add_column("offered_items", sa.Column("kind", sa.String(16), nullable=False, server_default="service"))
    op.add_column(
        "offered_items", sa.Column("prices", postgresql.JSONB(), nullable=False, server_default=sa.text("'[]'"))
    )
    op.add_column("offered_items", sa.Column("units", sa.Integer(), nullable=True))
    op.add_column(
        "offered_items", sa.Column("parents", postgresql.JSONB(), nullable=False, server_default=sa.text("'[]'"))
    )
    for column in ("kind", "prices", "parents"):
        op.alter_column("offered_items", column, server_default=None)
    cycle = (
        "CASE WHEN billing = 'one_time' THEN 'one_time' "
        + " ".join(f"WHEN billing = 'recurring' AND billing_period_months = {m} THEN '{c}'" for m, c in CYCLES.items())
        + " END"
    )
    op.execute(
        "UPDATE offered_items SET prices = jsonb_build_array(jsonb_build_object('cycle', c.cycle, 'price', price::text)) "
        f"FROM (SELECT item_id AS id, {cycle} AS cycle FROM offered_items) AS c "
        "WHERE c.id = offered_items.item_id AND c.cycle IS NOT NULL AND price IS NOT NULL"
    )


def downgrade() -> None:
    for column in ("parents", "units", "prices", "kind"):
        op.drop_column("offered_items", column)
