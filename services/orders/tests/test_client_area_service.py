"""The client area's use cases on a fake unit of work (no database, milliseconds), with the real
domain and the real event mapping: the cart and checkout with its Idempotency-Key, fulfilment on
billing's events (once, however often the payment is told), the services' lists, page and
moves, the featured items; each refusal names its field, a forbidden move is a 409 with
`current_status`, and another account's objects are 404."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from client_area_fakes import FakeClientAreaUnitOfWork

from orders.domain.offers import NotOfferedYet, Offer
from orders.domain.profiles import Profile
from orders.domain.subscriptions import Status
from orders.service.cart import CartService
from orders.service.featured import FeaturedService
from orders.service.fulfilment import FulfilmentService
from orders.service.orders import OrderService
from orders.service.services import ServiceService
from portal_contracts.events import orders as contract
from portal_runtime.auth import Principal
from portal_runtime.clock import FrozenClock
from portal_runtime.errors import Conflict, InvalidInput, NotFound
from portal_runtime.idempotency import Answer
from portal_runtime.lifecycle import InvalidTransition
from portal_runtime.paging import PageRequest

ACME, OTHER = Principal("alice", "acme", "customer"), Principal("otto", "other", "customer")
OPS = Principal("olga", "ops", "admin")
TEN = PageRequest(10, 0)


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)


def item(kind="service", prices=(("monthly", "10.00"),), parents=(), name="Hosting", **kw) -> Offer:
    prices = tuple((cycle, Decimal(price)) for cycle, price in prices)
    return Offer(
        item_id=uuid.uuid4(),
        revision=1,
        sku=f"SKU-{name}",
        name=name,
        price=prices[0][1],
        currency="EUR",
        billing="recurring",
        billing_period_months=1,
        kind=kind,
        prices=prices,
        parents=tuple(parents),
        **kw,
    )


def render(order) -> Answer:
    return Answer(201, {"order_id": str(order.id), "number": order.number, "total": str(order.total)})


class World:
    def __init__(self) -> None:
        self.uow = FakeClientAreaUnitOfWork()
        self.clock = FrozenClock(at(date(2026, 1, 31)))
        from portal_runtime.testing import FakeUnitsOfWork

        units = FakeUnitsOfWork(self.uow)
        self.cart = CartService(units, self.clock, UTC, window_days=30)
        self.orders = OrderService(units)
        self.services = ServiceService(units, self.clock, UTC, window_days=30)
        self.fulfilment = FulfilmentService(units, self.clock, UTC)
        self.featured = FeaturedService(units)
        self.hosting = item(name="Hosting", prices=(("monthly", "10.00"), ("annual", "100.00")))
        self.setup = item(name="Setup", prices=(("one_time", "50.00"),))
        self.ssl = item("add_on", (("monthly", "12.00"), ("annual", "120.00")), [self.hosting.item_id], "SSL")
        self.uow.offers.rows = {o.item_id: o for o in (self.hosting, self.setup, self.ssl)}

    def today(self, day: date) -> None:
        self.clock._at = at(day)

    def published(self, kind: type | None = None) -> list:
        found = [e for e in self.uow.published if kind is None or type(e) is kind]
        return found

    async def place(self, actor=ACME, key: str | None = None) -> dict:
        answer = await self.cart.checkout(actor, key or uuid.uuid4().hex, render)
        assert answer.status_code == 201
        return answer.body

    async def pay(self, order_id: str, on: date) -> uuid.UUID:
        """Billing issues the order's invoice and it is paid in full on `on`."""
        invoice_id = uuid.uuid4()
        self.today(on)
        order = self.uow.orders.rows[uuid.UUID(order_id)]
        assert await self.fulfilment.link_invoice(
            invoice_id=invoice_id,
            number=f"INV-{order.number}",
            source_kind="order" if order.source == "cart" else "renewal",
            source_id=order_id,
            total=order.total,
            currency=order.currency,
            due_on=on,
            issued_at=at(on),
        )
        await self.fulfilment.paid(invoice_id, order.account_id, f"INV-{order.number}", at(on))
        return invoice_id

    async def buy(self, offer: Offer, cycle: str, on: date, actor=ACME, parent: uuid.UUID | None = None):
        """A service (or an add-on of `parent`) through the cart, paid on `on`: its id."""
        self.today(on)
        if parent is None:
            view = await self.cart.add_service(actor, offer.item_id, cycle, "example.com")
        else:
            view = await self.cart.add_add_on(actor, offer.item_id, cycle, parent)
        [line] = [line for line, _, _ in view.lines]
        await self.pay((await self.place(actor))["order_id"], on)
        return line.subscription_id

    def service(self, subscription_id: uuid.UUID):
        return self.uow.subscriptions.rows[subscription_id]


