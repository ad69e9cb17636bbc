"""Applying billing's invoices: each issued invoice becomes one goods may be returned against."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from returns.adapters.repository import InvoiceRepository
from returns.domain.invoices import ReturnableInvoice


async def record_invoice(session: AsyncSession, invoice: ReturnableInvoice, now: datetime) -> None:
    """In the delivery's transaction (its inbox row is written there): a redelivery is skipped
    by the inbox, a re-issue of the same invoice replaces the earlier copy."""
    await InvoiceRepository(session).save(invoice, now)
