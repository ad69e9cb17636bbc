"""Catalog: what the business offers, at what price."""
