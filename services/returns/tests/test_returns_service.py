"""The use cases on a real PostgreSQL (no broker), through the service's real unit of work:
quantities across returns, row locks, history, outbox."""

import asyncio
import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from portal_contracts import Envelope
from portal_runtime import context
from portal_runtime.auth import Principal
from portal_runtime.db import OutboxRecord
from portal_runtime.errors import Conflict, InvalidInput, NotFound
from portal_runtime.paging import PageRequest
from returns.adapters.tables import RmaHistoryRow
from returns.domain.invoices import InvoicedLine, ReturnableInvoice
from returns.domain.rma import ReceiptRequest, Resolution, ReturnLine, Status
from returns.service.invoices import ReturnableInvoices
from returns.service.returns import Approve, RequestReturn
from returns.service.shipments import ShippedGoods

NOW = datetime(2026, 3, 1, tzinfo=UTC)
ACME, BETA = Principal("alice", "ACME", "customer"), Principal("bert", "BETA", "customer")
OTHER = Principal("otto", "OTHER", "customer")
OPS, CLERK = Principal("olga", "ops", "admin"), Principal("clerk", "ops", "admin")
PAGE = PageRequest(10, 0)


@pytest.fixture
def now():
    return NOW


async def invoice(svc, number="INV-1", account="ACME", lines=(("Router X1", 5), ("Cable", 3))):
    inv = ReturnableInvoice(
        invoice_id=uuid.uuid4(),
        number=number,
        account_id=account,
        issued_at=NOW,
        lines=tuple(InvoicedLine(d, q) for d, q in lines),
    )
    await ReturnableInvoices(svc.uow).record(inv)
    return inv


def ask(number="INV-1", *lines):
    return RequestReturn(
        invoice_number=number,
        lines=[ReturnLine(sku, qty, "broken") for sku, qty in lines] or [ReturnLine("Router X1", 1, "x")],
    )


async def outbox(svc) -> list[Envelope]:
    async with svc.uow.sessions() as s:
        rows = await s.scalars(select(OutboxRecord).order_by(OutboxRecord.id))
        return [Envelope.model_validate(r.envelope) for r in rows]


async def history_count(svc) -> int:
    async with svc.uow.sessions() as s:
        return await s.scalar(select(func.count()).select_from(RmaHistoryRow))


async def test_request_stores_the_rma_and_stages_return_requested(svc):
    await invoice(svc)
    with context.caused_by(cid := uuid.uuid4()):
        rma = await svc.request_return(ACME, ask("INV-1", ("Router X1", 2), ("Cable", 3)))
    stored = await svc.get_return(rma.id, ACME)
    history = stored.history
    assert stored.status == "requested" and [(line.sku, line.quantity) for line in stored.lines] == [
        ("Router X1", 2),
        ("Cable", 3),
    ]
    assert [(t.from_status, t.to_status, t.by) for t in history] == [(None, "requested", "ACME/alice")]
    [env] = await outbox(svc)
    assert (env.type, env.key, env.correlation_id) == ("ReturnRequested", str(rma.id), cid)
    event = env.payload()
    assert event.invoice_number == "INV-1" and event.account_id == "ACME" and event.requested_at == NOW
    assert [(line.sku, line.quantity, line.reason) for line in event.lines] == [
        ("Router X1", 2, "broken"),
        ("Cable", 3, "broken"),
    ]


async def test_open_and_approved_and_received_returns_claim_but_rejected_ones_free_the_quantity(svc):
    await invoice(svc)
    first = await svc.request_return(ACME, ask("INV-1", ("Router X1", 2)))
    second = await svc.request_return(ACME, ask("INV-1", ("Router X1", 2)))
    await svc.approve(first.id, OPS)
    await svc.receive(first.id, OPS)
    await svc.approve(second.id, OPS)
    with pytest.raises(InvalidInput) as err:
        await svc.request_return(ACME, ask("INV-1", ("Router X1", 2)))
    assert err.value.field == "lines[0].quantity" and err.value.extra["available"] == 1
    third = await svc.request_return(ACME, ask("INV-1", ("Router X1", 1)))
    await svc.reject(third.id, "wrong item", OPS)
    assert (await svc.request_return(ACME, ask("INV-1", ("Router X1", 1)))).status == "requested"


