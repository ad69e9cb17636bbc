"""The account's credit spent on its next invoices: an order's or an approved service request's
invoice, issued while the account has credit in its currency, is paid from it at once (up to what
it owes; a payment of method `account_credit`, which the ledger does not count again: the money was
counted when it came in), so it counts as paid as any payment would make it (InvoicePaid →
PaymentConfirmed; a suspended service reactivates). A unit package's invoice (paid by its card) is
not touched. The credit is locked while it is spent: two invoices at once never take it twice."""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal

from billing.domain.credit_notes import CreditEntry
from billing.domain.invoices import LIFECYCLE, Invoice, Payment
from billing.domain.ledger import ACCOUNT_CREDIT, SPENDS_CREDIT
from portal_runtime.clock import Clock

log = logging.getLogger(__name__)

ZERO = Decimal(0)
SPENT_BY = "system/billing"


def credit_payment(invoice: Invoice, amount: Decimal, *, reference: str, clock: Clock) -> Payment:
    """A payment on `invoice` taken from the account's credit."""
    return Payment(
        id=uuid.uuid4(),
        method=ACCOUNT_CREDIT,
        amount=amount,
        currency=invoice.currency,
        payer_reference=reference[:200],
        paid_at=clock.now(),
        recorded_by=SPENT_BY,
    )


def allocation_entry(invoice: Invoice, amount: Decimal, *, clock: Clock) -> CreditEntry:
    """What paying `invoice` from the account's credit takes from it."""
    return CreditEntry(
        id=uuid.uuid4(),
        account_id=invoice.account_id,
        currency=invoice.currency,
        amount=-amount,
        kind="allocation",
        at=clock.now(),
        invoice_id=invoice.id,
    )


async def spend_credit(uow, invoice: Invoice, clock: Clock) -> Decimal:
    """Pay a newly issued `invoice` from the account's credit in its currency, as far as it goes
    (what was spent; 0 when none was). Only invoices of an order or a service request that still
    take a payment."""
    if str(invoice.source.kind) not in SPENDS_CREDIT or not LIFECYCLE.allows(invoice.status, "pay"):
        return ZERO
    if invoice.payable <= 0:
        return ZERO
    await uow.ledger.lock_credit(invoice.account_id, invoice.currency)
    available = await uow.ledger.credit_of(invoice.account_id, invoice.currency)
    amount = min(available, invoice.payable)
    if amount <= 0:
        return ZERO
    invoice.record_payment(credit_payment(invoice, amount, reference="account credit", clock=clock), now=clock.now())
    await uow.account_credits.add(allocation_entry(invoice, amount, clock=clock))
    log.info("invoice %s paid %s %s from the account's credit", invoice.number, amount, invoice.currency)
    return amount
