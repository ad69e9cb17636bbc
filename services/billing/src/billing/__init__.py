"""Billing: invoices for approved requests, their payment instructions and payments."""