async def test_refused_request_stores_and_publishes_nothing(svc):
    await invoice(svc)
    with pytest.raises(InvalidInput):
        await svc.request_return(ACME, ask("INV-1", ("Router X1", 1), ("Cable", 4)))
    assert await outbox(svc) == [] and await history_count(svc) == 0
    assert (await svc.list_returns(OPS, page=PAGE)).total == 0


async def test_another_accounts_invoice_reads_like_an_unknown_one(svc):
    await invoice(svc, account="OTHER")
    for number in ("INV-1", "INV-404"):
        with pytest.raises(InvalidInput) as err:
            await svc.request_return(ACME, ask(number))
        assert err.value.field == "invoice_number"


async def test_concurrent_requests_cannot_both_take_the_last_items(svc):
    await invoice(svc, lines=(("Router X1", 3),))
    results = await asyncio.gather(
        *(svc.request_return(ACME, ask("INV-1", ("Router X1", 2))) for _ in range(4)), return_exceptions=True
    )
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, InvalidInput) for r in results if isinstance(r, Exception))


async def test_transitions_are_recorded_in_history_and_published(svc):
    await invoice(svc)
    rma = await svc.request_return(ACME, ask())
    svc.clock.advance(hours=2)
    await svc.approve(rma.id, OPS)
    await svc.receive(rma.id, CLERK)
    stored = await svc.get_return(rma.id, OPS)
    history = stored.history
    assert stored.status == "received" and stored.updated_at == svc.clock.now()
    assert [(t.from_status, t.to_status, t.by) for t in history] == [
        (None, "requested", "ACME/alice"),
        ("requested", "approved", "ops/olga"),
        ("approved", "received", "ops/clerk"),
    ]
    assert [e.type for e in await outbox(svc)] == ["ReturnRequested", "ReturnApproved", "GoodsReceived"]


async def test_forbidden_transition_changes_nothing(svc):
    await invoice(svc)
    rma = await svc.request_return(ACME, ask())
    await svc.reject(rma.id, "too late", OPS)
    count = await history_count(svc)
    with pytest.raises(Conflict) as err:
        await svc.approve(rma.id, OPS)
    assert err.value.extra["current_status"] == "rejected"
    stored = await svc.get_return(rma.id, OPS)
    assert stored.status == "rejected" and stored.reject_reason == "too late" and await history_count(svc) == count
    assert (stored.history[-1].to_status, stored.history[-1].note) == ("rejected", "too late")


async def test_unknown_and_other_accounts_returns_are_not_found(svc):
    await invoice(svc)
    rma = await svc.request_return(ACME, ask())
    with pytest.raises(NotFound):
        await svc.get_return(rma.id, OTHER)
    with pytest.raises(NotFound):
        await svc.approve(rma.id, OTHER)
    with pytest.raises(NotFound):
        await svc.approve(uuid.uuid4(), OPS)


async def test_list_filters_by_account_and_status(svc):
    await invoice(svc)
    await invoice(svc, number="INV-2", account="BETA")
    a1 = await svc.request_return(ACME, ask())
    await svc.request_return(ACME, ask())
    await svc.request_return(BETA, ask("INV-2"))
    await svc.approve(a1.id, OPS)
    assert (await svc.list_returns(OPS, page=PAGE)).total == 3
    found = await svc.list_returns(OPS, account_id="ACME", page=PageRequest(1, 0))
    assert found.total == 2 and len(found.items) == 1 and found.items[0].account_id == "ACME"
    found = await svc.list_returns(OPS, account_id="ACME", status=Status.APPROVED, page=PAGE)
    assert found.total == 1 and found.items[0].id == a1.id
    assert (await svc.list_returns(OPS, account_id="BETA", status=Status.APPROVED, page=PAGE)).total == 0
    assert {r.account_id for r in (await svc.list_returns(BETA, page=PAGE)).items} == {"BETA"}
    assert (await svc.list_returns(BETA, account_id="ACME", page=PAGE)).total == 0


async def test_a_reissued_invoice_replaces_the_earlier_copy(svc):
    inv = await invoice(svc, lines=(("Router X1", 1),))
    await ReturnableInvoices(svc.uow).record(
        ReturnableInvoice(inv.invoice_id, "INV-1", "ACME", (InvoicedLine("Router X1", 4),), NOW)
    )
    assert (await svc.request_return(ACME, ask("INV-1", ("Router X1", 4)))).lines[0].quantity == 4


