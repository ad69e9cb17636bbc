"""Revision 0005 (after 0004): user_access, as portal_runtime.migrations.create_user_access_table makes it."""

from portal_runtime.migrations import create_user_access_table, drop_user_access_table

revision = "0005"
down_revision = "0004"
upgrade = create_user_access_table
downgrade = drop_user_access_table
