"""prepaid units (billing.domain.units): unit_wallets (one per account, the balance), unit_ledger
(every movement, numbered per account; a usage id counts once, a purchase is credited once),
unit_packages (billing's copy of catalog's unit packages) and unit_purchases (manual and plan);
invoices.bill_to (whom an invoice is addressed to: a plan's billing contact and address)

Revision ID: 0007_unit_wallets
Revises: 0006_gateway_sandbox
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007_unit_wallets"
down_revision = "0006_gateway_sandbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("invoices", sa.Column("bill_to", postgresql.JSONB(), nullable=True))
    op.create_table(
        "unit_wallets",
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("low_balance_at", sa.BigInteger(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name="pk_unit_wallets"),
        sa.CheckConstraint("last_seq >= 0", name="ck_unit_wallets_last_seq_non_negative"),
        sa.CheckConstraint("low_balance_at >= 0", name="ck_unit_wallets_low_balance_at_non_negative"),
    )
    op.create_table(
        "unit_ledger",
        sa.Column("entry_id", postgresql.UUID(), nullable=False),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("usage_id", sa.String(200), nullable=True),
        sa.Column("used_on", sa.Date(), nullable=True),
        sa.Column("purchase_id", postgresql.UUID(), nullable=True),
        sa.Column("source", sa.String(16), nullable=True),
        sa.Column("invoice_id", postgresql.UUID(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("by", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("entry_id", name="pk_unit_ledger"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["unit_wallets.account_id"], name="fk_unit_ledger_account_id_unit_wallets"
        ),
        sa.UniqueConstraint("account_id", "seq", name="uq_unit_ledger_account_id_seq"),
        sa.CheckConstraint(
            "kind IN ('granted', 'purchased', 'consumed', 'adjusted')", name="ck_unit_ledger_kind_known"
        ),
        sa.CheckConstraint("units <> 0", name="ck_unit_ledger_units_not_zero"),
    )
    op.create_index(
        "uq_unit_ledger_usage",
        "unit_ledger",
        ["account_id", "usage_id"],
        unique=True,
        postgresql_where=sa.text("usage_id IS NOT NULL"),
    )
    op.create_index(
        "uq_unit_ledger_purchase",
        "unit_ledger",
        ["purchase_id"],
        unique=True,
        postgresql_where=sa.text("purchase_id IS NOT NULL"),
    )
    op.create_index("ix_unit_ledger_account_id_kind_at", "unit_ledger", ["account_id", "kind", "at"])
    op.create_table(
        "unit_packages",
        sa.Column("item_id", postgresql.UUID(), nullable=False),
        sa.Column("sku", sa.String(100), nullable=False),
        sa.Column("name", sa.String(400), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("price", sa.Numeric(14, 4), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("item_id", name="pk_unit_packages"),
    )
    op.create_table(
        "unit_purchases",
        sa.Column("purchase_id", postgresql.UUID(), nullable=False),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(200), nullable=True),
        sa.Column("lines", postgresql.JSONB(), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.Numeric(14, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("invoice_id", postgresql.UUID(), nullable=True),
        sa.Column("invoice_number", sa.String(32), nullable=True),
        sa.Column("card_brand", sa.String(16), nullable=True),
        sa.Column("card_last4", sa.String(4), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=True),
        sa.Column("bill_to", postgresql.JSONB(), nullable=True),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("entry_id", postgresql.UUID(), nullable=True),
        sa.Column("balance_after", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("purchase_id", name="pk_unit_purchases"),
        sa.CheckConstraint("source IN ('manual', 'plan')", name="ck_unit_purchases_source_known"),
        sa.CheckConstraint("status IN ('pending', 'completed', 'failed')", name="ck_unit_purchases_status_known"),
    )
    op.create_index("ix_unit_purchases_account_id_created_at", "unit_purchases", ["account_id", "created_at"])
    op.create_index(
        "ix_unit_purchases_pending",
        "unit_purchases",
        ["source", "created_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_table("unit_purchases")
    op.drop_table("unit_packages")
    op.drop_table("unit_ledger")
    op.drop_table("unit_wallets")
    op.drop_column("invoices", "bill_to")
