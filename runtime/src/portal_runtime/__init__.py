"""Shared runtime of the portal services. No domain logic lives here."""
