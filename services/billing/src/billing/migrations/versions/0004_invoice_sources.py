"""invoices name their source (kind, id, optional billing period) instead of a unique request_id;
invoice lines get a line id, SKU and tax; payment_reservations (amounts held while a payment's
money moves outside the transaction that locks the invoice)

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("invoices", sa.Column("source_kind", sa.String(32), nullable=True))
    op.add_column("invoices", sa.Column("source_id", sa.String(200), nullable=True))
    op.add_column("invoices", sa.Column("period_start", sa.Date(), nullable=True))
    op.add_column("invoices", sa.Column("period_end", sa.Date(), nullable=True))
    # Every invoice so far was a service request's (one without a request is its own source).
    op.execute(
        "UPDATE invoices SET source_kind = 'service_request', source_id = request_id::text WHERE request_id IS NOT NULL"
    )
    op.execute("UPDATE invoices SET source_kind = 'unknown', source_id = id::text WHERE request_id IS NULL")
    op.alter_column("invoices", "source_kind", nullable=False)
    op.alter_column("invoices", "source_id", nullable=False)
    op.create_check_constraint("ck_invoices_period_whole", "invoices", "(period_start IS NULL) = (period_end IS NULL)")
    op.create_index(
        "uq_invoices_source",
        "invoices",
        ["source_kind", "source_id", "period_start", "period_end"],
        unique=True,
        postgresql_nulls_not_distinct=True,
    )
    op.drop_constraint("uq_invoices_request_id", "invoices", type_="unique")
    # request_id stays readable, derived from the source (no longer unique, never written).
    op.drop_column("invoices", "request_id")
    op.add_column(
        "invoices",
        sa.Column(
            "request_id",
            postgresql.UUID(),
            sa.Computed("CASE WHEN source_kind = 'service_request' THEN source_id::uuid END", persisted=True),
            nullable=True,
        ),
    )

    op.add_column("invoice_lines", sa.Column("line_id", postgresql.UUID(), nullable=True))
    op.add_column("invoice_lines", sa.Column("sku", sa.String(100), nullable=True))
    op.add_column("invoice_lines", sa.Column("tax_rate", sa.Numeric(7, 6), nullable=False, server_default="0"))
    op.add_column("invoice_lines", sa.Column("tax_amount", sa.Numeric(14, 2), nullable=False, server_default="0"))
    # Ids of the lines issued so far: derived from invoice and position, so that returns (whose
    # revision 0003 derives them alike for its copies of these invoices) knows the same ids.
    op.execute("UPDATE invoice_lines SET line_id = md5(invoice_id::text || '/line/' || position::text)::uuid")
    op.alter_column("invoice_lines", "line_id", nullable=False)
    op.alter_column("invoice_lines", "tax_rate", server_default=None)
    op.alter_column("invoice_lines", "tax_amount", server_default=None)
    op.create_unique_constraint("uq_invoice_lines_line_id", "invoice_lines", ["line_id"])

    op.create_table(
        "payment_reservations",
        sa.Column("id", postgresql.UUID(), nullable=False),
        sa.Column("invoice_id", postgresql.UUID(), nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("reserved_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_payment_reservations"),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name="fk_payment_reservations_invoice_id_invoices"
        ),
        sa.CheckConstraint("amount > 0", name="ck_payment_reservations_amount_positive"),
    )
    op.create_index("ix_payment_reservations_invoice_id", "payment_reservations", ["invoice_id"])


def downgrade() -> None:
    op.drop_table("payment_reservations")
    op.drop_constraint("uq_invoice_lines_line_id", "invoice_lines", type_="unique")
    for column in ("tax_amount", "tax_rate", "sku", "line_id"):
        op.drop_column("invoice_lines", column)
    op.drop_column("invoices", "request_id")
    op.add_column("invoices", sa.Column("request_id", postgresql.UUID(), nullable=True))
    op.execute("UPDATE invoices SET request_id = source_id::uuid WHERE source_kind = 'service_request'")
    # Only service requests' invoices keep a request; two invoices of one request (periods) cannot go back.
    op.create_unique_constraint("uq_invoices_request_id", "invoices", ["request_id"])
    op.drop_index("uq_invoices_source", "invoices")
    op.drop_constraint("ck_invoices_period_whole", "invoices", type_="check")
    for column in ("period_end", "period_start", "source_id", "source_kind"):
        op.drop_column("invoices", column)