@pytest.fixture
def w() -> World:
    return World()


async def refused(error: type, field: str, call, *args, **kwargs):
    with pytest.raises(error) as err:
        await call(*args, **kwargs)
    assert err.value.field == field, err.value.message
    return err.value


# -- the cart and checkout --------------------------------------------------------------------
async def test_the_cart_is_priced_by_the_server_and_checked_out_once_per_idempotency_key(w):
    empty = await w.cart.get(ACME)
    assert (empty.cart_id, empty.lines, empty.currency) == (None, [], None)
    await w.cart.add_service(ACME, w.hosting.item_id, "annual", " example.com ")
    view = await w.cart.add_service(ACME, w.setup.item_id, "one_time", None)
    assert [(p.name, p.amount, p.domain, p.period_end) for _, p, _ in view.lines] == [
        ("Hosting", Decimal("100.00"), "example.com", date(2027, 1, 31)),
        ("Setup", Decimal("50.00"), None, None),
    ]
    assert view.currency == "EUR"
    first = await w.place(key="k-1")
    again = await w.cart.checkout(ACME, "k-1", render)
    assert again.body == first and len(w.uow.orders.rows) == 1  # the same answer, nothing more placed
    [placed] = w.published(contract.OrderPlacedV2)
    assert (placed.number, placed.source, placed.total.amount, placed.due_on) == (
        first["number"],
        "cart",
        Decimal("150.00"),
        None,
    )
    assert [(line.kind, line.cycle, line.amount.amount) for line in placed.lines] == [
        ("new", "annual", Decimal("100.00")),
        ("new", "one_time", Decimal("50.00")),
    ]
    assert (await w.cart.get(ACME)).lines == []
    await refused(InvalidInput, "lines", w.cart.checkout, ACME, "k-2", render)  # an empty cart


async def test_a_line_refused_since_it_was_added_shows_why_and_checkout_refuses_it(w):
    view = await w.cart.add_service(ACME, w.hosting.item_id, "monthly", None)
    retired = Offer(**{**vars(w.hosting), "status": "retired", "revision": 2})
    w.uow.offers.rows[w.hosting.item_id] = retired
    [(_, priced, problem)] = (await w.cart.get(ACME)).lines
    assert priced is None and problem.field == "item_id"
    await refused(InvalidInput, "item_id", w.cart.checkout, ACME, "k", render)
    assert [line.line_id for line, _, _ in (await w.cart.get(ACME)).lines] == [view.lines[0][0].line_id]
    removed = await w.cart.remove_line(ACME, view.lines[0][0].line_id)
    assert removed.lines == []
    await refused(NotFound, "line_id", w.cart.remove_line, ACME, uuid.uuid4())


async def test_new_line_refusals_name_their_field(w):
    await refused(NotOfferedYet, "item_id", w.cart.add_service, ACME, uuid.uuid4(), "monthly", None)
    err = await refused(InvalidInput, "cycle", w.cart.add_service, ACME, w.hosting.item_id, "quarterly", None)
    assert err.extra["cycles"] == ["monthly", "annual"]
    await refused(InvalidInput, "item_id", w.cart.add_service, ACME, w.ssl.item_id, "monthly", None)  # an add-on


