"""Importing this package registers every event."""

from portal_contracts.events import billing, catalog, notify, orders, returns, usage

__all__ = ["billing", "catalog", "notify", "orders", "returns", "usage"]
