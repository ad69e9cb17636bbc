"""The quotes' use cases on a real PostgreSQL, without HTTP: accepts fired at once (each its own
transaction) place ONE order, the quote row being locked; visibility is checked when a line is put
on a quote and again on accept; the order is at the quote's prices after the catalog's changed; the
quotes job tells an expiring quote once and expires it once, run again as of any date."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from orders.adapters.events import to_contract
from orders.adapters.repository import OrdersUnitOfWork
from orders.adapters.tables import OrderLineRow, OrderRow
from orders.bootstrap import definition
from orders.domain.offers import Offer
from orders.domain.quotes import LineIn
from orders.service.catalog_copy import CatalogCopy
from orders.service.quotes import QuoteDraft, QuoteJob, QuoteService
from portal_runtime.auth import Principal
from portal_runtime.clock import FrozenClock
from portal_runtime.db import OutboxRecord, make_engine, make_sessionmaker
from portal_runtime.errors import Conflict, NotFound
from portal_runtime.outbox import Outbox
from portal_runtime.uow import UnitsOfWork

ADMIN = Principal("admin", "ops", "admin")
BUYER = Principal("buyer", "acme", "customer")
OTHER = Principal("buyer", "other", "customer")
TODAY = date(2026, 3, 2)


class FakeVisibility:
    """Orders' Visibility as its signature says: the ids the account may NOT see."""

    def __init__(self) -> None:
        self.hidden: dict[str, set[uuid.UUID]] = {}

    async def check(self, session, account_id, item_ids):
        return set(item_ids) & self.hidden.get(account_id, set())


def good(name: str, price: str, revision: int = 1, item_id: uuid.UUID | None = None) -> Offer:
    return Offer(
        item_id=item_id or uuid.uuid4(),
        revision=revision,
        sku=f"SKU-{name}",
        name=name,
        price=Decimal(price),
        currency="EUR",
        billing="one_time",
        kind="good",
        prices=(("one_time", Decimal(price)),),
    )


@pytest.fixture
async def world(migrated_database):
    engine = make_engine(await migrated_database(definition()))
    clock = FrozenClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    uow = UnitsOfWork(make_sessionmaker(engine), Outbox("orders", clock), to_contract, OrdersUnitOfWork)
    visibility = FakeVisibility()
    quotes = QuoteService(uow, clock, UTC, visibility)
    yield quotes, QuoteJob(uow, clock, days_before=3), CatalogCopy(uow), visibility, clock, uow
    await engine.dispose()


async def scalar(uow, stmt):
    async with uow() as u:
        return await u.session.scalar(stmt)


async def outbox(uow, event_type: str) -> list[dict]:
    async with uow() as u:
        stmt = select(OutboxRecord).where(OutboxRecord.event_type == event_type).order_by(OutboxRecord.id)
        return [r.envelope["data"] for r in await u.session.scalars(stmt)]


async def sent(quotes: QuoteService, *lines: LineIn, valid_until: date = TODAY + timedelta(days=30)):
    draft = await quotes.prepare(ADMIN, QuoteDraft("acme", list(lines), valid_until, "offer"))
    return await quotes.send(ADMIN, draft.id)


async def test_accepts_at_once_place_one_order_at_the_quotes_prices(world):
    quotes, _, copy, _, _, uow = world
    pump, valve = good("Pump", "200.00"), good("Valve", "15.00")
    for item in (pump, valve):
        await copy.apply(item)
    quote = await sent(quotes, LineIn(pump.item_id, 2, Decimal("180.00")), LineIn(valve.item_id, 10))
    assert (quote.number, quote.total) == ("Q-000001", Decimal("510.00"))
    await copy.apply(replace(pump, revision=2, price=Decimal("250.00"), prices=(("one_time", Decimal("250.00")),)))

    answers = await asyncio.gather(*(quotes.accept(BUYER, quote.id) for _ in range(6)), return_exceptions=True)
    assert all(isinstance(a, uuid.UUID) for a in answers), answers
    assert len(set(answers)) == 1
    assert await quotes.accept(BUYER, quote.id) == answers[0]  # and once more, later
    assert await scalar(uow, select(func.count()).select_from(OrderRow).where(OrderRow.source == "quote")) == 1
    async with uow() as u:
        lines = (
            await u.session.execute(select(OrderLineRow.item_id, OrderLineRow.unit_price, OrderLineRow.amount))
        ).all()
    assert sorted(lines) == sorted(
        [(pump.item_id, Decimal("180.00"), Decimal("360.00")), (valve.item_id, Decimal("15.00"), Decimal("150.00"))]
    )
    accepted = await outbox(uow, "QuoteAccepted")
    assert [(a["quote_id"], a["order_id"]) for a in accepted] == [(str(quote.id), str(answers[0]))]
    (placed,) = [e for e in await outbox(uow, "OrderPlaced") if e.get("quote_id") == str(quote.id)]
    assert (placed["source"], placed["total"]["amount"]) == ("quote", "510.00")
    assert (await quotes.get(BUYER, quote.id)).status == "accepted"


