"""Revision 0008 (after 0007): orders' copy of catalog's access groups (access_groups), support
requests (with their messages, history and number sequence) and companies' contact details (with
their history).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    op.create_table(
        "access_groups",
        sa.Column("group_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("item_ids", postgresql.ARRAY(sa.UUID()), nullable=False),
        sa.Column("account_ids", postgresql.ARRAY(sa.String(200)), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("group_id", name="pk_access_groups"),
    )
    op.create_index("ix_access_groups_account_ids", "access_groups", ["account_ids"], postgresql_using="gin")
    op.execute("CREATE SEQUENCE support_request_numbers")
    op.create_table(
        "support_requests",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("order_id", sa.UUID(), nullable=True),
        sa.Column("sender_login", sa.String(200), nullable=False),
        sa.Column("sender_name", sa.String(200), nullable=False),
        sa.Column("sender_email", sa.String(320), nullable=False),
        sa.Column("sender_language", sa.String(2), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_support_requests"),
        sa.UniqueConstraint("number", name="uq_support_requests_number"),
    )
    for column in ("account_id", "status", "created_at"):
        op.create_index(f"ix_support_requests_{column}", "support_requests", [column])
    op.create_table(
        "support_messages",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.UUID(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(16), nullable=False),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["support_requests.id"],
            name="fk_support_messages_request_id_support_requests",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_support_messages"),
    )
    op.create_index("ix_support_messages_request_id", "support_messages", ["request_id"])
    op.create_table(
        "support_history",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("from_status", sa.String(32), nullable=True),
        sa.Column("to_status", sa.String(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("request_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["support_requests.id"],
            name="fk_support_history_request_id_support_requests",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_support_history"),
    )
    op.create_index("ix_support_history_request_id", "support_history", ["request_id"])
    op.create_table(
        "companies",
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("details", postgresql.JSONB(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name="pk_companies"),
    )
    op.create_table(
        "company_history",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("details", postgresql.JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_company_history"),
    )
    op.create_index("ix_company_history_account_id", "company_history", ["account_id"])


def downgrade() -> None:
    op.drop_table("company_history")
    op.drop_table("companies")
    op.drop_table("support_history")
    op.drop_table("support_messages")
    op.drop_table("support_requests")
    op.execute("DROP SEQUENCE support_request_numbers")
    op.drop_index("ix_access_groups_account_ids", table_name="access_groups")
    op.drop_table("access_groups")
