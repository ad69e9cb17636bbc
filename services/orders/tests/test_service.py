"""The service layer on a real PostgreSQL database (no broker): one unit of work per command,
events staged in the outbox with the state."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from orders_testkit import NOW, payment, published, retired
from sqlalchemy import select

from orders.adapters.events import offer_from_published, offer_from_retired, to_contract
from orders.adapters.repository import OrdersUnitOfWork
from orders.bootstrap import definition
from orders.domain.offers import NotOfferedYet
from orders.service.catalog_copy import CatalogCopy
from orders.service.profiles import ProfileService
from orders.service.requests import RequestFilter, RequestService
from orders.service.subscriptions import SubscriptionService
from portal_runtime.auth import Principal
from portal_runtime.clock import FrozenClock
from portal_runtime.db import OutboxRecord, make_engine, make_sessionmaker
from portal_runtime.errors import Conflict, InvalidInput, NotFound
from portal_runtime.outbox import Outbox
from portal_runtime.paging import PageRequest
from portal_runtime.uow import UnitsOfWork

ACME, OTHER = Principal("alice", "acme", "customer"), Principal("otto", "other", "customer")
OPS = Principal("olga", "ops", "admin")
TEN = PageRequest(10, 0)


class Env:
    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.sessions = make_sessionmaker(self.engine)
        self.clock = FrozenClock(NOW)
        self.uow = UnitsOfWork(self.sessions, Outbox("orders", self.clock), to_contract, OrdersUnitOfWork)
        self.copy = CatalogCopy(self.uow)
        self.requests = RequestService(self.uow, self.clock)
        self.profiles = ProfileService(self.uow, self.clock)
        self.subs = SubscriptionService(self.uow, self.clock)

    async def publish(self, event) -> bool:
        return await self.copy.apply(offer_from_published(event))

    async def retire(self, event) -> bool:
        return await self.copy.apply(offer_from_retired(event))

    async def pay(self, request_id: uuid.UUID, account: str = "acme") -> tuple[list, list[dict]]:
        """Billing's payment applied; the subscriptions made and the events it staged."""
        before = len(await self.outbox())
        paid = payment(request_id, account)
        subs = await self.subs.activate_paid(paid.request_id, paid.account_id, paid.number)
        return subs, (await self.outbox())[before:]

    async def offer(self, **kw) -> uuid.UUID:
        item_id = uuid.uuid4()
        assert await self.publish(published(item_id, **kw))
        return item_id

    async def outbox(self) -> list[dict]:
        async with self.sessions() as s:
            return list(await s.scalars(select(OutboxRecord.envelope).order_by(OutboxRecord.id)))

    async def outbox_types(self) -> list[str]:
        return [e["type"] for e in await self.outbox()]

    async def outbox_last(self) -> dict:
        return (await self.outbox())[-1]

    async def offer_copy(self, item_id: uuid.UUID):
        async with self.uow() as uow:
            return await uow.offers.get(item_id)


@pytest.fixture
async def env(migrated_database):
    e = Env(await migrated_database(definition()))
    yield e
    await e.engine.dispose()


async def test_catalog_copy_keeps_the_highest_revision(env):
    item = uuid.uuid4()
    assert await env.publish(published(item, revision=2, price="20.00", name="v2"))
    assert not await env.publish(published(item, revision=1, price="1.00", name="v1"))
    assert not await env.publish(published(item, revision=2, price="2.00", name="again"))
    o = await env.offer_copy(item)
    assert (o.revision, o.name, o.price, o.status) == (2, "v2", Decimal("20.00"), "offered")
    assert await env.retire(retired(item, revision=3))
    assert not await env.publish(published(item, revision=2, name="late"))
    o = await env.offer_copy(item)
    assert (o.revision, o.status, o.name) == (3, "retired", "v2")


