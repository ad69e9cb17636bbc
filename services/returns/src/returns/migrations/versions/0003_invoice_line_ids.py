"""RMA lines name the invoice line they return (rma_lines.line_id); the stored invoices' lines get
billing's line ids

Billing's revision 0004 gives the lines issued before it the id
md5(invoice_id || '/line/' || position) (positions from 1, in the order of the event's lines);
the same ids are derived here for the copies of those invoices, and for the RMA lines that name
exactly one of their lines by description.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        UPDATE returnable_invoices AS i SET lines = (
            SELECT coalesce(jsonb_agg(
                jsonb_build_object('sku', NULL) || l.line || jsonb_build_object(
                    'line_id', coalesce(l.line->>'line_id', md5(i.invoice_id::text || '/line/' || l.position::text)::uuid::text)
                ) ORDER BY l.position
            ), '[]'::jsonb)
            FROM jsonb_array_elements(i.lines) WITH ORDINALITY AS l(line, position)
        )
        """
    )
    op.add_column("rma_lines", sa.Column("line_id", postgresql.UUID(), nullable=True))
    op.execute(
        """
        UPDATE rma_lines AS rl SET line_id = (
            SELECT (l.line->>'line_id')::uuid
            FROM rmas r
            JOIN returnable_invoices i ON i.number = r.invoice_number
            CROSS JOIN jsonb_array_elements(i.lines) AS l(line)
            WHERE r.id = rl.rma_id AND l.line->>'description' = rl.sku
        )
        WHERE (
            SELECT count(*)
            FROM rmas r
            JOIN returnable_invoices i ON i.number = r.invoice_number
            CROSS JOIN jsonb_array_elements(i.lines) AS l(line)
            WHERE r.id = rl.rma_id AND l.line->>'description' = rl.sku
        ) = 1
        """
    )


def downgrade() -> None:
    op.drop_column("rma_lines", "line_id")
    op.execute(
        """
        UPDATE returnable_invoices AS i SET lines = (
            SELECT coalesce(jsonb_agg((l.line - 'line_id') - 'sku' ORDER BY l.position), '[]'::jsonb)
            FROM jsonb_array_elements(i.lines) WITH ORDINALITY AS l(line, position)
        )
        """
    )