async def test_visibility_when_prepared_and_again_on_accept(world):
    quotes, _, copy, visibility, _, _ = world
    lathe = good("Lathe", "900.00")
    await copy.apply(lathe)
    visibility.hidden["acme"] = {lathe.item_id}
    with pytest.raises(Conflict) as invisible:  # the same answer as an unknown item
        await quotes.prepare(ADMIN, QuoteDraft("acme", [LineIn(lathe.item_id, 1)], TODAY))
    with pytest.raises(Conflict) as unknown:
        await quotes.prepare(ADMIN, QuoteDraft("acme", [LineIn(uuid.uuid4(), 1)], TODAY))
    assert type(invisible.value) is type(unknown.value) and invisible.value.field == "lines[0].item_id"
    visibility.hidden.clear()
    quote = await sent(quotes, LineIn(lathe.item_id, 1))
    visibility.hidden["acme"] = {lathe.item_id}  # its groups changed since
    with pytest.raises(Conflict) as gone:
        await quotes.accept(BUYER, quote.id)
    assert (gone.value.field, gone.value.extra["current_status"]) == ("lines[0].item_id", "sent")
    assert (await quotes.get(BUYER, quote.id)).status == "sent"


async def test_customers_see_their_own_sent_quotes_only(world):
    quotes, _, copy, _, _, _ = world
    valve = good("Valve", "15.00")
    await copy.apply(valve)
    draft = await quotes.prepare(ADMIN, QuoteDraft("acme", [LineIn(valve.item_id, 1)], TODAY))
    with pytest.raises(NotFound):
        await quotes.get(BUYER, draft.id)  # a draft is the admin's
    await quotes.send(ADMIN, draft.id)
    assert (await quotes.get(BUYER, draft.id)).status == "sent"
    for act in (quotes.get, quotes.accept):
        with pytest.raises(NotFound):
            await act(OTHER, draft.id)
    assert [q.id for q in (await quotes.list(BUYER, _page())).items] == [draft.id]
    assert (await quotes.list(OTHER, _page())).total == 0


async def test_rejected_then_accept_is_a_409_and_accept_on_the_last_day(world):
    quotes, _, copy, _, clock, _ = world
    valve = good("Valve", "15.00")
    await copy.apply(valve)
    declined = await sent(quotes, LineIn(valve.item_id, 1))
    assert (await quotes.reject(BUYER, declined.id, "too dear")).reason == "too dear"
    with pytest.raises(Conflict) as late:
        await quotes.accept(BUYER, declined.id)
    assert late.value.extra["current_status"] == "rejected"
    last_day = await sent(quotes, LineIn(valve.item_id, 1), valid_until=TODAY + timedelta(days=1))
    clock.advance(days=1)
    assert isinstance(await quotes.accept(BUYER, last_day.id), uuid.UUID)


async def test_the_job_tells_expiring_once_and_expires_once(world):
    quotes, job, copy, _, clock, uow = world
    valve = good("Valve", "15.00")
    await copy.apply(valve)
    until = TODAY + timedelta(days=10)
    quote = await sent(quotes, LineIn(valve.item_id, 3), valid_until=until)
    assert await job.run(until - timedelta(days=4)) == {"as_of": "2026-03-08", "expiring": [], "expired": []}
    assert (await job.run(until - timedelta(days=3)))["expiring"] == [quote.number]
    assert (await job.run(until - timedelta(days=3)))["expiring"] == []  # the same date again
    assert (await job.run(until))["expiring"] == []  # a later one
    assert (await job.run(until + timedelta(days=1)))["expired"] == [quote.number]
    assert await job.run(until + timedelta(days=1)) == {"as_of": "2026-03-13", "expiring": [], "expired": []}
    assert [e["quote_id"] for e in await outbox(uow, "QuoteExpiring")] == [str(quote.id)]
    assert [e["valid_until"] for e in await outbox(uow, "QuoteExpired")] == [until.isoformat()]
    clock.advance(days=11)
    with pytest.raises(Conflict) as late:
        await quotes.accept(BUYER, quote.id)
    assert late.value.extra["current_status"] == "expired"


async def test_a_quote_past_its_date_not_yet_expired_by_the_job_is_refused_as_expired(world):
    quotes, _, copy, _, clock, _ = world
    valve = good("Valve", "15.00")
    await copy.apply(valve)
    quote = await sent(quotes, LineIn(valve.item_id, 1), valid_until=TODAY)
    clock.advance(days=1)
    with pytest.raises(Conflict) as late:
        await quotes.accept(BUYER, quote.id)
    assert late.value.extra["current_status"] == "expired"


def _page():
    from portal_runtime.paging import PageRequest

    return PageRequest()
