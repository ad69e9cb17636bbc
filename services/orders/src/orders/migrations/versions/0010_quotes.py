"""Revision 0010 (after 0009).

PLACEHOLDER written by the lead so that revisions can chain; its helper fills it in.

Revision ID: 0010
Revises: 0009
"""

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
