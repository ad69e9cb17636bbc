"""credit notes for returned goods: invoices.amount_credited (what credit notes took off what an
invoice owes; balance due = total - paid - credited), credit_notes.applied/rma_id/receipt_id/
receipt_number (a credit note's gross = applied + refunded + credited); reconciliation statements
(statements with their history and number series, statement_counters) (HB2).

Revision ID: 0011_returned_goods
Revises: 0010_credit_notes
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011_returned_goods"
down_revision = "0010_credit_notes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "invoices", sa.Column("amount_credited", sa.Numeric(14, 2), server_default=sa.text("0"), nullable=False)
    )
    op.create_check_constraint(
        "ck_invoices_credited_within_total",
        "invoices",
        "amount_credited >= 0 AND amount_paid + amount_credited <= total",
    )
    op.add_column("credit_notes", sa.Column("applied", sa.Numeric(14, 2), server_default=sa.text("0"), nullable=False))
    op.add_column("credit_notes", sa.Column("rma_id", postgresql.UUID(), nullable=True))
    op.add_column("credit_notes", sa.Column("receipt_id", postgresql.UUID(), nullable=True))
    op.add_column("credit_notes", sa.Column("receipt_number", sa.String(32), nullable=True))
    op.drop_constraint("ck_credit_notes_settled_within", "credit_notes", type_="check")
    op.create_check_constraint(
        "ck_credit_notes_settled_within",
        "credit_notes",
        "applied >= 0 AND refunded >= 0 AND credited >= 0 AND applied + refunded + credited = total + tax_total",
    )
    op.drop_constraint("ck_credit_notes_total_positive", "credit_notes", type_="check")
    op.create_check_constraint("ck_credit_notes_total_positive", "credit_notes", "total + tax_total > 0")
    op.create_table(
        "statement_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name="pk_statement_counters"),
        sa.CheckConstraint("last_number >= 0", name="ck_statement_counters_last_number_non_negative"),
    )
    op.create_table(
        "statements",
        sa.Column("id", postgresql.UUID(), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("opening_balance", sa.Numeric(14, 2), nullable=False),
        sa.Column("debits", sa.Numeric(14, 2), nullable=False),
        sa.Column("credits", sa.Numeric(14, 2), nullable=False),
        sa.Column("closing_balance", sa.Numeric(14, 2), nullable=False),
        sa.Column("entries", postgresql.JSONB(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(200), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by", sa.String(200), nullable=True),
        sa.Column("dispute_note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_statements"),
        sa.UniqueConstraint("number", name="uq_statements_number"),
        sa.CheckConstraint("status IN ('open', 'confirmed', 'disputed')", name="ck_statements_status_known"),
        sa.CheckConstraint("period_end >= period_start", name="ck_statements_period_ordered"),
    )
    op.create_index("ix_statements_status", "statements", ["status"])
    op.create_index("ix_statements_account_id_issued_at", "statements", ["account_id", "issued_at"])
    op.create_table(
        "statement_history",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("statement_id", postgresql.UUID(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("from_status", sa.String(32), nullable=True),
        sa.Column("to_status", sa.String(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_statement_history"),
        sa.ForeignKeyConstraint(
            ["statement_id"], ["statements.id"], name="fk_statement_history_statement_id_statements"
        ),
    )
    op.create_index("ix_statement_history_statement_id", "statement_history", ["statement_id"])


def downgrade() -> None:
    for table in ("statement_history", "statements", "statement_counters"):
        op.drop_table(table)
    op.drop_constraint("ck_credit_notes_total_positive", "credit_notes", type_="check")
    op.create_check_constraint("ck_credit_notes_total_positive", "credit_notes", "total > 0")
    op.drop_constraint("ck_credit_notes_settled_within", "credit_notes", type_="check")
    op.create_check_constraint(
        "ck_credit_notes_settled_within",
        "credit_notes",
        "refunded >= 0 AND credited >= 0 AND refunded + credited <= total",
    )
    for column in ("receipt_number", "receipt_id", "rma_id", "applied"):
        op.drop_column("credit_notes", column)
    op.drop_constraint("ck_invoices_credited_within_total", "invoices", type_="check")
    op.drop_column("invoices", "amount_credited")
