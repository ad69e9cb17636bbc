"""Idempotency-Keys in the runtime's `idempotency` table; billing's own `idempotency_keys` goes

Revision ID: 0002
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from portal_runtime.migrations import create_idempotency_table, drop_idempotency_table

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_idempotency_table()
    # The answers already given are carried over (as written: json keeps the text), so a retry
    # that spans the upgrade still replays its first answer.
    op.execute(
        "INSERT INTO idempotency (caller, key, fingerprint, status_code, body, created_at) "
        "SELECT account_id, key, fingerprint, status_code, body::json, created_at FROM idempotency_keys "
        "WHERE status_code > 0"
    )
    op.drop_table("idempotency_keys")


def downgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("invoice_id", postgresql.UUID(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "key", name="pk_idempotency_keys"),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])
    # The old table names the invoice of each key; the new one does not keep it: keys go, as
    # they would within 24 h.
    drop_idempotency_table()
