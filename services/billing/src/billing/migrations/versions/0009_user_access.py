"""Revision 0009_user_access (after 0008_unit_plans): user_access, as portal_runtime.migrations.create_user_access_table makes it."""

from portal_runtime.migrations import create_user_access_table, drop_user_access_table

revision = "0009_user_access"
down_revision = "0008_unit_plans"
upgrade = create_user_access_table
downgrade = drop_user_access_table