async def test_catalog_copy_keeps_kinds_cycles_units_and_parents_and_prices_as_before(env):
    from portal_contracts.events.catalog import CyclePrice

    item, parent = uuid.uuid4(), uuid.uuid4()
    cycles = [CyclePrice(cycle="annual", price=Decimal("200.00")), CyclePrice(cycle="monthly", price=Decimal("20.00"))]
    event = published(item, price="200.00", months=12).model_copy(
        update={"kind": "add_on", "prices": cycles, "parents": [parent]}
    )
    assert await env.publish(event)
    o = await env.offer_copy(item)
    assert (o.kind, o.prices, o.parents, o.units) == (
        "add_on",
        (("annual", Decimal("200.00")), ("monthly", Decimal("20.00"))),
        (parent,),
        None,
    )
    draft = await env.requests.create(ACME, [(item, 2)])  # priced by the primary price, as before
    assert [(p.unit_price, p.billing, p.billing_period_months) for p in draft.summary.lines] == [
        (Decimal("200.00"), "recurring", 12)
    ]
    assert draft.summary.total == Decimal("400.00")
    package = uuid.uuid4()
    assert await env.publish(
        published(package, billing="one_time").model_copy(update={"kind": "unit_package", "units": 500})
    )
    assert (await env.offer_copy(package)).units == 500
    assert await env.retire(retired(item, revision=2))
    kept = await env.offer_copy(item)
    assert (kept.status, kept.kind, kept.parents, len(kept.prices)) == ("retired", "add_on", (parent,), 2)


async def test_an_item_published_before_kinds_is_a_service_with_its_one_cycle(env):
    item = uuid.uuid4()
    old = published(item, price="49.90", months=6).model_dump(mode="json")
    for newer in ("kind", "prices", "units", "parents"):
        del old[newer]
    assert await env.publish(type(published(item)).model_validate(old))
    o = await env.offer_copy(item)
    assert (o.kind, o.prices, o.parents, o.price) == (
        "service",
        (("semi_annual", Decimal("49.90")),),
        (),
        Decimal("49.90"),
    )


async def test_a_retirement_before_its_publication_wins(env):
    item = uuid.uuid4()
    assert await env.retire(retired(item, revision=2))
    assert not await env.publish(published(item, revision=1))
    with pytest.raises(InvalidInput) as err:
        await env.requests.create(ACME, [(item, 1)])
    assert err.value.field == "lines[0].item_id"


async def test_draft_to_submitted_prices_from_the_copy_and_publishes(env):
    seo, setup = (
        await env.offer(price="49.90", name="SEO"),
        await env.offer(price="12.50", name="Setup", billing="one_time"),
    )
    view = await env.requests.create(ACME, [(seo, 2)])
    rid = view.request.id
    await env.requests.set_line(ACME, rid, setup, 1)
    view = await env.requests.set_line(ACME, rid, seo, 3)
    assert view.summary.total == Decimal("162.20") and view.summary.currency == "EUR"
    assert await env.outbox_types() == []  # drafts are private
    view = await env.requests.submit(ACME, rid)
    assert view.request.status == "submitted"
    assert await env.outbox_types() == ["RequestSubmitted"]
    data = (await env.outbox_last())["data"]
    assert data["total"] == {"amount": "162.20", "currency": "EUR"} and data["account_id"] == "acme"
    assert [(line["name"], line["quantity"], line["line_total"]["amount"]) for line in data["lines"]] == [
        ("SEO", 3, "149.70"),
        ("Setup", 1, "12.50"),
    ]
    # a later price change in the catalog does not move a submitted request
    await env.publish(published(seo, revision=2, price="99.00", name="SEO"))
    assert (await env.requests.get(ACME, rid)).summary.total == Decimal("162.20")


async def test_mixed_currencies_and_unknown_items_are_refused(env):
    eur, usd = await env.offer(), await env.offer(currency="USD")
    with pytest.raises(InvalidInput) as err:
        await env.requests.create(ACME, [(eur, 1), (usd, 1)])
    assert err.value.field == "lines[1].item_id"
    rid = (await env.requests.create(ACME, [(eur, 1)])).request.id
    with pytest.raises(InvalidInput) as err:
        await env.requests.set_line(ACME, rid, usd, 1)
    assert err.value.field == "item_id"
    with pytest.raises(NotOfferedYet) as err:  # unknown to the copy: perhaps not arrived yet
        await env.requests.set_line(ACME, rid, uuid.uuid4(), 1)
    assert err.value.field == "item_id"
    # retired after it was added: the draft shows the problem, submission names the item
    await env.retire(retired(eur, revision=2))
    view = await env.requests.get(ACME, rid)
    assert view.summary.total is None and [p.item_id for p in view.summary.problems] == [eur]
    with pytest.raises(Conflict) as err:
        await env.requests.submit(ACME, rid)
    assert err.value.extra["item_id"] == str(eur)
    assert (await env.requests.get(ACME, rid)).request.status == "draft"


