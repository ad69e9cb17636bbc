"""Billing's use cases in one place, as the consumer, the HTTP layer and tests know them:
invoicing (`billing.service.invoicing`) and payments (`billing.service.payments`)."""

from __future__ import annotations

import uuid

from billing.adapters.gateway import PaymentGateway
from billing.domain.instructions import Payee
from billing.domain.invoices import Invoice, InvoiceSummary, Status
from billing.domain.payments import PaymentRequest
from billing.service.invoicing import Invoicing, IssueInvoice
from billing.service.payments import PaymentApproved, PaymentDeclined, Payments, Render
from portal_runtime.auth import Principal
from portal_runtime.clock import Clock
from portal_runtime.idempotency import Answer
from portal_runtime.paging import PageRequest, Slice
from portal_runtime.uow import UnitsOfWork

__all__ = ["BillingService", "IssueInvoice", "PaymentApproved", "PaymentDeclined", "Render"]


class BillingService:
    def __init__(self, uow: UnitsOfWork, clock: Clock, gateway: PaymentGateway, payee: Payee) -> None:
        self.uow = uow
        self.clock = clock
        self.gateway = gateway
        self.payee = payee
        self.invoicing = Invoicing(uow, clock, payee)
        self.payments = Payments(uow, clock, gateway)

    async def issue_invoice(self, cmd: IssueInvoice) -> Invoice | None:
        return await self.invoicing.issue_invoice(cmd)

    async def get_invoice(self, invoice_id: uuid.UUID, caller: Principal) -> Invoice:
        return await self.invoicing.get_invoice(invoice_id, caller)

    async def list_invoices(
        self, caller: Principal, *, account_id: str | None, status: Status | None, page: PageRequest
    ) -> Slice[InvoiceSummary]:
        return await self.invoicing.list_invoices(caller, account_id=account_id, status=status, page=page)

    async def pay(self, request: PaymentRequest, *, caller: Principal, idempotency_key: str, render: Render) -> Answer:
        return await self.payments.pay(request, caller=caller, idempotency_key=idempotency_key, render=render)
