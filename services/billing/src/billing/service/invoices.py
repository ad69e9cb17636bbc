"""Billing's use cases in one place, as the consumer, the HTTP layer and tests know them:
invoicing (`billing.service.invoicing`), orders' invoices (`billing.service.orders`), payments
(`billing.service.payments`) and credit notes (`billing.service.credit_notes`)."""

from __future__ import annotations

import uuid
from datetime import UTC, tzinfo

from billing.adapters.gateway import PaymentGateway
from billing.domain.credit_notes import CreditNote
from billing.domain.instructions import Payee
from billing.domain.invoices import Invoice, InvoiceSummary, Status
from billing.domain.orders import OrderCancellation
from billing.domain.payments import PaymentRequest
from billing.service.credit_notes import AccountCredit, CreditNotes
from billing.service.invoicing import Invoicing, IssueInvoice
from billing.service.orders import InvoiceOrder, OrderInvoicing
from billing.service.payments import PaymentApproved, PaymentDeclined, Payments, Render
from portal_runtime.auth import Principal
from portal_runtime.clock import Clock
from portal_runtime.idempotency import Answer
from portal_runtime.paging import PageRequest, Slice
from portal_runtime.uow import UnitsOfWork

__all__ = ["BillingService", "InvoiceOrder", "IssueInvoice", "PaymentApproved", "PaymentDeclined", "Render"]


class BillingService:
    def __init__(self, uow: UnitsOfWork, clock: Clock, gateway: PaymentGateway, payee: Payee, tz: tzinfo = UTC) -> None:
        """`tz`: the business's time zone (setting BUSINESS_TIMEZONE), whose date a cart order's
        invoice is due on."""
        self.uow = uow
        self.clock = clock
        self.gateway = gateway
        self.payee = payee
        self.invoicing = Invoicing(uow, clock, payee)
        self.orders = OrderInvoicing(uow, clock, self.invoicing, tz)
        self.payments = Payments(uow, clock, gateway)
        self.credit_notes = CreditNotes(uow)

    async def issue_invoice(self, cmd: IssueInvoice) -> Invoice | None:
        return await self.invoicing.issue_invoice(cmd)

    async def invoice_order(self, cmd: InvoiceOrder) -> Invoice | None:
        return await self.orders.invoice_order(cmd)

    async def cancel_order(self, cancellation: OrderCancellation) -> Invoice | None:
        return await self.orders.cancel_order(cancellation)

    async def get_invoice(self, invoice_id: uuid.UUID, caller: Principal) -> Invoice:
        return await self.invoicing.get_invoice(invoice_id, caller)

    async def list_invoices(
        self,
        caller: Principal,
        *,
        account_id: str | None,
        status: Status | None,
        page: PageRequest,
        source_kind: str | None = None,
    ) -> Slice[InvoiceSummary]:
        return await self.invoicing.list_invoices(
            caller, account_id=account_id, status=status, page=page, source_kind=source_kind
        )

    async def pay(self, request: PaymentRequest, *, caller: Principal, idempotency_key: str, render: Render) -> Answer:
        return await self.payments.pay(request, caller=caller, idempotency_key=idempotency_key, render=render)

    async def list_credit_notes(
        self,
        caller: Principal,
        *,
        account_id: str | None = None,
        invoice_id: uuid.UUID | None = None,
        order_id: uuid.UUID | None = None,
        page: PageRequest,
    ) -> Slice[CreditNote]:
        return await self.credit_notes.list(
            caller, account_id=account_id, invoice_id=invoice_id, order_id=order_id, page=page
        )

    async def get_credit_note(self, credit_note_id: uuid.UUID, caller: Principal) -> CreditNote:
        return await self.credit_notes.get(credit_note_id, caller)

    async def account_credit(self, caller: Principal, account_id: str | None = None) -> AccountCredit:
        return await self.credit_notes.account_credit(caller, account_id)
