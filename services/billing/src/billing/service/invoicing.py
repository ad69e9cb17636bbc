"""Invoicing use cases: issuing an invoice for a source (one per source and billing period) and
reading invoices. One unit of work each; the state and its events commit together."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from billing.domain.instructions import Payee, instructions_for
from billing.domain.invoices import BillTo, Invoice, InvoiceSummary, Line, Source, SourceKind, Status, invoice_number
from billing.service.ledger import spend_credit
from portal_runtime.auth import Principal
from portal_runtime.clock import Clock
from portal_runtime.errors import InvalidInput, NotFound
from portal_runtime.paging import PageRequest, Slice
from portal_runtime.uow import UnitsOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IssueInvoice:
    """Issue an invoice for a source. Named by `source_kind` + `source_id` (+ a billing period);
    the first argument, `request_id`, still names a service request as the source (orders'
    RequestApproved), as before."""

    request_id: uuid.UUID | None = None
    account_id: str = ""
    currency: str = ""
    lines: list[Line] = field(default_factory=list)
    expected_total: Decimal | None = None
    source_kind: SourceKind | str | None = None
    source_id: str | uuid.UUID | None = None
    period_start: date | None = None
    period_end: date | None = None
    due_on: date | None = None  # None: PAYMENT_TERMS_DAYS after issue
    bill_to: BillTo | None = None  # whom it is addressed to, when not the account itself

    @property
    def source(self) -> Source:
        if self.source_kind is None:
            if self.request_id is None:
                raise InvalidInput("an invoice needs a source", field="source_kind")
            return Source.service_request(self.request_id)
        if self.request_id is not None:
            raise InvalidInput("name the source by source_kind and source_id, or by request_id", field="request_id")
        return Source(str(self.source_kind), str(self.source_id or ""), self.period_start, self.period_end)


def visible(invoice: Invoice | None, invoice_id: uuid.UUID, caller: Principal) -> Invoice:
    """Another account's invoice answers like a missing one (404)."""
    if invoice is None or not caller.owns(invoice.account_id):
        raise NotFound(f"no invoice {invoice_id}")
    return invoice


class Invoicing:
    def __init__(self, uow: UnitsOfWork, clock: Clock, payee: Payee) -> None:
        self.uow = uow
        self.clock = clock
        self.payee = payee

    async def issue_invoice(self, cmd: IssueInvoice) -> Invoice | None:
        """One invoice per source (and billing period), numbered from the year's counter (locked
        until commit; called by a consumer, this joins its unit of work). None when the source has
        its invoice already. A total that does not add up raises: the number goes back."""
        async with self.uow() as uow:
            invoice = await self.issue_in(uow, cmd)
            if invoice is not None:
                await spend_credit(uow, invoice, self.clock)  # the account's credit pays it, as far as it goes
            await uow.commit()
        return invoice

    async def issue_in(self, uow, cmd: IssueInvoice) -> Invoice | None:
        """The issue itself, in a unit of work the caller commits (which may change the invoice
        before that: an order's invoice is voided at once when the order was cancelled)."""
        source = cmd.source
        if await uow.invoices.for_source(source) is not None:
            log.info("%s %s has its invoice already", source.kind, source.id)
            return None
        now = self.clock.now()
        number = invoice_number(now.year, await uow.invoices.next_sequence(now.year))
        invoice_id = uuid.uuid4()
        invoice = Invoice.issue(
            invoice_id=invoice_id,
            number=number,
            account_id=cmd.account_id,
            source=source,
            currency=cmd.currency,
            lines=cmd.lines,
            expected_total=cmd.expected_total,
            now=now,
            due_on=cmd.due_on,
            bill_to=cmd.bill_to,
            instructions=instructions_for(invoice_id=str(invoice_id), number=number, payee=self.payee),
        )
        return uow.invoices.add(invoice)

    async def get_invoice(self, invoice_id: uuid.UUID, caller: Principal) -> Invoice:
        async with self.uow() as uow:
            return visible(await uow.invoices.get(invoice_id), invoice_id, caller)

    async def list_invoices(
        self,
        caller: Principal,
        *,
        account_id: str | None,
        status: Status | None,
        page: PageRequest,
        source_kind: str | None = None,
    ) -> Slice[InvoiceSummary]:
        """A customer's own invoices; an admin's of every account, or of `account_id`'s; of one
        source kind when `source_kind` names it."""
        scope = caller.scope(account_id)
        if scope.empty:
            return Slice.empty(page)
        async with self.uow() as uow:
            return await uow.invoices.page(
                account_id=scope.account_id, status=status, page=page, source_kind=source_kind
            )
