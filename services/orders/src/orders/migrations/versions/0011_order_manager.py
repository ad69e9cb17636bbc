"""Revision 0011 (after 0010): shipments, payment terms, order notes (placeholder; filled in by the part that builds it).

Revision ID: 0011
Revises: 0010
"""

revision = "0011"
down_revision = "0010"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
