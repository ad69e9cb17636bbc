"""a delivery's trace context: the W3C trace context (traceparent, tracestate) its cause was
handled in, so the email's SMTP span continues the trace of the request that caused it

Nullable: deliveries recorded before have none, and neither has one whose cause came without a
trace; their sending starts a trace of its own.

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
    op.add_column("deliveries", sa.Column("trace_context", postgresql.JSONB(), nullable=True))


def downgrade() -> None:
    op.drop_column("deliveries", "trace_context")
