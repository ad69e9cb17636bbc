"""Applying billing's invoices: each issued invoice becomes one goods may be returned against."""

from __future__ import annotations

from portal_runtime.uow import UnitsOfWork
from returns.domain.invoices import ReturnableInvoice


class ReturnableInvoices:
    def __init__(self, uow: UnitsOfWork) -> None:
        self.uow = uow

    async def record(self, invoice: ReturnableInvoice) -> None:
        """Called by the InvoiceIssued handler, it joins the consumer's unit of work (its inbox row
        is written there): a redelivery is skipped by the inbox, a re-issue of the same invoice
        replaces the earlier copy."""
        async with self.uow() as uow:
            uow.invoices.add(invoice)
            await uow.commit()
