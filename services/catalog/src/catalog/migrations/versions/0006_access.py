"""items.attributes (name → value pairs to compare items by; none for existing items), access groups
(their items and accounts) and published documents (their bytes and the groups that may see them).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("items", sa.Column("attributes", postgresql.JSONB(), server_default="[]", nullable=False))
    op.create_table(
        "access_groups",
        sa.Column("id", postgresql.UUID(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_groups")),
    )
    op.create_table(
        "access_group_items",
        sa.Column("group_id", postgresql.UUID(), nullable=False),
        sa.Column("item_id", postgresql.UUID(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["access_groups.id"],
            name=op.f("fk_access_group_items_group_id_access_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_access_group_items_item_id_items")),
        sa.PrimaryKeyConstraint("group_id", "item_id", name=op.f("pk_access_group_items")),
    )
    op.create_index(op.f("ix_access_group_items_item_id"), "access_group_items", ["item_id"])
    op.create_table(
        "access_group_accounts",
        sa.Column("group_id", postgresql.UUID(), nullable=False),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["access_groups.id"],
            name=op.f("fk_access_group_accounts_group_id_access_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", "account_id", name=op.f("pk_access_group_accounts")),
    )
    op.create_index(op.f("ix_access_group_accounts_account_id"), "access_group_accounts", ["account_id"])
    op.create_table(
        "documents",
        sa.Column("id", postgresql.UUID(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
    )
    op.create_index(op.f("ix_documents_created_at"), "documents", ["created_at"])
    op.create_table(
        "document_groups",
        sa.Column("document_id", postgresql.UUID(), nullable=False),
        sa.Column("group_id", postgresql.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_groups_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["access_groups.id"], name=op.f("fk_document_groups_group_id_access_groups")
        ),
        sa.PrimaryKeyConstraint("document_id", "group_id", name=op.f("pk_document_groups")),
    )
    op.create_index(op.f("ix_document_groups_group_id"), "document_groups", ["group_id"])


def downgrade() -> None:
    op.drop_table("document_groups")
    op.drop_table("documents")
    op.drop_table("access_group_accounts")
    op.drop_table("access_group_items")
    op.drop_table("access_groups")
    op.drop_column("items", "attributes")
