"""Revision 0008 (after 0007).

PLACEHOLDER written by the lead so that revisions can chain; its helper fills it in.

Revision ID: 0008
Revises: 0007
"""

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
