"""Revision 0010 (after 0009): credit notes (placeholder; filled in by the part that builds it).

Revision ID: 0010_credit_notes
Revises: 0009_user_access
"""

revision = "0010_credit_notes"
down_revision = "0009_user_access"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
