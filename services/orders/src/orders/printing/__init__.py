"""Printed documents of orders: the invoice PDF (`orders.printing.invoice`)."""