async def test_numbers_are_gapless_per_year_and_a_refused_request_gives_its_number_back(svc):
    await invoice(svc)
    first = await svc.request_return(ACME, ask())
    with pytest.raises(InvalidInput):
        await svc.request_return(ACME, ask("INV-1", ("Router X1", 9)))
    second = await svc.request_return(ACME, ask())
    assert (first.number, second.number) == ("RMA-2026-000001", "RMA-2026-000002")
    svc.clock.advance(days=366)
    assert (await svc.request_return(ACME, ask())).number == "RMA-2027-000001"


async def test_receipts_in_parts_are_stored_and_read_back_with_the_rma(svc):
    await invoice(svc)
    rma = await svc.request_return(
        ACME,
        ask("INV-1", ("Router X1", 3), ("Cable", 2)),
    )
    await svc.approve(rma.id, OPS, Approve(resolution=Resolution.CREDIT, expected_on=date(2026, 3, 10)))
    _, first = await svc.record_receipt(rma.id, [ReceiptRequest(2, sku="Router X1")], CLERK, note="box 1")
    with pytest.raises(InvalidInput) as err:
        await svc.record_receipt(rma.id, [ReceiptRequest(2, sku="Router X1")], CLERK)
    assert err.value.field == "lines[0].quantity" and err.value.extra["remaining"] == 1
    svc.clock.advance(minutes=5)
    stored, second = await svc.record_receipt(rma.id, None, CLERK)
    assert (first.number, second.number) == ("GR-2026-000001", "GR-2026-000002")  # the refused one gave its back
    again = await svc.get_return(rma.id, ACME)
    assert again.status == "received" and (again.resolution, again.expected_on) == ("credit", date(2026, 3, 10))
    assert [line.received for line in again.lines] == [3, 2] and again.receipts == [first, second]
    assert again.problem == "broken"
    page = await svc.list_receipts(ACME, page=PAGE)
    assert [r.id for r in page.items] == [second.id, first.id] and page.total == 2
    assert (await svc.list_receipts(OTHER, page=PAGE)).total == 0
    assert (await svc.get_receipt(first.id, OPS)) == first
    with pytest.raises(NotFound):
        await svc.get_receipt(first.id, OTHER)
    goods = [e.payload() for e in await outbox(svc) if e.type == "GoodsReceived"]
    assert [(g.number, g.rma_status, g.resolution, [(x.description, x.quantity) for x in g.lines]) for g in goods] == [
        ("GR-2026-000001", "partly_received", "credit", [("Router X1", 2)]),
        ("GR-2026-000002", "received", "credit", [("Router X1", 1), ("Cable", 2)]),
    ]


async def test_concurrent_receipts_never_take_more_than_approved(svc):
    await invoice(svc, lines=(("Router X1", 3),))
    rma = await svc.request_return(ACME, ask("INV-1", ("Router X1", 3)))
    await svc.approve(rma.id, OPS)
    results = await asyncio.gather(
        *(svc.record_receipt(rma.id, [ReceiptRequest(2, sku="Router X1")], CLERK) for _ in range(3)),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert [line.received for line in (await svc.get_return(rma.id, OPS)).lines] == [2]


async def test_shipped_quantities_keep_the_highest_count_and_limit_goods_returns(svc):
    order, line = uuid.uuid4(), uuid.uuid4()
    await ReturnableInvoices(svc.uow).record(
        ReturnableInvoice(
            uuid.uuid4(), "INV-8", "ACME", (InvoicedLine("Router X1", 5, line_id=line),), NOW, "order", str(order)
        )
    )
    shipped = ShippedGoods(svc.uow)
    await shipped.record(order, {line: 3})
    await shipped.record(order, {line: 1})  # an older shipment's event, late
    await shipped.record(order, {line: 3})  # told twice
    with pytest.raises(InvalidInput) as err:
        await svc.request_return(ACME, ask("INV-8", ("Router X1", 4)))
    assert err.value.extra["available"] == 3
    first = await svc.request_return(ACME, ask("INV-8", ("Router X1", 3)))
    with pytest.raises(InvalidInput) as err:
        await svc.request_return(ACME, ask("INV-8", ("Router X1", 1)))
    assert err.value.extra["available"] == 0
    await svc.reject(first.id, "photos missing", OPS)
    await svc.close(first.id, OPS)  # closed after a rejection: still frees it
    assert (await svc.request_return(ACME, ask("INV-8", ("Router X1", 3)))).lines[0].line_id == line
