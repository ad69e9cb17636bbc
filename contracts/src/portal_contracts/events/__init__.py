"""Importing this package registers every event."""

from portal_contracts.events import billing, catalog, channels, notify, orders, returns, usage

__all__ = ["billing", "catalog", "channels", "notify", "orders", "returns", "usage"]
