"""Returns: RMA requests against a customer's invoices, their decision and the goods receipt."""