async def test_forbidden_transitions_conflict_and_change_nothing(env):
    item = await env.offer()
    rid = (await env.requests.create(ACME, [(item, 1)])).request.id
    with pytest.raises(Conflict) as err:
        await env.requests.approve(OPS, rid)  # a draft cannot be reviewed
    assert err.value.extra["current_status"] == "draft"
    await env.requests.submit(ACME, rid)
    for attempt in (
        lambda: env.requests.set_line(ACME, rid, item, 5),  # a submitted request cannot be edited
        lambda: env.requests.submit(ACME, rid),
        lambda: env.requests.discard(ACME, rid),
        lambda: env.requests.answer(ACME, rid, "x"),
    ):
        with pytest.raises(Conflict) as err:
            await attempt()
        assert err.value.extra["current_status"] == "submitted"
    await env.requests.reject(OPS, rid, "no capacity")
    with pytest.raises(Conflict) as err:
        await env.requests.approve(OPS, rid)  # a rejected one cannot be approved
    assert err.value.extra["current_status"] == "rejected"
    view = await env.requests.get(ACME, rid)
    assert view.request.status == "rejected" and view.request.lines[0].quantity == 1
    assert await env.outbox_types() == ["RequestSubmitted", "RequestRejected"]


async def test_another_accounts_request_is_not_found(env):
    rid = (await env.requests.create(ACME, [(await env.offer(), 1)])).request.id
    for attempt in (
        lambda: env.requests.get(OTHER, rid),
        lambda: env.requests.history(OTHER, rid, TEN),
        lambda: env.requests.submit(OTHER, rid),
        lambda: env.requests.discard(OTHER, rid),
        lambda: env.requests.remove_line(OTHER, rid, uuid.uuid4()),
        lambda: env.requests.submit(OPS, rid),
    ):  # an admin reviews, it does not submit for others
        with pytest.raises(NotFound):
            await attempt()
    assert (await env.requests.get(OPS, rid)).request.account_id == "acme"  # admins read any


async def test_review_with_a_question_history_and_admin_listing(env):
    item = await env.offer(price="30.00")
    rid = (await env.requests.create(ACME, [(item, 1)])).request.id
    other = (await env.requests.create(OTHER, [(item, 2)])).request.id
    await env.requests.submit(ACME, rid)
    env.clock.advance(days=1)
    await env.requests.submit(OTHER, other)
    await env.requests.ask(OPS, rid, "Which domain?")
    await env.requests.answer(ACME, rid, "example.com")
    view = await env.requests.approve(OPS, rid)
    assert view.request.status == "approved"
    assert await env.outbox_types() == [
        "RequestSubmitted",
        "RequestSubmitted",
        "InformationRequested",
        "InformationProvided",
        "RequestApproved",
    ]
    approved = (await env.outbox_last())["data"]
    assert approved["total"] == {"amount": "30.00", "currency": "EUR"} and approved["approved_by"] == "ops/olga"
    steps = [(t.from_status, t.to_status, t.by, t.note) for t in (await env.requests.history(ACME, rid, TEN)).items]
    assert steps == [
        (None, "draft", "acme/alice", None),
        ("draft", "submitted", "acme/alice", None),
        ("submitted", "information_requested", "ops/olga", "Which domain?"),
        ("information_requested", "submitted", "acme/alice", "example.com"),
        ("submitted", "approved", "ops/olga", None),
    ]
    everything = await env.requests.list(OPS, RequestFilter(), PageRequest(1, 0))
    assert everything.total == 2 and len(everything.items) == 1
    subs = (await env.requests.list(OPS, RequestFilter(status="submitted"), TEN)).items
    assert [h.id for h in subs] == [other] and subs[0].total == Decimal("60.00")
    mine = (await env.requests.list(OPS, RequestFilter(account_id="acme"), TEN)).items
    assert [h.id for h in mine] == [rid] == [h.id for h in (await env.requests.list(ACME, RequestFilter(), TEN)).items]
    late = (await env.requests.list(OPS, RequestFilter(submitted_from=NOW + timedelta(hours=1)), TEN)).items
    assert [h.id for h in late] == [other]
    early = (await env.requests.list(OPS, RequestFilter(submitted_to=NOW + timedelta(hours=1)), TEN)).items
    assert [h.id for h in early] == [rid]
    # a range that ends before it begins holds nothing: an empty page, not an error
    empty = await env.requests.list(OPS, RequestFilter(submitted_from=NOW, submitted_to=NOW - timedelta(days=1)), TEN)
    assert (empty.items, empty.total) == ([], 0)


