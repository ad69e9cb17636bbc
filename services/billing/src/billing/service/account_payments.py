"""Account payments (advances): money an account paid that is not for one invoice, recorded by the
business. It pays the account's open invoices in its currency, oldest due first (then issued first,
then by number), each part a payment on the invoice (method `account_credit`, with the events any
payment has: PaymentReceived, and InvoicePaid → PaymentConfirmed when it pays what is due); what is
left stays on the account as credit (`account_credits`, kind `advance`), spent by its next invoices.
The ledger counts the whole amount once, on the day it was received.

One unit of work: the Idempotency-Key claimed, the account's credit and its open invoices locked
(FOR UPDATE, in number order), so two account payments at once never allocate one balance twice."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, tzinfo
from decimal import Decimal

from billing.domain.credit_notes import CreditEntry
from billing.domain.invoices import SourceKind
from billing.domain.ledger import AccountPayment, Allocation, LedgerEntry, allocate
from billing.service.ledger import allocation_entry, credit_payment
from portal_runtime.auth import Principal
from portal_runtime.clock import Clock, business_date
from portal_runtime.idempotency import Answer
from portal_runtime.uow import UnitsOfWork


@dataclass(frozen=True)
class ReceiveAccountPayment:
    account_id: str
    amount: Decimal
    currency: str
    method: str
    reference: str | None = None
    received_on: date | None = None

    def fingerprint(self) -> str:
        canonical = {
            "operation": "account_payment",
            "account_id": self.account_id,
            "amount": format(self.amount.normalize(), "f"),
            "currency": self.currency,
            "method": self.method,
            "reference": self.reference,
            "received_on": None if self.received_on is None else self.received_on.isoformat(),
        }
        return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


# Turns the recorded payment into the HTTP answer (status, JSON body) kept for replays.
RenderAccountPayment = Callable[[AccountPayment], Answer]


class AccountPaymentsService:
    def __init__(self, uow: UnitsOfWork, clock: Clock, tz: tzinfo) -> None:
        self.uow = uow
        self.clock = clock
        self.tz = tz

    async def receive(
        self, cmd: ReceiveAccountPayment, *, caller: Principal, idempotency_key: str, render: RenderAccountPayment
    ) -> Answer:
        now = self.clock.now()
        async with self.uow() as uow:
            replayed = await uow.idempotency.claim(caller.account_id, idempotency_key, cmd.fingerprint())
            if replayed is not None:
                return replayed
            payment = AccountPayment.receive(
                account_id=cmd.account_id,
                currency=cmd.currency,
                amount=cmd.amount,
                method=cmd.method,
                reference=cmd.reference,
                received_on=cmd.received_on,
                today=business_date(now, self.tz),
                now=now,
                by=caller.actor,
            )
            await self.apply(uow, payment)
            answer = await uow.idempotency.store(caller.account_id, idempotency_key, render(payment))
            await uow.commit()
        return answer

    async def apply(self, uow, payment: AccountPayment) -> AccountPayment:
        """Allocate `payment` in the caller's unit of work (which commits): the ledger's credit, the
        account credit it adds, the payments on the invoices it pays and what they take back of it."""
        account, currency = payment.account_id, payment.currency
        await uow.ledger.lock_credit(account, currency)
        ids = await uow.ledger.open_invoice_ids(account, currency, exclude_kinds=(SourceKind.UNIT_TOP_UP.value,))
        invoices = [await uow.invoices.get(i, for_update=True) for i in ids]
        await uow.ledger.add(LedgerEntry.of_account_payment(payment, self.tz))
        await uow.account_credits.add(
            CreditEntry(
                id=uuid.uuid4(),
                account_id=account,
                currency=currency,
                amount=payment.amount,
                kind="advance",
                at=payment.recorded_at,
            )
        )
        reference = f"account payment {payment.id}" + (f" ({payment.reference})" if payment.reference else "")
        for invoice, part in allocate(payment.amount, invoices):
            paid = credit_payment(invoice, part, reference=reference, clock=self.clock)
            invoice.record_payment(paid, now=self.clock.now())
            await uow.account_credits.add(allocation_entry(invoice, part, clock=self.clock))
            payment.allocations.append(Allocation(invoice.id, invoice.number, part, paid.id))
        await uow.account_payments.add(payment)
        return payment
