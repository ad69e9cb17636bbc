"""Orders' copy of each order's invoice, for printing (called by the consumers of billing's events:
each joins the consumer's unit of work, the inbox row included).

InvoiceIssued v2 of an order (source_kind order or renewal, an order orders knows) keeps the
event's data as the invoice's document; InvoiceVoided marks it voided; PaymentReceived and
PaymentConfirmed keep what is paid on it so far. An event seen again changes nothing, and an older
payment figure arriving late neither."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from decimal import Decimal

from orders.adapters.message_repository import InvoiceDocuments
from orders.service.fulfilment import ORDER_SOURCES
from portal_runtime.uow import UnitsOfWork

log = logging.getLogger(__name__)


class InvoiceDocumentService:
    def __init__(self, uow: UnitsOfWork) -> None:
        self.uow = uow

    async def issued(
        self,
        *,
        invoice_id: uuid.UUID,
        number: str,
        source_kind: str,
        source_id: str,
        payload: dict,
        issued_at: datetime,
    ) -> bool:
        """Keep the invoice's document; False when it is no order's of ours or kept already."""
        if source_kind not in ORDER_SOURCES:
            return False
        async with self.uow() as uow:
            order = await uow.orders.get(uuid.UUID(source_id))
            if order is None:
                return False
            kept = await InvoiceDocuments(uow).issued(
                invoice_id=invoice_id, order_id=order.id, number=number, payload=payload, issued_at=issued_at
            )
            await uow.commit()
        return kept

    async def voided(self, invoice_id: uuid.UUID) -> bool:
        async with self.uow() as uow:
            done = await InvoiceDocuments(uow).voided(invoice_id)
            await uow.commit()
        return done

    async def paid(self, invoice_id: uuid.UUID, amount_paid: Decimal) -> bool:
        async with self.uow() as uow:
            done = await InvoiceDocuments(uow).paid(invoice_id, amount_paid)
            await uow.commit()
        return done

    async def credited(self, invoice_id: uuid.UUID, credit_note_id: uuid.UUID, applied: Decimal) -> bool:
        """What a credit note took off the invoice (a return's credit lowers its balance due)."""
        async with self.uow() as uow:
            done = await InvoiceDocuments(uow).credited(invoice_id, credit_note_id, applied)
            await uow.commit()
        return done
