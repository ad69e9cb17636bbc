"""Returns' use cases on a fake unit of work (no database, milliseconds): what each one stores
and publishes, and what it refuses. The row locks and the real queries are tested on PostgreSQL
in test_returns_service.py."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from portal_contracts.events.returns import GoodsReceived, ReturnApproved, ReturnRejected, ReturnRequested
from portal_runtime.auth import Principal
from portal_runtime.clock import FrozenClock
from portal_runtime.errors import InvalidInput, NotFound
from portal_runtime.lifecycle import InvalidTransition
from portal_runtime.paging import PageRequest, Slice
from portal_runtime.testing import FakeRepository, FakeUnitOfWork, FakeUnitsOfWork
from returns.adapters.events import to_contract
from returns.domain.invoices import InvoicedLine, ReturnableInvoice
from returns.domain.rma import ReceiptRequest, Resolution, ReturnLine, Status
from returns.service.invoices import ReturnableInvoices
from returns.service.returns import Approve, RequestReturn, ReturnsService

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ACME, BETA = Principal("alice", "ACME", "customer"), Principal("bert", "BETA", "customer")
OPS = Principal("olga", "ops", "admin")
PAGE = PageRequest(10, 0)


class FakeInvoices(FakeRepository):
    key = "invoice_id"

    async def by_number(self, account_id, number, *, for_update=False):
        return next((i for i in self.rows.values() if (i.account_id, i.number) == (account_id, number)), None)


class FakeRmas(FakeRepository):
    def __init__(self, uow) -> None:
        super().__init__(uow)
        self.counters: dict[tuple[str, int], int] = {}

    async def next_number(self, series, year):
        self.counters[series, year] = self.counters.get((series, year), 0) + 1
        return f"{series}-{year:04d}-{self.counters[series, year]:06d}"

    async def claimed(self, account_id, invoice_number):
        held: dict[str, int] = {}
        for rma in self.rows.values():
            if (rma.account_id, rma.invoice_number) == (account_id, invoice_number) and rma.claims:
                for line in rma.lines:
                    held[line.claim_key] = held.get(line.claim_key, 0) + line.quantity
        return held

    async def page(self, *, account_id, status, page):
        found = sorted(
            (
                r
                for r in self.rows.values()
                if (account_id is None or r.account_id == account_id) and (status is None or r.status == status)
            ),
            key=lambda r: (-r.requested_at.timestamp(), str(r.id)),
        )
        return Slice(found[page.offset : page.offset + page.limit], len(found), page.limit, page.offset)


class FakeReceipts:
    def __init__(self, rmas: FakeRmas) -> None:
        self.rmas = rmas

    def _all(self):
        return sorted(
            (r for rma in self.rmas.rows.values() for r in rma.receipts),
            key=lambda r: (r.received_at, r.number),
            reverse=True,
        )

    async def get(self, receipt_id):
        return next((r for r in self._all() if r.id == receipt_id), None)

    async def page(self, *, account_id, page):
        found = [r for r in self._all() if account_id is None or r.account_id == account_id]
        return Slice(found[page.offset : page.offset + page.limit], len(found), page.limit, page.offset)


class FakeShipped:
    def __init__(self) -> None:
        self.rows: dict[tuple[uuid.UUID, uuid.UUID], int] = {}

    async def record(self, order_id, shipped):
        for line_id, count in shipped.items():
            self.rows[order_id, line_id] = max(self.rows.get((order_id, line_id), 0), count)

    async def of_order(self, order_id):
        return {str(line): n for (order, line), n in self.rows.items() if order == order_id}


class FakeReturnsUnitOfWork(FakeUnitOfWork):
    def __init__(self) -> None:
        super().__init__(to_contract)
        self.invoices = FakeInvoices(self)
        self.rmas = FakeRmas(self)
        self.receipts = FakeReceipts(self.rmas)
        self.shipped = FakeShipped()


@pytest.fixture
def uow() -> FakeReturnsUnitOfWork:
    return FakeReturnsUnitOfWork()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def returns(uow, clock) -> ReturnsService:
    return ReturnsService(FakeUnitsOfWork(uow), clock)


@pytest.fixture
async def invoice(uow) -> ReturnableInvoice:
    """ACME's INV-1 (5 routers, 3 cables) and BETA's INV-2 (1 cable), recorded by the use case the
    InvoiceIssued handler calls."""
    invoices = ReturnableInvoices(FakeUnitsOfWork(uow))
    acme = ReturnableInvoice(
        uuid.uuid4(), "INV-1", "ACME", (InvoicedLine("Router X1", 5), InvoicedLine("Cable", 3)), NOW
    )
    await invoices.record(acme)
    await invoices.record(ReturnableInvoice(uuid.uuid4(), "INV-2", "BETA", (InvoicedLine("Cable", 1),), NOW))
    uow.commits = 0
    return acme


def ask(number: str = "INV-1", *lines: tuple[str, int]) -> RequestReturn:
    return RequestReturn(
        invoice_number=number,
        lines=[ReturnLine(sku, quantity, "broken") for sku, quantity in lines]
        or [ReturnLine("Router X1", 1, "broken")],
    )


async def test_an_issued_invoice_is_kept_and_a_reissue_replaces_it(uow, invoice):
    assert {i.number for i in uow.invoices.rows.values()} == {"INV-1", "INV-2"}
    reissued = ReturnableInvoice(invoice.invoice_id, "INV-1", "ACME", (InvoicedLine("Router X1", 9),), NOW)
    await ReturnableInvoices(FakeUnitsOfWork(uow)).record(reissued)
    assert uow.invoices.rows[invoice.invoice_id] == reissued and uow.published == []


async def test_a_request_stores_the_rma_with_its_first_step_and_publishes_return_requested(returns, uow, invoice):
    rma = await returns.request_return(ACME, ask("INV-1", ("Router X1", 2), ("Cable", 3)))
    stored = uow.rmas.rows[rma.id]
    assert (stored.status, stored.account_id, uow.commits) == (Status.REQUESTED, "ACME", 1)
    assert [(t.from_status, t.to_status, t.by, t.at) for t in stored.history] == [
        (None, "requested", "ACME/alice", NOW)
    ]
    [published] = uow.published
    assert isinstance(published, ReturnRequested)
    assert (published.rma_id, published.account_id, published.invoice_number, published.requested_at) == (
        rma.id,
        "ACME",
        "INV-1",
        NOW,
    )
    assert [(line.sku, line.quantity, line.reason) for line in published.lines] == [
        ("Router X1", 2, "broken"),
        ("Cable", 3, "broken"),
    ]


@pytest.mark.parametrize(
    "actor, request_, field",
    [
        (ACME, ask("INV-2", ("Cable", 1)), "invoice_number"),  # BETA's invoice reads as unknown
        (ACME, ask("INV-404"), "invoice_number"),
        (ACME, ask("INV-1", ("Modem", 1)), "lines[0].sku"),
        (ACME, ask("INV-1", ("Router X1", 6)), "lines[0].quantity"),
    ],
)
async def test_a_refused_request_stores_and_publishes_nothing(returns, uow, invoice, actor, request_, field):
    with pytest.raises(InvalidInput) as err:
        await returns.request_return(actor, request_)
    assert err.value.field == field
    assert uow.rmas.rows == {} and uow.published == [] and uow.commits == 0


async def test_claimed_quantities_count_until_a_return_is_rejected(returns, uow, invoice):
    first = await returns.request_return(ACME, ask("INV-1", ("Router X1", 4)))
    with pytest.raises(InvalidInput) as err:
        await returns.request_return(ACME, ask("INV-1", ("Router X1", 2)))
    assert err.value.extra["available"] == 1
    await returns.reject(first.id, "wrong item", OPS)
    assert (await returns.request_return(ACME, ask("INV-1", ("Router X1", 5)))).status == Status.REQUESTED


async def test_approve_then_receive_store_each_step_and_publish_approved_and_goods_received(
    returns, uow, invoice, clock
):
    rma = await returns.request_return(ACME, ask())
    uow.published.clear()
    clock.advance(hours=2)
    approved = await returns.approve(rma.id, OPS)
    received = await returns.receive(rma.id, Principal("clerk", "ops", "admin"))
    assert (approved.status, received.status) == (Status.APPROVED, Status.RECEIVED)
    stored = uow.rmas.rows[rma.id]
    assert stored.status == Status.RECEIVED and stored.updated_at == NOW + timedelta(hours=2)
    # no body: a refund, expected 14 days after today
    assert (stored.resolution, stored.expected_on) == ("refund", date(2026, 3, 15))
    [receipt] = stored.receipts
    assert [(t.from_status, t.to_status, t.by, t.note) for t in stored.history] == [
        (None, "requested", "ACME/alice", None),
        ("requested", "approved", "ops/olga", None),
        ("approved", "received", "ops/clerk", receipt.number),
    ]
    approved_event, goods = uow.published
    assert isinstance(approved_event, ReturnApproved) and isinstance(goods, GoodsReceived)
    assert (approved_event.number, approved_event.resolution, approved_event.expected_on) == (
        "RMA-2026-000001",
        "refund",
        date(2026, 3, 15),
    )
    assert (goods.number, goods.rma_number, goods.rma_status, goods.resolution) == (
        "GR-2026-000001",
        "RMA-2026-000001",
        "received",
        "refund",
    )
    assert [(x.description, x.quantity) for x in goods.lines] == [("Router X1", 1)]
    assert stored.events == []


async def test_receipts_in_parts_and_the_customer_reads_its_own(returns, uow, invoice, clock):
    rma = await returns.request_return(ACME, ask("INV-1", ("Router X1", 3), ("Cable", 2)))
    await returns.approve(rma.id, OPS, Approve(resolution=Resolution.CREDIT, expected_on=date(2026, 3, 5), note="ok"))
    uow.published.clear()
    _, first = await returns.record_receipt(rma.id, [ReceiptRequest(2, sku="Router X1")], OPS, note="box 1")
    clock.advance(hours=1)
    with pytest.raises(InvalidInput) as err:
        await returns.record_receipt(rma.id, [ReceiptRequest(2, sku="Router X1")], OPS)
    assert err.value.field == "lines[0].quantity" and err.value.extra["remaining"] == 1
    stored, second = await returns.record_receipt(rma.id, None, OPS)
    assert stored.status == "received" and [line.received for line in stored.lines] == [3, 2]
    assert [(x.description, x.quantity) for x in second.lines] == [("Router X1", 1), ("Cable", 2)]
    # (the fake's counter keeps the number the refused receipt took; PostgreSQL's rollback gives it back)
    assert [(e.number, e.rma_status, e.resolution) for e in uow.published] == [
        (first.number, "partly_received", "credit"),
        (second.number, "received", "credit"),
    ]
    assert [r.id for r in (await returns.list_receipts(ACME, page=PAGE)).items] == [second.id, first.id]
    assert (await returns.list_receipts(BETA, page=PAGE)).total == 0
    assert (await returns.list_receipts(ACME, account_id="BETA", page=PAGE)).total == 0
    assert (await returns.list_receipts(OPS, account_id="ACME", page=PAGE)).total == 2
    assert (await returns.get_receipt(first.id, ACME)).note == "box 1"
    with pytest.raises(NotFound):
        await returns.get_receipt(first.id, BETA)
    await returns.complete(rma.id, OPS)
    assert (await returns.close(rma.id, OPS)).status == "closed"
    # a closed return that was received still holds its quantity
    with pytest.raises(InvalidInput) as err:
        await returns.request_return(ACME, ask("INV-1", ("Router X1", 3)))
    assert err.value.extra["available"] == 2


async def test_goods_of_an_order_are_returnable_as_far_as_they_shipped(returns, uow):
    order, line = uuid.uuid4(), uuid.uuid4()
    await ReturnableInvoices(FakeUnitsOfWork(uow)).record(
        ReturnableInvoice(
            uuid.uuid4(), "INV-9", "ACME", (InvoicedLine("Router X1", 5, line_id=line),), NOW, "order", str(order)
        )
    )
    with pytest.raises(InvalidInput) as err:
        await returns.request_return(ACME, ask("INV-9", ("Router X1", 1)))
    assert err.value.field == "lines[0].quantity" and err.value.extra["available"] == 0
    await uow.shipped.record(order, {line: 2})
    await uow.shipped.record(order, {line: 1})  # an older shipment told late changes nothing
    with pytest.raises(InvalidInput) as err:
        await returns.request_return(ACME, ask("INV-9", ("Router X1", 3)))
    assert err.value.extra["available"] == 2
    assert (await returns.request_return(ACME, ask("INV-9", ("Router X1", 2)))).lines[0].line_id == line


async def test_the_expected_date_changes_and_is_checked_against_today(returns, uow, invoice, clock):
    rma = await returns.request_return(ACME, ask())
    with pytest.raises(InvalidInput) as err:
        await returns.approve(rma.id, OPS, Approve(expected_on=date(2026, 2, 28)))
    assert err.value.field == "expected_on"
    await returns.approve(rma.id, OPS, Approve(expected_on=date(2026, 3, 1)))
    changed = await returns.change_expected_date(rma.id, date(2026, 3, 9), OPS, note="late")
    assert changed.expected_on == date(2026, 3, 9) and uow.published[-1].previous_expected_on == date(2026, 3, 1)
    with pytest.raises(InvalidInput) as err:
        await returns.change_expected_date(rma.id, date(2026, 3, 9), OPS)
    assert err.value.field == "expected_on"


async def test_reject_keeps_the_reason_as_the_steps_note(returns, uow, invoice):
    rma = await returns.request_return(ACME, ask())
    uow.published.clear()
    rejected = await returns.reject(rma.id, "  outside the window ", OPS)
    stored = uow.rmas.rows[rma.id]
    assert rejected.reject_reason == stored.reject_reason == "outside the window"
    assert (stored.history[-1].to_status, stored.history[-1].by, stored.history[-1].note) == (
        "rejected",
        "ops/olga",
        "outside the window",
    )
    [event] = uow.published
    assert isinstance(event, ReturnRejected) and (event.number, event.reason) == (
        "RMA-2026-000001",
        "outside the window",
    )


async def test_a_rejection_without_a_reason_is_refused_and_saves_nothing(returns, uow, invoice):
    rma = await returns.request_return(ACME, ask())
    with pytest.raises(InvalidInput) as err:
        await returns.reject(rma.id, " ", OPS)
    assert err.value.field == "reason" and uow.rmas.rows[rma.id].status == Status.REQUESTED and uow.commits == 1


@pytest.mark.parametrize(
    "steps, act, current",
    [
        ((), lambda r, i: r.receive(i, OPS), "requested"),
        (("approve",), lambda r, i: r.approve(i, OPS), "approved"),
        (("approve",), lambda r, i: r.reject(i, "late", OPS), "approved"),
        (("reject",), lambda r, i: r.approve(i, OPS), "rejected"),
        (("reject",), lambda r, i: r.receive(i, OPS), "rejected"),
        (("approve", "receive"), lambda r, i: r.reject(i, "", OPS), "received"),
    ],
)
async def test_a_forbidden_transition_is_a_409_naming_the_status_and_saves_and_publishes_nothing(
    returns, uow, invoice, steps, act, current
):
    rma = await returns.request_return(ACME, ask())
    for step in steps:
        await (returns.reject(rma.id, "no", OPS) if step == "reject" else getattr(returns, step)(rma.id, OPS))
    before, commits = copy.deepcopy(uow.rmas.rows[rma.id]), uow.commits
    uow.published.clear()
    with pytest.raises(InvalidTransition) as err:
        await act(returns, rma.id)
    assert err.value.status_code == 409 and err.value.extra["current_status"] == current
    assert uow.rmas.rows[rma.id] == before and uow.commits == commits and uow.published == []


async def test_another_accounts_return_is_404_like_a_missing_one(returns, uow, invoice):
    rma = await returns.request_return(ACME, ask())
    for call in (
        lambda: returns.get_return(rma.id, BETA),
        lambda: returns.get_return(uuid.uuid4(), OPS),
        lambda: returns.approve(uuid.uuid4(), OPS),
    ):
        with pytest.raises(NotFound):
            await call()
    assert (await returns.get_return(rma.id, ACME)).id == rma.id
    assert (await returns.get_return(rma.id, OPS)).history[0].by == "ACME/alice"


async def test_lists_are_scoped_pages(returns, uow, invoice, clock):
    older = await returns.request_return(ACME, ask())
    clock.advance(minutes=1)
    newer = await returns.request_return(ACME, ask())
    beta = await returns.request_return(BETA, ask("INV-2", ("Cable", 1)))
    await returns.approve(older.id, OPS)

    own = await returns.list_returns(ACME, page=PAGE)
    assert [r.id for r in own.items] == [newer.id, older.id] and own.total == 2
    assert (await returns.list_returns(ACME, account_id="ACME", page=PAGE)).total == 2
    other = await returns.list_returns(ACME, account_id="BETA", page=PAGE)
    assert (other.items, other.total, other.limit, other.offset) == ([], 0, 10, 0)

    assert (await returns.list_returns(OPS, page=PAGE)).total == 3
    assert [r.id for r in (await returns.list_returns(OPS, account_id="BETA", page=PAGE)).items] == [beta.id]
    approved = await returns.list_returns(OPS, status=Status.APPROVED, page=PAGE)
    assert [r.id for r in approved.items] == [older.id]
    second = await returns.list_returns(OPS, page=PageRequest(1, 1))
    assert (len(second.items), second.total, second.limit, second.offset) == (1, 3, 1, 1)
