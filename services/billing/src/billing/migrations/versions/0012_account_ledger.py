"""the account ledger (account_ledger: invoices, payments, account payments, credit notes, refunds,
voids, per account and currency on business dates), account payments (advances, with their
allocations), the numbers of invoiced orders (order_numbers, for the balance by order), account_credits
kinds `advance` and `allocation`; existing invoices, payments, voids,
credit notes and refunds backfilled into the ledger (dated in BUSINESS_TIMEZONE).

Revision ID: 0012_account_ledger
Revises: 0011_returned_goods
"""

import os

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012_account_ledger"
down_revision = "0011_returned_goods"
branch_labels = None
depends_on = None

KINDS = "kind IN ('invoice', 'payment', 'advance_payment', 'credit_note', 'refund', 'void')"


def upgrade() -> None:
    op.create_table(
        "account_ledger",
        sa.Column("id", postgresql.UUID(), nullable=False),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("document_id", postgresql.UUID(), nullable=False),
        sa.Column("document_number", sa.String(200), nullable=True),
        sa.Column("description", sa.String(400), nullable=False),
        sa.Column("debit", sa.Numeric(14, 2), nullable=False),
        sa.Column("credit", sa.Numeric(14, 2), nullable=False),
        sa.Column("source_kind", sa.String(32), nullable=True),
        sa.Column("source_id", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_account_ledger"),
        sa.CheckConstraint("debit >= 0 AND credit >= 0", name="ck_account_ledger_amounts_non_negative"),
        sa.CheckConstraint(KINDS, name="ck_account_ledger_kind_known"),
    )
    op.create_index("uq_account_ledger_document", "account_ledger", ["kind", "document_id"], unique=True)
    op.create_index("ix_account_ledger_account_id_currency_on", "account_ledger", ["account_id", "currency", "on"])
    op.create_table(
        "account_payments",
        sa.Column("id", postgresql.UUID(), nullable=False),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("advance", sa.Numeric(14, 2), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("reference", sa.String(200), nullable=True),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("allocations", postgresql.JSONB(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_account_payments"),
        sa.CheckConstraint("amount > 0", name="ck_account_payments_amount_positive"),
        sa.CheckConstraint("advance >= 0 AND advance <= amount", name="ck_account_payments_advance_within"),
    )
    op.create_index("ix_account_payments_account_id", "account_payments", ["account_id"])
    op.drop_constraint("ck_account_credits_kind_known", "account_credits", type_="check")
    op.create_check_constraint(
        "ck_account_credits_kind_known", "account_credits", "kind IN ('credit_note', 'advance', 'allocation')"
    )
    op.create_table(
        "order_numbers",
        sa.Column("order_id", postgresql.UUID(), nullable=False),
        sa.Column("number", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name="pk_order_numbers"),
    )
    op.execute(
        "INSERT INTO order_numbers (order_id, number) SELECT order_id, number FROM order_cancellations "
        "WHERE number IS NOT NULL ON CONFLICT DO NOTHING"
    )
    _backfill(os.environ.get("BUSINESS_TIMEZONE") or "UTC")


_ON = "(({at}) AT TIME ZONE :tz)::date"
_INSERT = (
    'INSERT INTO account_ledger (id, account_id, currency, "on", at, kind, document_id, document_number, '
    "description, debit, credit, source_kind, source_id) "
)
# What billing recorded before the ledger, as the ledger would have written it (`:tz`: the business's
# time zone); a row there already is kept (`uq_account_ledger_document`).
BACKFILL = [
    # invoices issued: a debit of the total
    _INSERT + "SELECT gen_random_uuid(), account_id, currency, " + _ON.format(at="issued_at") + ", issued_at, "
    "'invoice', id, number, 'Invoice ' || number, total, 0, source_kind, source_id FROM invoices WHERE total > 0",
    # payments that moved money: a credit
    _INSERT + "SELECT gen_random_uuid(), i.account_id, i.currency, " + _ON.format(at="p.paid_at") + ", p.paid_at, "
    "'payment', p.id, i.number, 'Payment (' || replace(p.method, '_', ' ') || ') on invoice ' || i.number, 0, "
    "p.amount, i.source_kind, i.source_id FROM payments p JOIN invoices i ON i.id = p.invoice_id "
    "WHERE p.method <> 'account_credit'",
    # voids: a credit of what was still due (no payment is taken after a void), dated the void
    _INSERT + "SELECT gen_random_uuid(), i.account_id, i.currency, " + _ON.format(at="h.at") + ", h.at, 'void', "
    "i.id, i.number, 'Invoice ' || i.number || ' voided', 0, i.total - i.amount_paid - i.amount_credited, "
    "i.source_kind, i.source_id FROM invoice_history h JOIN invoices i ON i.id = h.invoice_id "
    "WHERE h.to_status = 'voided' AND i.total - i.amount_paid - i.amount_credited > 0",
    # credit notes: a credit of the gross total
    _INSERT + "SELECT gen_random_uuid(), account_id, currency, " + _ON.format(at="issued_at") + ", issued_at, "
    "'credit_note', id, number, 'Credit note ' || number || ' for invoice ' || invoice_number, 0, "
    "total + tax_total, source_kind, source_id FROM credit_notes",
    # refunds: a debit
    _INSERT + "SELECT gen_random_uuid(), n.account_id, r.currency, " + _ON.format(at="r.refunded_at") + ", "
    "r.refunded_at, 'refund', r.id, n.number, 'Refund (' || replace(r.method, '_', ' ') || ') of credit note ' "
    "|| n.number, r.amount, 0, n.source_kind, n.source_id "
    "FROM refunds r JOIN credit_notes n ON n.id = r.credit_note_id",
]


def _backfill(tz: str) -> None:
    for sql in BACKFILL:
        op.execute(sa.text(sql + " ON CONFLICT DO NOTHING").bindparams(tz=tz))


def downgrade() -> None:
    op.drop_constraint("ck_account_credits_kind_known", "account_credits", type_="check")
    op.create_check_constraint("ck_account_credits_kind_known", "account_credits", "kind IN ('credit_note')")
    op.drop_table("order_numbers")
    op.drop_index("ix_account_payments_account_id", table_name="account_payments")
    op.drop_table("account_payments")
    op.drop_index("ix_account_ledger_account_id_currency_on", table_name="account_ledger")
    op.drop_index("uq_account_ledger_document", table_name="account_ledger")
    op.drop_table("account_ledger")