async def test_a_customer_acts_on_its_own_cart_and_an_admin_on_the_account_it_names(w):
    await refused(NotFound, "account_id", w.cart.get, ACME, "other")
    await w.cart.add_service(OPS, w.hosting.item_id, "monthly", None, "acme")
    assert len((await w.cart.get(ACME)).lines) == 1 and (await w.cart.get(OPS)).lines == []


async def test_add_on_refusals_name_their_field_and_the_worked_proration(w):
    hosting = await w.buy(w.hosting, "monthly", date(2026, 1, 1))
    theirs = await w.buy(w.hosting, "monthly", date(2026, 1, 1), actor=OTHER)
    setup = await w.buy(w.setup, "one_time", date(2026, 1, 1))
    add = w.cart.add_add_on
    await refused(NotFound, "parent_subscription_id", add, ACME, w.ssl.item_id, "monthly", theirs)
    await refused(NotFound, "parent_subscription_id", add, ACME, w.ssl.item_id, "monthly", uuid.uuid4())
    await refused(InvalidInput, "cycle", add, ACME, w.ssl.item_id, "quarterly", hosting)
    await refused(InvalidInput, "parent_subscription_id", add, ACME, w.ssl.item_id, "monthly", setup)  # not for it
    w.today(date(2026, 1, 21))  # 11 days of January's 31 left: 12.00 × 11 / 31 = 4.258 → 4.26
    view = await add(ACME, w.ssl.item_id, "monthly", hosting)
    [(line, priced, _)] = view.lines
    assert (priced.amount, priced.period_start, priced.period_end) == (
        Decimal("4.26"),
        date(2026, 1, 21),
        date(2026, 2, 1),
    )
    err = await refused(InvalidInput, "parent_subscription_id", add, ACME, w.ssl.item_id, "monthly", hosting)
    assert err.extra["max_per_parent"] == 1
    await w.services.suspend(OPS, hosting, "abuse")
    await w.cart.remove_line(ACME, line.line_id)
    err = await refused(InvalidInput, "parent_subscription_id", add, ACME, w.ssl.item_id, "monthly", hosting)
    assert err.extra["current_status"] == "suspended"


async def test_an_early_renewal_only_inside_its_window_and_never_twice_for_a_period(w):
    hosting = await w.buy(w.hosting, "monthly", date(2026, 1, 1))  # due 1 February
    w.today(date(2025, 12, 31))  # a test clock set back: 32 days before the due date
    err = await refused(InvalidInput, "subscription_id", w.cart.add_renewal, ACME, hosting)
    assert err.extra["window_opens_on"] == "2026-01-02" and "2026-01-02" in err.message
    w.today(date(2026, 1, 20))
    view = await w.cart.add_renewal(ACME, hosting)
    [(_, priced, _)] = view.lines
    assert (priced.kind, priced.amount, priced.period_start, priced.period_end) == (
        "renewal",
        Decimal("10.00"),
        date(2026, 2, 1),
        date(2026, 3, 1),
    )
    placed = await w.place()
    await refused(InvalidInput, "subscription_id", w.cart.add_renewal, ACME, hosting)  # ordered: pay that invoice
    await w.pay(placed["order_id"], date(2026, 1, 22))
    assert w.service(hosting).next_due_on == date(2026, 3, 1)
    [renewed] = w.published(contract.ServiceRenewed)
    assert (renewed.period_start, renewed.next_due_on) == (date(2026, 2, 1), date(2026, 3, 1))
    setup = await w.buy(w.setup, "one_time", date(2026, 1, 22))
    await refused(InvalidInput, "subscription_id", w.cart.add_renewal, ACME, setup)
    await refused(NotFound, "subscription_id", w.cart.add_renewal, OTHER, hosting)


