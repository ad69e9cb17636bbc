"""the sandbox payment gateway's state in billing's database (billing.adapters.gateway):
gateway_sandbox_charges (one answer per idempotency key, across processes) and
gateway_sandbox_cards (saved cards: token, brand, last4, decline reason; never the number)

Revision ID: 0006_gateway_sandbox
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_gateway_sandbox"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gateway_sandbox_charges",
        sa.Column("idempotency_key", sa.String(300), nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("reference", sa.String(100), nullable=True),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("brand", sa.String(16), nullable=True),
        sa.Column("last4", sa.String(4), nullable=True),
        sa.Column("amount", sa.Numeric(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("charged_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("idempotency_key", name="pk_gateway_sandbox_charges"),
    )
    op.create_index("ix_gateway_sandbox_charges_charged_at", "gateway_sandbox_charges", ["charged_at"])
    op.create_table(
        "gateway_sandbox_cards",
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("brand", sa.String(16), nullable=False),
        sa.Column("last4", sa.String(4), nullable=False),
        sa.Column("decline_reason", sa.String(64), nullable=True),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token", name="pk_gateway_sandbox_cards"),
    )


def downgrade() -> None:
    op.drop_table("gateway_sandbox_cards")
    op.drop_index("ix_gateway_sandbox_charges_charged_at", "gateway_sandbox_charges")
    op.drop_table("gateway_sandbox_charges")
