"""Returned goods credited (`billing.domain.returned_goods`): a goods receipt of a return whose
resolution is refund or credit becomes one credit note, once per receipt however often it is told
(found by its cause; the invoice row is locked while it is credited, so two receipts of one invoice
at once never credit a line twice). The credit note takes first what the invoice still owes (which
may settle it: paid, InvoicePaid → PaymentConfirmed), and refunds or credits the rest to the
account, in the same transaction as its ledger rows."""

from __future__ import annotations

import logging

from billing.domain.credit_notes import CreditNote, Reason, credit_note_number
from billing.domain.returned_goods import ReceivedGoods, credit_lines, for_returned_goods, worth_a_note
from portal_runtime.clock import Clock
from portal_runtime.uow import UnitsOfWork

log = logging.getLogger(__name__)


class ReturnedGoods:
    def __init__(self, uow: UnitsOfWork, clock: Clock) -> None:
        self.uow = uow
        self.clock = clock

    async def receive(self, goods: ReceivedGoods) -> CreditNote | None:
        """The credit note of the receipt (None when it credits nothing, or was credited before)."""
        if goods.settlement is None:
            log.info("goods receipt %s (%s): nothing to credit", goods.receipt_number, goods.resolution)
            return None
        cause = str(goods.receipt_id)
        async with self.uow() as uow:
            if await uow.credit_notes.for_cause(Reason.RETURNED_GOODS, cause) is not None:
                return None
            invoice_id = goods.invoice_id or await uow.credit_notes.invoice_id_of(goods.invoice_number)
            invoice = None if invoice_id is None else await uow.invoices.get(invoice_id, for_update=True)
            if invoice is None or invoice.account_id != goods.account_id:
                log.error(
                    "goods receipt %s names invoice %s, which account %s does not have: not credited",
                    goods.receipt_number,
                    goods.invoice_number,
                    goods.account_id,
                )
                return None
            if await uow.credit_notes.for_cause(Reason.RETURNED_GOODS, cause) is not None:
                return None  # credited while we waited for the invoice's lock
            credited = await uow.credit_notes.credited_lines(invoice.id)
            if not worth_a_note(credit_lines(invoice, goods, credited)):  # before a number is taken
                log.error("goods receipt %s: nothing left to credit on %s", goods.receipt_number, invoice.number)
                return None
            now = self.clock.now()
            note = for_returned_goods(
                invoice,
                goods,
                number=credit_note_number(now.year, await uow.credit_notes.next_sequence(now.year)),
                credited=credited,
                returned=await uow.credit_notes.returned_by_payment(invoice.id),
                now=now,
            )
            uow.credit_notes.add(note)
            await uow.commit()
            log.info(
                "goods receipt %s credited by %s: %s %s (applied %s, refunded %s, credited %s)",
                goods.receipt_number,
                note.number,
                note.gross,
                note.currency,
                note.applied,
                note.refunded,
                note.credited,
            )
        return note
