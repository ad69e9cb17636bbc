"""Use cases of billing: one unit of work each; the state and its events commit together."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from billing.adapters.gateway import GatewayResult, PaymentGateway
from billing.domain.instructions import Payee, instructions_for
from billing.domain.invoices import Invoice, InvoiceSummary, Line, Payment, Status, invoice_number
from billing.domain.payments import PaymentRequest, check_method, fingerprint
from portal_runtime.auth import Principal
from portal_runtime.clock import Clock
from portal_runtime.errors import NotFound
from portal_runtime.idempotency import Answer
from portal_runtime.paging import PageRequest, Slice
from portal_runtime.uow import UnitsOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IssueInvoice:
    request_id: uuid.UUID
    account_id: str
    currency: str
    lines: list[Line]
    expected_total: Decimal


@dataclass(frozen=True)
class PaymentApproved:
    invoice: Invoice
    payment: Payment


@dataclass(frozen=True)
class PaymentDeclined:
    invoice: Invoice
    method: str
    reason: str


# Turns the outcome of a payment into the HTTP answer (status, JSON body) kept for replays.
Render = Callable[[PaymentApproved | PaymentDeclined], Answer]


class BillingService:
    def __init__(self, uow: UnitsOfWork, clock: Clock, gateway: PaymentGateway, payee: Payee) -> None:
        self.uow = uow
        self.clock = clock
        self.gateway = gateway
        self.payee = payee

    # -- RequestApproved ---------------------------------------------------------------------
    async def issue_invoice(self, cmd: IssueInvoice) -> Invoice | None:
        """One invoice per request, numbered from the year's counter (locked until commit; called
        by the consumer, this joins its unit of work). A total that does not add up raises: the
        number goes back and the event is dead-lettered."""
        async with self.uow() as uow:
            if await uow.invoices.for_request(cmd.request_id) is not None:
                log.info("request %s has its invoice already", cmd.request_id)
                return None
            now = self.clock.now()
            number = invoice_number(now.year, await uow.invoices.next_sequence(now.year))
            invoice_id = uuid.uuid4()
            invoice = Invoice.issue(
                invoice_id=invoice_id,
                number=number,
                account_id=cmd.account_id,
                request_id=cmd.request_id,
                currency=cmd.currency,
                lines=cmd.lines,
                expected_total=cmd.expected_total,
                now=now,
                instructions=instructions_for(invoice_id=str(invoice_id), number=number, payee=self.payee),
            )
            uow.invoices.add(invoice)
            await uow.commit()
        return invoice

    # -- reading -----------------------------------------------------------------------------
    async def get_invoice(self, invoice_id: uuid.UUID, caller: Principal) -> Invoice:
        async with self.uow() as uow:
            return self._visible(await uow.invoices.get(invoice_id), invoice_id, caller)

    async def list_invoices(
        self, caller: Principal, *, account_id: str | None, status: Status | None, page: PageRequest
    ) -> Slice[InvoiceSummary]:
        """A customer's own invoices; an admin's of every account, or of `account_id`'s."""
        scope = caller.scope(account_id)
        if scope.empty:
            return Slice.empty(page)
        async with self.uow() as uow:
            return await uow.invoices.page(account_id=scope.account_id, status=status, page=page)

    # -- paying ------------------------------------------------------------------------------
    async def pay(self, request: PaymentRequest, *, caller: Principal, idempotency_key: str, render: Render) -> Answer:
        """Pay (or record a bank transfer), once per Idempotency-Key: the key is claimed (the
        runtime's `idempotency` table) in the transaction that locks the invoice, so a retry — even
        a concurrent one — waits and then gets the first answer; the invoice lock also makes two
        payments with different keys take the balance due one after the other. Declines are
        answers too (stored, with PaymentFailed)."""
        check_method(request, is_admin=caller.is_admin)
        fp = fingerprint(request)
        now = self.clock.now()
        async with self.uow() as uow:
            invoice = self._visible(
                await uow.invoices.get(request.invoice_id, for_update=True), request.invoice_id, caller
            )
            replayed = await uow.idempotency.claim(caller.account_id, idempotency_key, fp)
            if replayed is not None:
                return replayed
            invoice.check_payment(amount=request.amount, currency=request.currency)
            result = await self._charge(
                request, invoice, gateway_key=f"{caller.account_id}:{idempotency_key}:{fp[:16]}"
            )
            if result.approved:
                payment = Payment(
                    id=uuid.uuid4(),
                    method=request.method,
                    amount=request.amount,
                    currency=request.currency,
                    payer_reference=request.payer_reference,
                    paid_at=now,
                    recorded_by=caller.account_id,
                    card_brand=request.card.brand if request.card else None,
                    card_last4=request.card.last4 if request.card else None,
                    gateway_reference=result.reference,
                )
                invoice.record_payment(payment, now=self.clock.now())
                outcome: PaymentApproved | PaymentDeclined = PaymentApproved(invoice, payment)
            else:
                reason = result.reason or "declined"
                invoice.payment_failed(method=request.method, reason=reason, now=self.clock.now())
                outcome = PaymentDeclined(invoice, request.method, reason)
            answer = await uow.idempotency.store(caller.account_id, idempotency_key, render(outcome))
            await uow.commit()
        return answer

    async def _charge(self, request: PaymentRequest, invoice: Invoice, *, gateway_key: str) -> GatewayResult:
        description = f"Invoice {invoice.number}"
        if request.method == "card":
            return await self.gateway.charge_card(
                card=request.card,
                amount=request.amount,
                currency=request.currency,
                description=description,
                idempotency_key=gateway_key,
            )
        if request.method == "paypal":
            return await self.gateway.charge_paypal(
                payer=request.payer_reference,
                amount=request.amount,
                currency=request.currency,
                description=description,
                idempotency_key=gateway_key,
            )
        return GatewayResult(approved=True)  # a bank transfer, recorded by an admin: the money is there

    # -- helpers -----------------------------------------------------------------------------
    @staticmethod
    def _visible(invoice: Invoice | None, invoice_id: uuid.UUID, caller: Principal) -> Invoice:
        """Another account's invoice answers like a missing one (404)."""
        if invoice is None or not caller.owns(invoice.account_id):
            raise NotFound(f"no invoice {invoice_id}")
        return invoice
