"""subscriptions become an aggregate: anchor_on (the billing cycle's anchor), activated_on null
while pending, and their history (at, by, from_status, to_status, note)

Existing subscriptions were all activated on payment: their anchor is the day they were
activated, and their history is the two rows an activation records today (opened pending,
activated by billing).

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("subscriptions", sa.Column("anchor_on", sa.Date(), nullable=True))
    op.execute("UPDATE subscriptions SET anchor_on = activated_on")
    op.alter_column("subscriptions", "activated_on", existing_type=sa.Date(), nullable=True)
    op.create_table(
        "subscription_history",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("subscription_id", postgresql.UUID(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("from_status", sa.String(32), nullable=True),
        sa.Column("to_status", sa.String(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_subscription_history"),
        sa.ForeignKeyConstraint(["subscription_id"], ["subscriptions.id"], ondelete="CASCADE",
                                name="fk_subscription_history_subscription_id_subscriptions"),
    )
    op.create_index("ix_subscription_history_subscription_id", "subscription_history", ["subscription_id"])
    op.execute(
        """
        INSERT INTO subscription_history (subscription_id, at, by, from_status, to_status, note)
        SELECT id, created_at, 'billing', step.from_status, step.to_status, NULL
        FROM subscriptions,
             (VALUES (1, NULL, 'pending'), (2, 'pending', 'active')) AS step (n, from_status, to_status)
        ORDER BY created_at, id, step.n
        """
    )


def downgrade() -> None:
    op.drop_table("subscription_history")
    op.execute("UPDATE subscriptions SET activated_on = COALESCE(activated_on, created_at::date)")
    op.alter_column("subscriptions", "activated_on", existing_type=sa.Date(), nullable=False)
    op.drop_column("subscriptions", "anchor_on")
