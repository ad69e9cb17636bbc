"""Revision 0012 (after 0011): order messages and the copy of orders' invoices for printing (placeholder; filled in by the part that builds it).

Revision ID: 0012
Revises: 0011
"""

revision = "0012"
down_revision = "0011"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
