"""Revision 0003 (after 0002): job_runs and test_clock, as portal_runtime.migrations.create_job_tables makes them."""

from portal_runtime.migrations import create_job_tables, drop_job_tables

revision = "0003"
down_revision = "0002"
upgrade = create_job_tables
downgrade = drop_job_tables
