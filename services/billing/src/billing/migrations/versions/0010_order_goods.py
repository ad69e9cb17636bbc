"""Revision 0010_order_goods (after 0009_user_access).

PLACEHOLDER written by the lead so that revisions can chain; its helper fills it in.

Revision ID: 0010_order_goods
Revises: 0009_user_access
"""

revision = "0010_order_goods"
down_revision = "0009_user_access"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
