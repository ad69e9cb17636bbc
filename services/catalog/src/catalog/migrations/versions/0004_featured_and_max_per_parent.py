"""items.max_per_parent (how many of an add-on one parent service may have; NULL: no limit, and
none for other kinds) and items.featured (a text per language while an admin features the item)

Existing add-ons may be added once per parent, as before the limit could be set; no item is featured.

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


def upgrade() -> None:
    op.add_column("items", sa.Column("max_per_parent", sa.Integer(), nullable=True))
    op.add_column("items", sa.Column("featured", postgresql.JSONB(), nullable=True))
    op.execute("UPDATE items SET max_per_parent = 1 WHERE kind = 'add_on'")


def downgrade() -> None:
    op.drop_column("items", "featured")
    op.drop_column("items", "max_per_parent")
