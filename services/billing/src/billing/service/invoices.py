"""Use cases of billing: one transaction each; the state and its events commit together."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.adapters.events import to_contract
from billing.adapters.gateway import GatewayResult, PaymentGateway
from billing.adapters.repository import InvoiceRepository
from billing.domain.instructions import Payee, instructions_for
from billing.domain.invoices import Invoice, InvoiceSummary, Line, Payment, invoice_number
from billing.domain.payments import PaymentRequest, StoredAnswer, check_method, fingerprint, replay
from portal_contracts import Event
from portal_runtime.auth import Principal
from portal_runtime.clock import Clock
from portal_runtime.errors import NotFound
from portal_runtime.outbox import Outbox

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
Render = Callable[[PaymentApproved | PaymentDeclined], tuple[int, str]]
Publish = Callable[[Event], object]


class BillingService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        clock: Clock,
        gateway: PaymentGateway,
        payee: Payee,
    ) -> None:
        self.sessions = sessions
        self.outbox = outbox
        self.clock = clock
        self.gateway = gateway
        self.payee = payee

    # -- RequestApproved ---------------------------------------------------------------------
    async def issue_invoice(self, session: AsyncSession, cmd: IssueInvoice, publish: Publish) -> Invoice | None:
        """In the consumer's transaction: one invoice per request, numbered from the year's
        counter (locked until commit). A total that does not add up raises: dead-lettered."""
        repo = InvoiceRepository(session)
        if await repo.for_request(cmd.request_id) is not None:
            log.info("request %s has its invoice already", cmd.request_id)
            return None
        now = self.clock.now()
        number = invoice_number(now.year, await repo.next_sequence(now.year))
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
        await repo.add(invoice, now)
        self._stage(invoice, publish)
        return invoice

    # -- reading -----------------------------------------------------------------------------
    async def get_invoice(self, invoice_id: uuid.UUID, caller: Principal) -> Invoice:
        async with self.sessions() as session:
            invoice = await InvoiceRepository(session).get(invoice_id)
        return self._visible(invoice, invoice_id, caller)

    async def list_invoices(
        self, *, account_id: str | None, status: str | None, limit: int, offset: int
    ) -> tuple[list[InvoiceSummary], int]:
        async with self.sessions() as session:
            return await InvoiceRepository(session).page(
                account_id=account_id, status=status, limit=limit, offset=offset
            )

    # -- paying ------------------------------------------------------------------------------
    async def pay(
        self,
        request: PaymentRequest,
        *,
        caller: Principal,
        idempotency_key: str,
        render: Render,
        correlation_id: uuid.UUID | None = None,
    ) -> StoredAnswer:
        """Pay (or record a bank transfer), once per Idempotency-Key: the key is claimed in the
        transaction that locks the invoice, so a retry — even a concurrent one — waits and then
        gets the first answer. Declines are answers too (stored, with PaymentFailed)."""
        check_method(request, is_admin=caller.is_admin)
        fp = fingerprint(request)
        now = self.clock.now()
        async with self.sessions() as session, session.begin():
            repo = InvoiceRepository(session)
            invoice = self._visible(await repo.get(request.invoice_id, for_update=True), request.invoice_id, caller)
            if not await repo.claim_key(caller.account_id, idempotency_key, fp, invoice.id, now):
                return replay(await repo.stored_answer(caller.account_id, idempotency_key), fp)
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
                invoice.record_payment(payment)
                await repo.add_payment(invoice, payment, now)
                outcome: PaymentApproved | PaymentDeclined = PaymentApproved(invoice, payment)
            else:
                invoice.payment_failed(method=request.method, reason=result.reason or "declined")
                outcome = PaymentDeclined(invoice, request.method, result.reason or "declined")
            status_code, body = render(outcome)
            answer = StoredAnswer(fp, status_code, body)
            await repo.store_answer(caller.account_id, idempotency_key, answer)
            self._stage(invoice, lambda e: self.outbox.stage(session, e, correlation_id=correlation_id))
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
        if invoice is None or not (caller.is_admin or invoice.account_id == caller.account_id):
            raise NotFound(f"no invoice {invoice_id}")
        return invoice

    def _stage(self, invoice: Invoice, publish: Publish) -> None:
        for change in invoice.changes:
            publish(to_contract(invoice, change, self.clock.now()))
        invoice.changes.clear()