async def test_payment_activates_once(env):
    monthly = await env.offer(price="9.90", months=3, name="Backup")
    once = await env.offer(price="50.00", billing="one_time", name="Setup")
    rid = (await env.requests.create(ACME, [(monthly, 2), (once, 1)])).request.id
    await env.requests.submit(ACME, rid)
    with pytest.raises(Conflict):  # paid before approval: retried, then dead-lettered
        await env.pay(rid)
    await env.requests.approve(OPS, rid)
    with pytest.raises(InvalidInput) as err:
        await env.pay(rid, account="other")
    assert err.value.field == "account_id"
    subs, events = await env.pay(rid)
    assert len(subs) == 2
    [activated] = events
    assert activated["type"] == "ServicesActivated" and activated["data"]["request_id"] == str(rid)
    assert [(s["name"], s["activated_on"], s["next_due_on"]) for s in activated["data"]["services"]] == [
        ("Backup", "2026-01-31", "2026-04-30"),
        ("Setup", "2026-01-31", None),
    ]
    assert {s["subscription_id"] for s in activated["data"]["services"]} == {str(s.id) for s in subs}
    assert (await env.requests.get(ACME, rid)).request.status == "active"
    assert (await env.requests.history(ACME, rid, TEN)).items[-1].to_status == "active"
    again, events = await env.pay(rid)  # another confirmation of the same request: nothing more
    assert again == [] and events == []
    assert await env.pay(uuid.uuid4()) == ([], [])  # not a request of ours
    mine = (await env.subs.list(ACME, None, TEN)).items
    assert [(s.name, s.quantity, s.unit_price, s.billing, s.status, s.next_due_on) for s in mine] == [
        ("Backup", 2, Decimal("9.90"), "recurring", "active", date(2026, 4, 30)),
        ("Setup", 1, Decimal("50.00"), "one_time", "active", None),
    ]
    assert {(s.activated_on, s.anchor_on) for s in mine} == {(date(2026, 1, 31), date(2026, 1, 31))}
    assert (await env.subs.list(OTHER, None, TEN)).items == []
    assert (await env.subs.list(OTHER, "acme", TEN)).total == 0  # another account's: an empty page
    assert (await env.subs.list(OPS, "acme", TEN)).total == 2 == (await env.subs.list(OPS, None, TEN)).total


async def test_profile_is_stored_and_published_when_it_changes(env):
    with pytest.raises(NotFound):
        await env.profiles.get(ACME)
    await env.profiles.put(ACME, "ops@acme.example", "tr")
    await env.profiles.put(ACME, "ops@acme.example", "tr")  # the same again: nothing to tell
    p = await env.profiles.put(ACME, "billing@acme.example", "de")
    assert (await env.profiles.get(ACME)) == p
    assert await env.outbox_types() == ["AccountProfileChanged", "AccountProfileChanged"]
    last = await env.outbox_last()
    assert last["subject"] == "acme" and last["data"]["email"] == "billing@acme.example"
    with pytest.raises(InvalidInput) as err:
        await env.profiles.put(ACME, "not-an-email", "de")
    assert err.value.field == "email"


async def test_existing_copies_become_services_with_the_cycle_of_their_one_price(new_database):
    import asyncio

    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    from portal_runtime.migrations import upgrade

    migrations = definition().migrations
    url = await new_database("orders")
    await asyncio.to_thread(upgrade, migrations, url, "0003")
    engine = create_async_engine(url)
    yearly, once, tombstone = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    try:
        async with engine.begin() as conn:
            for item_id, status, price, billing, months in (
                (yearly, "offered", "400.00", "recurring", 12),
                (once, "offered", "150.00", "one_time", None),
                (tombstone, "retired", None, None, None),
            ):
                await conn.execute(
                    text(
                        "INSERT INTO offered_items (item_id, revision, status, sku, name, description, price, "
                        "currency, billing, billing_period_months, updated_at) VALUES (:id, 1, :status, 'S', 'N', '', "
                        "CAST(:price AS numeric), 'EUR', :billing, :months, now())"
                    ),
                    {"id": item_id, "status": status, "price": price, "billing": billing, "months": months},
                )
        await asyncio.to_thread(upgrade, migrations, url)
        async with engine.connect() as conn:
            rows = {r.item_id: r for r in await conn.execute(text("SELECT * FROM offered_items"))}
    finally:
        await engine.dispose()
    assert {(r.kind, r.units, tuple(r.parents)) for r in rows.values()} == {("service", None, ())}
    assert rows[yearly].prices == [{"cycle": "annual", "price": "400.00"}]
    assert rows[once].prices == [{"cycle": "one_time", "price": "150.00"}]
    assert rows[tombstone].prices == []