# -- fulfilment --------------------------------------------------------------------------------
async def test_payment_fulfils_the_order_once_however_often_it_is_told(w):
    hosting = await w.buy(w.hosting, "monthly", date(2026, 1, 31))
    service = w.service(hosting)
    assert (service.status, service.anchor_on, service.next_due_on) == ("active", date(2026, 1, 31), date(2026, 2, 28))
    w.today(date(2026, 2, 3))
    await w.cart.add_add_on(ACME, w.ssl.item_id, "monthly", hosting)
    placed = await w.place()
    invoice = await w.pay(placed["order_id"], date(2026, 2, 3))
    before = (dict(w.uow.subscriptions.rows), len(w.uow.published))
    assert not await w.fulfilment.paid(invoice, "acme", "INV-again", at(date(2026, 2, 4)))  # another PaymentConfirmed
    assert (dict(w.uow.subscriptions.rows), len(w.uow.published)) == before
    [ssl] = [s for s in w.uow.subscriptions.rows.values() if s.parent_id == hosting]
    assert (ssl.status, ssl.next_due_on) == ("active", date(2026, 2, 28))  # due with its parent
    told = w.published(contract.ServiceActivated)
    assert [(e.subscription_id, [a.name for a in e.add_ons]) for e in told] == [(hosting, []), (ssl.id, [])]
    view = await w.orders.get(ACME, uuid.UUID(placed["order_id"]))
    assert (view.order.status, view.invoice_id) == ("paid", invoice)
    await w.fulfilment.voided(invoice)
    assert w.uow.invoices.rows[invoice].status == "voided"


async def test_an_invoice_of_another_source_or_an_unknown_order_is_not_linked(w):
    kw = {"number": "INV-1", "total": Decimal("1.00"), "currency": "EUR", "due_on": date(2026, 1, 31)}
    issued_at = at(date(2026, 1, 31))
    assert not await w.fulfilment.link_invoice(
        invoice_id=uuid.uuid4(), source_kind="service_request", source_id=str(uuid.uuid4()), issued_at=issued_at, **kw
    )
    assert not await w.fulfilment.link_invoice(
        invoice_id=uuid.uuid4(), source_kind="order", source_id=str(uuid.uuid4()), issued_at=issued_at, **kw
    )
    assert not await w.fulfilment.paid(uuid.uuid4(), "acme", "INV-1", issued_at)


async def test_orders_are_listed_by_status_and_another_accounts_order_is_404(w):
    await w.buy(w.hosting, "monthly", date(2026, 1, 1))
    w.today(date(2026, 1, 2))
    await w.cart.add_service(ACME, w.hosting.item_id, "monthly", None)
    placed = await w.place()
    listed = await w.orders.list(ACME, TEN)
    assert [v.order.status for v in listed.items] == ["placed", "paid"] and listed.total == 2
    assert [v.order.id for v in (await w.orders.list(ACME, TEN, status="placed")).items] == [
        uuid.UUID(placed["order_id"])
    ]
    assert (await w.orders.list(OTHER, TEN)).total == 0 and (
        await w.orders.list(OTHER, TEN, account_id="acme")
    ).total == 0
    assert (await w.orders.list(OPS, TEN, account_id="acme")).total == 2
    await refused(NotFound, "order_id", w.orders.get, OTHER, uuid.UUID(placed["order_id"]))


# -- services ----------------------------------------------------------------------------------
async def test_services_list_parents_with_add_ons_counts_and_a_page_with_history_and_invoices(w):
    hosting = await w.buy(w.hosting, "monthly", date(2026, 1, 1))
    ssl = await w.buy(w.ssl, "annual", date(2026, 1, 5), parent=hosting)  # another cycle: its own anchor
    await w.buy(w.setup, "one_time", date(2026, 1, 6))
    await w.buy(w.hosting, "monthly", date(2026, 1, 1), actor=OTHER)
    listed = await w.services.list(ACME, TEN)
    assert [(v.service.name, [a.id for a in v.add_ons]) for v in listed.items] == [
        ("Hosting", [ssl]),
        ("Setup", []),
    ]
    assert [v.service.name for v in (await w.services.list(ACME, TEN, status=Status.COMPLETED)).items] == ["Setup"]
    counts = await w.services.counts(ACME)
    assert (counts["active"], counts["completed"], sum(counts.values())) == (1, 1, 2)
    assert set(counts) == {str(s) for s in Status}
    assert sum((await w.services.counts(OPS)).values()) == 3
    w.today(date(2026, 1, 10))
    page = await w.services.get(ACME, hosting)
    assert [a.id for a in page.add_ons] == [ssl] and len(page.order_ids) == 1
    assert [(t.from_status, t.to_status) for t in page.history] == [(None, "pending"), ("pending", "active")]
    assert [i.status for i in page.invoices] == ["paid"]
    assert (page.renewable, page.window_opens_on) == (True, date(2026, 1, 2))
    assert [v.service.id for v in await w.services.renewable(ACME)] == [hosting]
    assert [o.name for o in await w.services.add_ons_offered(ACME, hosting)] == ["SSL"]
    await refused(NotFound, "subscription_id", w.services.get, OTHER, hosting)


