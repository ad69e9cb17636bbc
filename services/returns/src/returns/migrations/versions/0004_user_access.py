"""Revision 0004 (after 0003): user_access, as portal_runtime.migrations.create_user_access_table makes it."""

from portal_runtime.migrations import create_user_access_table, drop_user_access_table

revision = "0004"
down_revision = "0003"
upgrade = create_user_access_table
downgrade = drop_user_access_table
