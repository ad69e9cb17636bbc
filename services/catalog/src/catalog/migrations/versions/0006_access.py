"""Revision 0006 (after 0005).

PLACEHOLDER written by the lead so that revisions can chain; its helper fills it in.

Revision ID: 0006
Revises: 0005
"""

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
