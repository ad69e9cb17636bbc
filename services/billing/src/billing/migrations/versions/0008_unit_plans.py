"""automatic unit plans (billing.domain.plans): unit_plans (one per account: package, threshold,
monthly cap, the saved card's token/brand/last4, billing address and contact, status, declines,
backoff, capped month) and unit_plan_history (its status moves)

Revision ID: 0008_unit_plans
Revises: 0007_unit_wallets
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008_unit_plans"
down_revision = "0007_unit_wallets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unit_plans",
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("package_item_id", postgresql.UUID(), nullable=False),
        sa.Column("threshold", sa.BigInteger(), nullable=False),
        sa.Column("monthly_cap", sa.Numeric(14, 2), nullable=True),
        sa.Column("card_token", sa.String(64), nullable=False),
        sa.Column("card_brand", sa.String(16), nullable=False),
        sa.Column("card_last4", sa.String(4), nullable=False),
        sa.Column("billing_address", postgresql.JSONB(), nullable=False),
        sa.Column("billing_contact", postgresql.JSONB(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("paused_reason", sa.String(32), nullable=True),
        sa.Column("declines_in_a_row", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("capped_month", sa.String(7), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name="pk_unit_plans"),
        sa.CheckConstraint("status IN ('active', 'paused', 'off')", name="ck_unit_plans_status_known"),
        sa.CheckConstraint("threshold >= 0", name="ck_unit_plans_threshold_non_negative"),
        sa.CheckConstraint("monthly_cap IS NULL OR monthly_cap > 0", name="ck_unit_plans_monthly_cap_positive"),
        sa.CheckConstraint("declines_in_a_row >= 0", name="ck_unit_plans_declines_non_negative"),
    )
    op.create_index("ix_unit_plans_active", "unit_plans", ["account_id"], postgresql_where=sa.text("status = 'active'"))
    op.create_table(
        "unit_plan_history",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=True),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_unit_plan_history"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["unit_plans.account_id"], name="fk_unit_plan_history_account_id_unit_plans"
        ),
    )
    op.create_index("ix_unit_plan_history_account_id", "unit_plan_history", ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_unit_plan_history_account_id", "unit_plan_history")
    op.drop_table("unit_plan_history")
    op.drop_index("ix_unit_plans_active", "unit_plans")
    op.drop_table("unit_plans")
