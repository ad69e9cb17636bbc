"""the customer's documents (HO): one row per document issued to an account (quote, goods issue,
invoice, tax invoice, goods receipt, credit note, reconciliation statement), id = uuid5(kind, source).

Revision ID: 0014
Revises: 0013
"""

import uuid
from decimal import Decimal

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None
NAMESPACE = uuid.UUID("5d0c1f7e-6f1a-4c57-9a51-0d2b6c0e1f16")  # orders.service.documents.NAMESPACE


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", postgresql.UUID(), nullable=False),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("number", sa.String(64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("body", postgresql.JSONB(), nullable=False),
        sa.Column("source_id", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_documents"),
    )
    op.create_index("ix_documents_account_issued", "documents", ["account_id", "issued_at"])
    _backfill_invoices()


def _backfill_invoices() -> None:
    """The invoices orders already keeps (invoice_documents: InvoiceIssued v2's data) become documents,
    with a tax invoice beside each that has a taxed line, as the consumer writes them."""
    documents = sa.table(
        "documents",
        *(sa.column(c) for c in ("id", "account_id", "kind", "number", "issued_at", "title", "amount", "currency")),
        sa.column("body", postgresql.JSONB()),
        sa.column("source_id"),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT invoice_id, number, status, payload, issued_at FROM invoice_documents"))
    values = []
    for invoice_id, number, status, payload, issued_at in rows:
        body = dict(payload, voided=True) if status == "voided" else dict(payload)
        total = payload.get("total") or {}
        kinds = [("invoice", "Invoice")]
        if any(Decimal(str(line.get("tax_rate") or "0")) > 0 for line in payload.get("lines", [])):
            kinds.append(("tax_invoice", "Tax invoice"))
        for kind, title in kinds:
            values.append(
                {
                    "id": uuid.uuid5(NAMESPACE, f"{kind}:{invoice_id}"),
                    "account_id": payload["account_id"],
                    "kind": kind,
                    "number": number,
                    "issued_at": issued_at,
                    "title": f"{title} {number}",
                    "amount": total.get("amount"),
                    "currency": total.get("currency"),
                    "body": body,
                    "source_id": str(invoice_id),
                }
            )
    if values:
        op.bulk_insert(documents, values)


def downgrade() -> None:
    op.drop_index("ix_documents_account_issued", table_name="documents")
    op.drop_table("documents")
