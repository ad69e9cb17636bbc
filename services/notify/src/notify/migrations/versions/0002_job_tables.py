"""job_runs (scheduled jobs' runs, one per job and date) and test_clock (the test clock's offset)

Revision ID: 0002
Revises: 0001
"""
from portal_runtime.migrations import create_job_tables, drop_job_tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_job_tables()


def downgrade() -> None:
    drop_job_tables()
