"""confirmed addresses: a recipient's confirmed email (nullable) and the confirmation asked for;
a delivery's secret (a confirmation email's token until it is sent)

An address already held is kept as confirmed (`confirmed_at` stays NULL, which says "taken
before addresses were confirmed"): it has been receiving the account's emails, and holding them
back now would stop every existing account's mail at once. Every change from now on is
confirmed. Downgrading forgets the confirmations: accounts that never confirmed an address are
dropped (the old schema needs an address), and their waiting emails wait for their recipient.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_CONFIRMATION = [
    sa.Column("confirmation_email", sa.String(320), nullable=True),
    sa.Column("confirmation_token_hash", sa.String(64), nullable=True),
    sa.Column("confirmation_requested_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("confirmation_expires_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("confirmation_confirmed_at", sa.DateTime(timezone=True), nullable=True),
]


def upgrade() -> None:
    op.alter_column("recipients", "email", existing_type=sa.String(320), nullable=True)
    op.add_column("recipients", sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
    for column in _CONFIRMATION:
        op.add_column("recipients", column)
    op.create_unique_constraint(
        "uq_recipients_confirmation_token_hash", "recipients", ["confirmation_token_hash"]
    )
    op.add_column("deliveries", sa.Column("secret", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("deliveries", "secret")
    op.execute("UPDATE deliveries SET status = 'waiting_for_recipient' WHERE status = 'awaiting_confirmation'")
    op.execute("DELETE FROM recipients WHERE email IS NULL")
    op.drop_constraint("uq_recipients_confirmation_token_hash", "recipients", type_="unique")
    for column in reversed(_CONFIRMATION):
        op.drop_column("recipients", column.name)
    op.drop_column("recipients", "confirmed_at")
    op.alter_column("recipients", "email", existing_type=sa.String(320), nullable=False)