async def test_the_clients_cancellation_at_period_end_and_the_admins_moves(w):
    hosting = await w.buy(w.hosting, "monthly", date(2026, 1, 1))
    ssl = await w.buy(w.ssl, "monthly", date(2026, 1, 5), parent=hosting)
    setup = await w.buy(w.setup, "one_time", date(2026, 1, 6))
    w.uow.published.clear()
    view = await w.services.cancel_at_period_end(ACME, hosting)
    assert (view.service.cancel_at_period_end, view.service.ends_on) == (True, date(2026, 2, 1))
    assert (await w.services.cancel_at_period_end(ACME, hosting)).service.ends_on == date(2026, 2, 1)  # again: same
    [scheduled] = w.published()
    assert type(scheduled) is contract.ServiceCancellationScheduled and scheduled.ends_on == date(2026, 2, 1)
    assert [a.subscription_id for a in scheduled.add_ons] == [ssl]
    err = await refused(Conflict, None, w.services.cancel_at_period_end, ACME, setup)
    assert err.extra["current_status"] == "completed"
    await refused(NotFound, "subscription_id", w.services.cancel_at_period_end, OTHER, hosting)

    await refused(InvalidInput, "reason", w.services.suspend, OPS, hosting, "overdue")
    suspended = await w.services.suspend(OPS, hosting, "abuse report 7")
    assert (suspended.service.status, suspended.service.suspend_reason) == ("suspended", "abuse report 7")
    assert [a.status for a in suspended.add_ons] == ["suspended"]
    await refused(InvalidTransition, None, w.services.suspend, OPS, hosting, "again")
    reactivated = await w.services.reactivate(OPS, hosting)
    assert [reactivated.service.status, *(a.status for a in reactivated.add_ons)] == ["active", "active"]
    err = await refused(InvalidTransition, None, w.services.reactivate, OPS, hosting)
    assert err.extra["current_status"] == "active"
    ended = await w.services.cancel_now(OPS, hosting)
    assert [ended.service.status, *(a.status for a in ended.add_ons)] == ["cancelled", "cancelled"]
    told = [type(e).__name__ for e in w.published()]
    assert told == ["ServiceCancellationScheduled", "ServiceSuspended", "ServiceReactivated", "ServiceCancelled"]
    assert w.published(contract.ServiceCancelled)[0].reason == "admin"
    assert w.published(contract.ServiceSuspended)[0].reason == "abuse report 7"
    err = await refused(InvalidTransition, None, w.services.cancel_now, OPS, hosting)
    assert err.extra["current_status"] == "cancelled"


async def test_featured_items_in_the_accounts_language(w):
    texts = {"en": "New: SSL", "tr": "Yeni: SSL", "de": "Neu: SSL", "pl": "Nowość: SSL"}
    w.uow.offers.rows[w.ssl.item_id] = Offer(**{**vars(w.ssl), "featured": texts})
    [shown] = await w.featured.list(ACME)
    assert (shown.offer.item_id, shown.text) == (w.ssl.item_id, "New: SSL")  # no profile: en
    w.uow.profiles.rows["acme"] = Profile("acme", "a@example.test", "de", at(date(2026, 1, 1)))
    assert [i.text for i in await w.featured.list(ACME)] == ["Neu: SSL"]
