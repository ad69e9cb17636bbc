"""Revision 0007 (after 0006).

PLACEHOLDER written by the lead so that revisions can chain; its helper fills it in.

Revision ID: 0007
Revises: 0006
"""

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
