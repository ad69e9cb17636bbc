"""credit notes (billing.domain.credit_notes): credit_notes (one per reason and cause) with their
lines, refunds and their own number series (credit_note_counters), the accounts' credit ledger
(account_credits); order_cancellations gains the order manager's number, note, settlement and
cancelled_by

Revision ID: 0010_credit_notes
Revises: 0009_user_access
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010_credit_notes"
down_revision = "0009_user_access"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("order_cancellations", sa.Column("number", sa.String(64), nullable=True))
    op.add_column("order_cancellations", sa.Column("note", sa.Text(), nullable=True))
    op.add_column("order_cancellations", sa.Column("settlement", sa.String(16), nullable=True))
    op.add_column("order_cancellations", sa.Column("cancelled_by", sa.String(200), nullable=True))
    op.create_table(
        "credit_note_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name="pk_credit_note_counters"),
        sa.CheckConstraint("last_number >= 0", name="ck_credit_note_counters_last_number_non_negative"),
    )
    op.create_table(
        "credit_notes",
        sa.Column("id", postgresql.UUID(), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("invoice_id", postgresql.UUID(), nullable=False),
        sa.Column("invoice_number", sa.String(32), nullable=False),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("source_kind", sa.String(32), nullable=False),
        sa.Column("source_id", sa.String(200), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total", sa.Numeric(14, 2), nullable=False),
        sa.Column("tax_total", sa.Numeric(14, 2), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("cause_id", sa.String(200), nullable=False),
        sa.Column("settlement", sa.String(16), nullable=False),
        sa.Column("refunded", sa.Numeric(14, 2), nullable=False),
        sa.Column("credited", sa.Numeric(14, 2), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_credit_notes"),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"], name="fk_credit_notes_invoice_id_invoices"),
        sa.UniqueConstraint("number", name="uq_credit_notes_number"),
        sa.UniqueConstraint("reason", "cause_id", name="uq_credit_notes_reason"),
        sa.CheckConstraint("total > 0", name="ck_credit_notes_total_positive"),
        sa.CheckConstraint(
            "refunded >= 0 AND credited >= 0 AND refunded + credited <= total", name="ck_credit_notes_settled_within"
        ),
        sa.CheckConstraint("settlement IN ('refund', 'credit')", name="ck_credit_notes_settlement_known"),
    )
    op.create_index("ix_credit_notes_invoice_id", "credit_notes", ["invoice_id"])
    op.create_index("ix_credit_notes_account_id", "credit_notes", ["account_id"])
    op.create_index("ix_credit_notes_source", "credit_notes", ["source_kind", "source_id"])
    op.create_table(
        "credit_note_lines",
        sa.Column("credit_note_id", postgresql.UUID(), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("line_id", postgresql.UUID(), nullable=False),
        sa.Column("invoice_line_id", postgresql.UUID(), nullable=True),
        sa.Column("description", sa.String(400), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Numeric(14, 4), nullable=False),
        sa.Column("line_total", sa.Numeric(14, 2), nullable=False),
        sa.Column("tax_rate", sa.Numeric(7, 6), nullable=False),
        sa.Column("tax", sa.Numeric(14, 2), nullable=False),
        sa.PrimaryKeyConstraint("credit_note_id", "position", name="pk_credit_note_lines"),
        sa.ForeignKeyConstraint(
            ["credit_note_id"], ["credit_notes.id"], name="fk_credit_note_lines_credit_note_id_credit_notes"
        ),
        sa.UniqueConstraint("line_id", name="uq_credit_note_lines_line_id"),
        sa.CheckConstraint("quantity >= 1", name="ck_credit_note_lines_quantity_positive"),
    )
    op.create_index("ix_credit_note_lines_invoice_line_id", "credit_note_lines", ["invoice_line_id"])
    op.create_table(
        "refunds",
        sa.Column("id", postgresql.UUID(), nullable=False),
        sa.Column("credit_note_id", postgresql.UUID(), nullable=False),
        sa.Column("payment_id", postgresql.UUID(), nullable=True),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("payer_reference", sa.String(200), nullable=False),
        sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_refunds"),
        sa.ForeignKeyConstraint(["credit_note_id"], ["credit_notes.id"], name="fk_refunds_credit_note_id_credit_notes"),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"], name="fk_refunds_payment_id_payments"),
        sa.CheckConstraint("amount > 0", name="ck_refunds_amount_positive"),
    )
    op.create_index("ix_refunds_credit_note_id", "refunds", ["credit_note_id"])
    op.create_table(
        "account_credits",
        sa.Column("id", postgresql.UUID(), nullable=False),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("credit_note_id", postgresql.UUID(), nullable=True),
        sa.Column("invoice_id", postgresql.UUID(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_account_credits"),
        sa.ForeignKeyConstraint(
            ["credit_note_id"], ["credit_notes.id"], name="fk_account_credits_credit_note_id_credit_notes"
        ),
        sa.CheckConstraint("amount <> 0", name="ck_account_credits_amount_not_zero"),
        sa.CheckConstraint("kind IN ('credit_note')", name="ck_account_credits_kind_known"),
    )
    op.create_index("ix_account_credits_account_id_currency", "account_credits", ["account_id", "currency"])
    op.create_index(
        "uq_account_credits_note",
        "account_credits",
        ["credit_note_id"],
        unique=True,
        postgresql_where=sa.text("kind = 'credit_note'"),
    )


def downgrade() -> None:
    for table in ("account_credits", "refunds", "credit_note_lines", "credit_notes", "credit_note_counters"):
        op.drop_table(table)
    for column in ("cancelled_by", "settlement", "note", "number"):
        op.drop_column("order_cancellations", column)
