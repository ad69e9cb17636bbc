"""Revision 0009 (after 0008).

PLACEHOLDER written by the lead so that revisions can chain; its helper fills it in.

Revision ID: 0009
Revises: 0008
"""

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
