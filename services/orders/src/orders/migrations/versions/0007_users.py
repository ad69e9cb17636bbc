"""Revision 0007 (after 0006): a customer account's users, their set-password links and login failures.

PLACEHOLDER written by the lead so that later revisions can chain; the users helper fills it in.

Revision ID: 0007
Revises: 0006
"""

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
