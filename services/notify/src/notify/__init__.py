"""Notify: tells customers by email what happened to their requests and invoices, in their language."""
