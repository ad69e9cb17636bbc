"""job_runs (scheduled jobs' runs, one per job and date) and test_clock (the test clock's offset)

Revision ID: 0003
Revises: 0002
"""
from portal_runtime.migrations import create_job_tables, drop_job_tables

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_job_tables()


def downgrade() -> None:
    drop_job_tables()
