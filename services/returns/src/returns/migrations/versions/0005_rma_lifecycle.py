"""RMA lifecycle: numbers, problem, resolution, expected date, goods receipts (HR).

RMAs get their number (RMA-YYYY-NNNNNN, a gapless series per year: the existing ones numbered by
the year and order they were requested in), the invoice's id, the problem (for the existing ones
their lines' reasons), resolution and expected completion date (approved ones: a refund, 14 days
after the approval); their lines what was received so far (all of it on those already received). The stored invoices keep what they bill (source kind and
id); shipped_lines keeps what OrderShipped told; goods_receipts the receipts (GR-YYYY-NNNNNN).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("returnable_invoices", sa.Column("source_kind", sa.String(40), nullable=True))
    op.add_column("returnable_invoices", sa.Column("source_id", sa.String(200), nullable=True))
    op.add_column("rmas", sa.Column("number", sa.String(20), nullable=True))
    op.add_column("rmas", sa.Column("invoice_id", postgresql.UUID(), nullable=True))
    op.add_column("rmas", sa.Column("problem", sa.Text(), nullable=True))
    op.add_column("rmas", sa.Column("resolution", sa.String(16), nullable=True))
    op.add_column("rmas", sa.Column("expected_on", sa.Date(), nullable=True))
    op.create_unique_constraint("uq_rmas_number", "rmas", ["number"])
    op.add_column("rma_lines", sa.Column("received", sa.Integer(), nullable=False, server_default="0"))
    op.alter_column("rma_lines", "received", server_default=None)
    op.create_table(
        "number_counters",
        sa.Column("series", sa.String(8), nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("series", "year", name="pk_number_counters"),
    )
    op.create_table(
        "shipped_lines",
        sa.Column("order_id", postgresql.UUID(), nullable=False),
        sa.Column("line_id", postgresql.UUID(), nullable=False),
        sa.Column("shipped", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "line_id", name="pk_shipped_lines"),
    )
    op.create_table(
        "goods_receipts",
        sa.Column("id", postgresql.UUID(), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("rma_id", postgresql.UUID(), nullable=False),
        sa.Column("account_id", sa.String(200), nullable=False),
        sa.Column("lines", postgresql.JSONB(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_goods_receipts"),
        sa.UniqueConstraint("number", name="uq_goods_receipts_number"),
        sa.ForeignKeyConstraint(
            ["rma_id"], ["rmas.id"], name="fk_goods_receipts_rma_id_rmas", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_goods_receipts_rma_id", "goods_receipts", ["rma_id"])
    op.create_index("ix_goods_receipts_account_id", "goods_receipts", ["account_id"])
    # The RMAs there are: numbered, their invoice's id, their problem, what was received.
    op.execute(
        """
        UPDATE rmas SET number = n.number FROM (
            SELECT id, 'RMA-' || to_char(y, 'FM0000') || '-' || to_char(
                row_number() OVER (PARTITION BY y ORDER BY requested_at, id), 'FM000000'
            ) AS number
            FROM (SELECT id, requested_at, extract(year FROM requested_at AT TIME ZONE 'UTC')::int AS y FROM rmas) r
        ) AS n WHERE rmas.id = n.id
        """
    )
    op.execute(
        """
        INSERT INTO number_counters (series, year, last_number)
        SELECT 'RMA', extract(year FROM requested_at AT TIME ZONE 'UTC')::int, count(*) FROM rmas GROUP BY 2
        """
    )
    op.execute("UPDATE rmas SET invoice_id = i.invoice_id FROM returnable_invoices i WHERE i.number = rmas.invoice_number")
    op.execute(
        """
        UPDATE rmas SET problem = (
            SELECT left(string_agg(l.reason, '; ' ORDER BY l.position), 2000) FROM rma_lines l WHERE l.rma_id = rmas.id
        )
        """
    )
    op.execute(
        "UPDATE rma_lines SET received = quantity FROM rmas WHERE rmas.id = rma_lines.rma_id AND rmas.status = 'received'"
    )
    # Approved before resolutions and dates: a refund (what an approval without a body is), expected
    # 14 days (RETURNS_EXPECTED_DAYS' default) after the day of approval.
    op.execute(
        """
        UPDATE rmas SET resolution = 'refund', expected_on = (
            SELECT (max(h.at) AT TIME ZONE 'UTC')::date + 14 FROM rma_history h
            WHERE h.rma_id = rmas.id AND h.to_status = 'approved'
        )
        WHERE status IN ('approved', 'received')
        """
    )


def downgrade() -> None:
    op.drop_table("goods_receipts")
    op.drop_table("shipped_lines")
    op.drop_table("number_counters")
    op.drop_column("rma_lines", "received")
    op.drop_constraint("uq_rmas_number", "rmas", type_="unique")
    for column in ("expected_on", "resolution", "problem", "invoice_id", "number"):
        op.drop_column("rmas", column)
    op.drop_column("returnable_invoices", "source_id")
    op.drop_column("returnable_invoices", "source_kind")
