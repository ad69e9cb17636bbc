"""Revision 0002 (after 0001): job_runs and test_clock, as portal_runtime.migrations.create_job_tables makes them."""

from portal_runtime.migrations import create_job_tables, drop_job_tables

revision = "0002"
down_revision = "0001"
upgrade = create_job_tables
downgrade = drop_job_tables
