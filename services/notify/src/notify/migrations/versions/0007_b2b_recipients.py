"""users as recipients: notify's copy of each customer-account user (from orders.users: login, name,
the address and language it hears from us in), the address it proved (the invitation's link, or a
confirmation token) and the confirmation asked for after a change; a delivery's dedup key (one
"order received" per order, whichever OrderPlaced version says it) and the address a user's email
waits to see confirmed.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("user_id", UUID, primary_key=True),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("login", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_email", sa.String(320), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmation_email", sa.String(320), nullable=True),
        sa.Column("confirmation_token_hash", sa.String(64), nullable=True),
        sa.Column("confirmation_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmation_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmation_confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("confirmation_token_hash", name="uq_users_confirmation_token_hash"),
    )
    op.create_index("ix_users_account_login", "users", ["account_id", "login"])
    op.add_column("deliveries", sa.Column("dedup_key", sa.String(200), nullable=True))
    op.add_column("deliveries", sa.Column("pending_address", sa.String(320), nullable=True))
    op.create_unique_constraint("uq_deliveries_dedup_key_audience", "deliveries", ["dedup_key", "audience"])


def downgrade() -> None:
    op.execute("DELETE FROM deliveries WHERE audience = 'user'")
    op.drop_constraint("uq_deliveries_dedup_key_audience", "deliveries", type_="unique")
    op.drop_column("deliveries", "pending_address")
    op.drop_column("deliveries", "dedup_key")
    op.drop_index("ix_users_account_login", table_name="users")
    op.drop_table("users")
