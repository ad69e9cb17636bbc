"""offered items, account profiles, service requests (lines, history), subscriptions; outbox and inbox

Revision ID: 0001
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from portal_runtime.migrations import create_runtime_tables, drop_runtime_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UUID = postgresql.UUID
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    create_runtime_tables()
    op.create_table(
        "offered_items",
        sa.Column("item_id", UUID(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("sku", sa.String(64), nullable=True),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("price", sa.Numeric(12, 2), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("billing", sa.String(16), nullable=True),
        sa.Column("billing_period_months", sa.Integer(), nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("item_id", name="pk_offered_items"),
    )
    op.create_table(
        "account_profiles",
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("account_id", name="pk_account_profiles"),
    )
    op.create_table(
        "service_requests",
        sa.Column("id", UUID(), nullable=False),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("submitted_at", TS, nullable=True),
        sa.Column("total", sa.Numeric(14, 2), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_service_requests"),
    )
    for column in ("account_id", "status", "submitted_at"):
        op.create_index(f"ix_service_requests_{column}", "service_requests", [column])
    op.create_table(
        "request_lines",
        sa.Column("request_id", UUID(), nullable=False),
        sa.Column("item_id", UUID(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("unit_price", sa.Numeric(12, 2), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("billing", sa.String(16), nullable=True),
        sa.Column("billing_period_months", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("request_id", "item_id", name="pk_request_lines"),
        sa.ForeignKeyConstraint(["request_id"], ["service_requests.id"], ondelete="CASCADE",
                                name="fk_request_lines_request_id_service_requests"),
    )
    op.create_table(
        "request_history",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("request_id", UUID(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("from_status", sa.String(32), nullable=True),
        sa.Column("to_status", sa.String(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_request_history"),
        sa.ForeignKeyConstraint(["request_id"], ["service_requests.id"], ondelete="CASCADE",
                                name="fk_request_history_request_id_service_requests"),
    )
    op.create_index("ix_request_history_request_id", "request_history", ["request_id"])
    op.create_table(
        "subscriptions",
        sa.Column("id", UUID(), nullable=False),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("request_id", UUID(), nullable=False),
        sa.Column("item_id", UUID(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("billing", sa.String(16), nullable=False),
        sa.Column("billing_period_months", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("activated_on", sa.Date(), nullable=False),
        sa.Column("next_due_on", sa.Date(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_subscriptions"),
        sa.ForeignKeyConstraint(["request_id"], ["service_requests.id"],
                                name="fk_subscriptions_request_id_service_requests"),
    )
    op.create_index("ix_subscriptions_account_id", "subscriptions", ["account_id"])
    op.create_index("ix_subscriptions_request_id", "subscriptions", ["request_id"])


def downgrade() -> None:
    for table in ("subscriptions", "request_history", "request_lines", "service_requests",
                  "account_profiles", "offered_items"):
        op.drop_table(table)
    drop_runtime_tables()
