"""The client area's domain (no database, no Kafka, milliseconds): the cart and each of its
refusals, server prices and add-on proration, orders and their lifecycle, renewal orders, the
anchor day across short months, fulfilment, the overdue timeline and cancellations."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from orders.domain import events
from orders.domain.carts import Cart, prorate
from orders.domain.lines import AddOnRef, LineKind
from orders.domain.offers import NotOfferedYet, Offer
from orders.domain.orders import LIFECYCLE, Order, Source, Status, fulfil, ordered_periods, renewal_orders, renewals_due
from orders.domain.overdue import OverdueSettings, apply_overdue, overdue_steps, unpaid_orders
from orders.domain.subscriptions import (
    OVERDUE,
    Subscription,
    end_service,
    ending_at_period_end,
    schedule_cancellation,
    suspend_service,
)
from orders.domain.subscriptions import Status as S
from portal_runtime.errors import Conflict, InvalidInput, NotFound
from portal_runtime.lifecycle import InvalidTransition

NOW = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
ACME = "acme"


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)


def item(kind="service", prices=(("monthly", "10.00"),), parents=(), max_per_parent=1, currency="EUR", **kw) -> Offer:
    prices = tuple((cycle, Decimal(price)) for cycle, price in prices)
    return Offer(
        item_id=kw.pop("item_id", None) or uuid.uuid4(),
        revision=kw.pop("revision", 1),
        sku=kw.pop("sku", "SKU"),
        name=kw.pop("name", "Hosting"),
        price=prices[0][1],
        currency=currency,
        billing="one_time" if prices[0][0] == "one_time" else "recurring",
        billing_period_months=1,
        kind=kind,
        prices=prices,
        parents=tuple(parents),
        max_per_parent=max_per_parent,
        **kw,
    )


class World:
    """An account's catalog copy and services, and the moves the jobs and consumers make."""

    def __init__(self) -> None:
        self.hosting = item(name="Hosting", prices=(("monthly", "10.00"), ("annual", "100.00")))
        self.setup = item(name="Setup", prices=(("one_time", "50.00"),))
        self.ssl = item(
            "add_on", (("monthly", "12.00"), ("annual", "120.00")), parents=[self.hosting.item_id], name="SSL"
        )
        self.offers = {o.item_id: o for o in (self.hosting, self.setup, self.ssl)}
        self.subs: dict[uuid.UUID, Subscription] = {}
        self.numbers = iter(f"ORD-{n:04d}" for n in range(1, 1000))

    def cart(self, account=ACME) -> Cart:
        return Cart.open(account, now=NOW)

    def buy(self, offer: Offer, cycle: str, paid_on: date, *, parent: Subscription | None = None, account=ACME):
        """Cart → order → paid: the new service (or add-on) and its order."""
        cart = self.cart(account)
        if parent is None:
            cart.add_service(offer.item_id, cycle, self.offers, now=at(paid_on), domain="example.com")
        else:
            cart.add_add_on(offer.item_id, cycle, parent.id, self.offers, self.subs, now=at(paid_on))
        order = self.checkout(cart, paid_on)
        [service] = self.pay(order, paid_on).created
        return service, order

    def checkout(self, cart: Cart, today: date, **kw) -> Order:
        return cart.checkout(
            self.offers,
            self.subs,
            number=next(self.numbers),
            by=cart.account_id,
            now=at(today),
            business_date=today,
            **kw,
        )

    def pay(self, order: Order, paid_on: date):
        done = fulfil(order, self.subs, paid_on, by="billing", now=at(paid_on))
        self.subs.update({s.id: s for s in done.created})
        return done

    def renewal_orders(self, due_on: date, ordered=frozenset(), today: date | None = None) -> list[Order]:
        return renewal_orders(
            self.subs.values(),
            due_on,
            set(ordered),
            number=lambda: next(self.numbers),
            by="renewals",
            now=at(today or due_on),
            placed_on=today or due_on,
        )


@pytest.fixture
def w() -> World:
    return World()


def refused(error: type, field: str, call, *args, **kwargs):
    with pytest.raises(error) as err:
        call(*args, **kwargs)
    assert err.value.field == field, err.value.message
    return err.value


def drain(*aggregates) -> list:
    raised = [e for a in aggregates for e in a.events]
    for a in aggregates:
        a.events.clear()
    return raised


# -- new services: lines, refusals, prices ---------------------------------------------------
def test_a_new_service_is_priced_by_the_server_for_its_cycle_and_checked_out(w):
    cart = w.cart()
    cart.add_service(w.hosting.item_id, "annual", w.offers, now=NOW, domain="  example.com ")
    cart.add_service(w.setup.item_id, "one_time", w.offers, now=NOW)
    order = w.checkout(cart, date(2026, 1, 31))
    assert cart.lines == [] and order.status == Status.PLACED and order.source == Source.CART
    assert [(line.kind, line.name, line.cycle, line.amount, line.domain, line.period_end) for line in order.lines] == [
        (LineKind.NEW, "Hosting", "annual", Decimal("100.00"), "example.com", date(2027, 1, 31)),
        (LineKind.NEW, "Setup", "one_time", Decimal("50.00"), None, None),
    ]
    assert (order.total, order.currency, order.due_on, order.placed_on) == (
        Decimal("150.00"),
        "EUR",
        None,
        date(2026, 1, 31),
    )
    [placed] = order.events
    assert type(placed) is events.OrderPlaced and placed.lines == order.lines and placed.source == "cart"
    assert placed.total == Decimal("150.00") and placed.number == order.number


def test_new_service_refusals_name_their_field(w):
    cart = w.cart()
    refused(NotOfferedYet, "item_id", cart.add_service, uuid.uuid4(), "monthly", w.offers, now=NOW)
    gone = item(status="retired")
    refused(InvalidInput, "item_id", cart.add_service, gone.item_id, "monthly", {gone.item_id: gone}, now=NOW)
    refused(InvalidInput, "item_id", cart.add_service, w.ssl.item_id, "monthly", w.offers, now=NOW)  # an add-on
    err = refused(InvalidInput, "cycle", cart.add_service, w.hosting.item_id, "quarterly", w.offers, now=NOW)
    assert err.extra["cycles"] == ["monthly", "annual"]
    refused(InvalidInput, "domain", cart.add_service, w.hosting.item_id, "monthly", w.offers, now=NOW, domain="x" * 254)
    cart.add_service(w.hosting.item_id, "monthly", w.offers, now=NOW)
    usd = item(currency="USD")
    refused(InvalidInput, "item_id", cart.add_service, usd.item_id, "monthly", {usd.item_id: usd}, now=NOW)
    assert len(cart.lines) == 1
    refused(NotFound, "line_id", cart.remove_line, uuid.uuid4(), now=NOW)
    cart.remove_line(cart.lines[0].line_id, now=NOW)
    refused(InvalidInput, "lines", w.checkout, cart, date(2026, 1, 31))


def test_a_line_the_catalog_retired_since_it_was_added_is_refused_at_checkout(w):
    cart = w.cart()
    cart.add_service(w.hosting.item_id, "monthly", w.offers, now=NOW)
    w.offers[w.hosting.item_id] = Offer(**{**vars(w.hosting), "status": "retired", "revision": 2})
    refused(InvalidInput, "item_id", w.checkout, cart, date(2026, 2, 1))
    assert len(cart.lines) == 1  # nothing placed, the cart unchanged


# -- add-ons: refusals, limits, proration ----------------------------------------------------
def test_add_on_refusals_name_their_field(w):
    hosting, _ = w.buy(w.hosting, "monthly", date(2026, 1, 1))
    cart = w.cart()
    add = cart.add_add_on
    refused(NotFound, "parent_subscription_id", add, w.ssl.item_id, "monthly", uuid.uuid4(), w.offers, w.subs, now=NOW)
    theirs, _ = w.buy(w.hosting, "monthly", date(2026, 1, 1), account="other")
    refused(NotFound, "parent_subscription_id", add, w.ssl.item_id, "monthly", theirs.id, w.offers, w.subs, now=NOW)
    refused(InvalidInput, "cycle", add, w.ssl.item_id, "quarterly", hosting.id, w.offers, w.subs, now=NOW)
    refused(InvalidInput, "item_id", add, w.hosting.item_id, "monthly", hosting.id, w.offers, w.subs, now=NOW)
    setup, _ = w.buy(w.setup, "one_time", date(2026, 1, 1))
    refused(InvalidInput, "parent_subscription_id", add, w.ssl.item_id, "monthly", setup.id, w.offers, w.subs, now=NOW)
    hosting.suspend(by="ops", now=NOW, note="abuse")
    err = refused(
        InvalidInput, "parent_subscription_id", add, w.ssl.item_id, "monthly", hosting.id, w.offers, w.subs, now=NOW
    )
    assert err.extra["current_status"] == "suspended"
    assert cart.lines == []


def test_an_add_on_is_bought_at_most_max_per_parent_times(w):
    hosting, _ = w.buy(w.hosting, "monthly", date(2026, 1, 1))
    cart = w.cart()
    cart.add_add_on(w.ssl.item_id, "monthly", hosting.id, w.offers, w.subs, now=NOW)
    err = refused(
        InvalidInput,
        "parent_subscription_id",
        cart.add_add_on,
        w.ssl.item_id,
        "monthly",
        hosting.id,
        w.offers,
        w.subs,
        now=NOW,
    )
    assert err.extra["max_per_parent"] == 1
    w.pay(w.checkout(cart, date(2026, 1, 10)), date(2026, 1, 10))  # now attached: still counted
    refused(
        InvalidInput,
        "parent_subscription_id",
        w.cart().add_add_on,
        w.ssl.item_id,
        "annual",
        hosting.id,
        w.offers,
        w.subs,
        now=NOW,
    )
    two = item("add_on", (("monthly", "1.00"),), parents=[w.hosting.item_id], max_per_parent=2, name="IP")
    unlimited = item("add_on", (("monthly", "1.00"),), parents=[w.hosting.item_id], max_per_parent=None, name="Mail")
    w.offers |= {two.item_id: two, unlimited.item_id: unlimited}
    cart = w.cart()
    for _ in range(2):
        cart.add_add_on(two.item_id, "monthly", hosting.id, w.offers, w.subs, now=NOW)
    refused(
        InvalidInput,
        "parent_subscription_id",
        cart.add_add_on,
        two.item_id,
        "monthly",
        hosting.id,
        w.offers,
        w.subs,
        now=NOW,
    )
    for _ in range(5):
        cart.add_add_on(unlimited.item_id, "monthly", hosting.id, w.offers, w.subs, now=NOW)
    assert len(cart.lines) == 7


def test_an_add_on_not_offered_for_the_parents_product_names_the_parent(w):
    other = item(name="VPS")
    w.offers[other.item_id] = other
    vps, _ = w.buy(other, "monthly", date(2026, 1, 1))
    refused(
        InvalidInput,
        "parent_subscription_id",
        w.cart().add_add_on,
        w.ssl.item_id,
        "monthly",
        vps.id,
        w.offers,
        w.subs,
        now=NOW,
    )


def test_an_add_on_in_the_parents_cycle_is_prorated_to_its_due_date_and_renews_with_it(w):
    hosting, _ = w.buy(w.hosting, "monthly", date(2026, 1, 1))  # due 1 Feb; its period 1 Jan..1 Feb: 31 days
    assert hosting.next_due_on == date(2026, 2, 1)
    cart = w.cart()
    cart.add_add_on(w.ssl.item_id, "monthly", hosting.id, w.offers, w.subs, now=NOW)
    order = w.checkout(cart, date(2026, 1, 22))  # 10 of 31 days left
    [line] = order.lines
    # 12.00 × 10 / 31 = 3.870967... → 3.87
    assert (line.unit_price, line.amount, line.period_start, line.period_end) == (
        Decimal("12.00"),
        Decimal("3.87"),
        date(2026, 1, 22),
        date(2026, 2, 1),
    )
    assert line.parent_subscription_id == hosting.id and order.total == Decimal("3.87")
    [ssl] = w.pay(order, date(2026, 1, 22)).created
    assert (ssl.status, ssl.parent_id, ssl.unit_price, ssl.anchor_on, ssl.next_due_on) == (
        S.ACTIVE,
        hosting.id,
        Decimal("12.00"),  # renews at the full price
        hosting.anchor_on,
        hosting.next_due_on,
    )
    [renewal] = w.renewal_orders(date(2026, 2, 1))
    assert [(line.subscription_id, line.amount) for line in renewal.lines] == [
        (hosting.id, Decimal("10.00")),
        (ssl.id, Decimal("12.00")),
    ]


def test_proration_rounds_half_up_to_cents(w):
    hosting, _ = w.buy(w.hosting, "monthly", date(2026, 4, 1))  # period 1 Apr..1 May: 30 days
    # 18.75 × 1 / 30 = 0.625 exactly → 0.63 (Python's round would give 0.62)
    assert prorate(Decimal("18.75"), hosting, date(2026, 4, 30)) == Decimal("0.63")
    assert prorate(Decimal("12.00"), hosting, date(2026, 4, 1)) == Decimal("12.00")  # the whole period
    assert prorate(Decimal("12.00"), hosting, date(2026, 5, 3)) == Decimal("0.00")  # past its due date: nothing


def test_an_add_on_in_another_cycle_pays_in_full_and_keeps_its_own_anchor(w):
    hosting, _ = w.buy(w.hosting, "monthly", date(2026, 1, 1))
    ssl, order = w.buy(w.ssl, "annual", date(2026, 1, 22), parent=hosting)
    assert order.lines[0].amount == Decimal("120.00") and order.lines[0].period_end == date(2027, 1, 22)
    assert (ssl.anchor_on, ssl.next_due_on, hosting.next_due_on) == (
        date(2026, 1, 22),
        date(2027, 1, 22),
        date(2026, 2, 1),
    )
    activated = [e for e in drain(ssl) if isinstance(e, events.ServiceEvent)]
    assert [(type(e), e.subscription_id, e.parent_id) for e in activated] == [
        (events.ServiceActivated, ssl.id, hosting.id)
    ]


# -- renewals from the cart ------------------------------------------------------------------
def test_early_renewal_only_inside_the_window_naming_when_it_opens(w):
    hosting, _ = w.buy(w.hosting, "annual", date(2026, 1, 31))  # due 31 Jan 2027
    cart = w.cart()
    err = refused(
        InvalidInput,
        "subscription_id",
        cart.add_renewal,
        hosting.id,
        w.subs,
        business_date=date(2026, 12, 31),
        now=NOW,
        window_days=30,
    )
    assert err.extra["window_opens_on"] == "2027-01-01" and "2027-01-01" in err.message
    [line] = cart.add_renewal(hosting.id, w.subs, business_date=date(2027, 1, 1), now=NOW, window_days=30)
    assert (line.kind, line.period_start) == (LineKind.RENEWAL, date(2027, 1, 31))
    refused(
        InvalidInput, "subscription_id", cart.add_renewal, hosting.id, w.subs, business_date=date(2027, 1, 1), now=NOW
    )


def test_renewal_refusals_name_their_field(w):
    hosting, _ = w.buy(w.hosting, "monthly", date(2026, 1, 1))
    setup, _ = w.buy(w.setup, "one_time", date(2026, 1, 1))
    theirs, _ = w.buy(w.hosting, "monthly", date(2026, 1, 1), account="other")
    cart, today = w.cart(), date(2026, 1, 20)
    renew = cart.add_renewal
    refused(InvalidInput, "subscription_id", renew, setup.id, w.subs, business_date=today, now=NOW)
    refused(NotFound, "subscription_id", renew, theirs.id, w.subs, business_date=today, now=NOW)
    refused(NotFound, "subscription_id", renew, uuid.uuid4(), w.subs, business_date=today, now=NOW)
    ordered = {(hosting.id, date(2026, 2, 1))}
    refused(InvalidInput, "subscription_id", renew, hosting.id, w.subs, business_date=today, now=NOW, ordered=ordered)
    schedule_cancellation(hosting, [], by=ACME, now=NOW)
    refused(InvalidInput, "subscription_id", renew, hosting.id, w.subs, business_date=today, now=NOW)
    end_service(hosting, [], "terminate", by="ops", now=NOW)
    err = refused(InvalidInput, "subscription_id", renew, hosting.id, w.subs, business_date=today, now=NOW)
    assert err.extra["current_status"] == "terminated" and cart.lines == []


def test_a_renewal_is_priced_at_the_services_own_price_and_a_period_paid_since_is_refused(w):
    hosting, _ = w.buy(w.hosting, "monthly", date(2026, 1, 1))
    w.offers[w.hosting.item_id] = item(name="Hosting", prices=(("monthly", "15.00"),), item_id=w.hosting.item_id)
    cart = w.cart()
    cart.add_renewal(hosting.id, w.subs, business_date=date(2026, 1, 20), now=NOW)
    quote = cart.quote(w.offers, w.subs, business_date=date(2026, 1, 20))
    [line] = quote.lines
    assert (line.unit_price, line.amount, line.period_start, line.period_end) == (
        Decimal("10.00"),  # not today's 15.00
        Decimal("10.00"),
        date(2026, 2, 1),
        date(2026, 3, 1),
    )
    [renewal] = w.renewal_orders(date(2026, 2, 1), today=date(2026, 1, 20))  # the job's order, paid first
    w.pay(renewal, date(2026, 1, 21))
    refused(InvalidInput, "subscription_id", w.checkout, cart, date(2026, 1, 22))


def test_a_renewal_brings_the_add_ons_due_the_same_day(w):
    hosting, _ = w.buy(w.hosting, "monthly", date(2026, 1, 1))
    ssl, _ = w.buy(w.ssl, "monthly", date(2026, 1, 10), parent=hosting)
    cart = w.cart()
    lines = cart.add_renewal(hosting.id, w.subs, business_date=date(2026, 1, 20), now=NOW)
    assert [(line.subscription_id, line.parent_subscription_id) for line in lines] == [
        (hosting.id, None),
        (ssl.id, hosting.id),
    ]
    order = w.checkout(cart, date(2026, 1, 20))
    assert order.total == Decimal("22.00") and ordered_periods([order]) == {
        (hosting.id, date(2026, 2, 1)),
        (ssl.id, date(2026, 2, 1)),
    }


# -- the anchor day ------------------------------------------------------------------------
def test_the_due_date_keeps_its_anchor_across_short_months(w):
    hosting, _ = w.buy(w.hosting, "monthly", date(2026, 1, 31))
    dues = [hosting.next_due_on]
    for _ in range(3):
        start, end = hosting.next_period
        assert hosting.renew(start, end, by="billing", now=NOW) is True
        dues.append(hosting.next_due_on)
    assert dues == [date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 31)]
    assert hosting.anchor_on == date(2026, 1, 31)


def test_the_anchor_across_leap_years(w):
    monthly, _ = w.buy(w.hosting, "monthly", date(2028, 1, 31))
    assert monthly.next_due_on == date(2028, 2, 29)
    monthly.renew(*monthly.next_period, by="billing", now=NOW)
    assert monthly.next_due_on == date(2028, 3, 31)
    annual, _ = w.buy(w.hosting, "annual", date(2028, 2, 29))
    dues = [annual.next_due_on]
    for _ in range(3):
        annual.renew(*annual.next_period, by="billing", now=NOW)
        dues.append(annual.next_due_on)
    assert dues == [date(2029, 2, 28), date(2030, 2, 28), date(2031, 2, 28), date(2032, 2, 29)]


def test_a_late_payment_does_not_move_the_anchor_and_a_repeat_renews_once(w):
    hosting, _ = w.buy(w.hosting, "monthly", date(2026, 1, 31))
    [order] = w.renewal_orders(date(2026, 2, 28), today=date(2026, 2, 14))
    w.pay(order, date(2026, 3, 10))  # ten days late
    assert (hosting.anchor_on, hosting.next_due_on) == (date(2026, 1, 31), date(2026, 3, 31))
    assert w.pay(order, date(2026, 3, 11)).changed == ()  # the payment seen again
    assert hosting.renew(date(2026, 2, 28), date(2026, 3, 31), by="billing", now=NOW) is False
    assert hosting.next_due_on == date(2026, 3, 31)
    with pytest.raises(Conflict):  # a period that is not the next one
        hosting.renew(date(2026, 4, 30), date(2026, 5, 31), by="billing", now=NOW)


# -- renewal orders ------------------------------------------------------------------------
def test_one_renewal_order_per_account_and_due_date_with_the_add_ons(w):
    hosting, _ = w.buy(w.hosting, "monthly", date(2026, 1, 1))
    ssl, _ = w.buy(w.ssl, "monthly", date(2026, 1, 10), parent=hosting)
    annual_ssl, _ = w.buy(w.ssl, "annual", date(2026, 1, 10), parent=w.buy(w.hosting, "monthly", date(2026, 1, 5))[0])
    second, _ = w.buy(w.hosting, "monthly", date(2026, 1, 1))
    theirs, _ = w.buy(w.hosting, "monthly", date(2026, 1, 1), account="other")
    assert renewals_due(w.subs.values(), date(2026, 1, 18), days_before=14) == [date(2026, 2, 1)]
    assert renewals_due(w.subs.values(), date(2026, 1, 22), days_before=14) == [date(2026, 2, 1), date(2026, 2, 5)]
    orders = w.renewal_orders(date(2026, 2, 1), today=date(2026, 1, 18))
    assert sorted((o.account_id, len(o.lines)) for o in orders) == [(ACME, 3), ("other", 1)]
    mine = next(o for o in orders if o.account_id == ACME)
    assert [line.subscription_id for line in mine.lines] == [hosting.id, ssl.id, second.id]
    assert {line.kind for line in mine.lines} == {LineKind.RENEWAL} and mine.due_on == date(2026, 2, 1)
    assert mine.source == Source.RENEWAL and mine.total == Decimal("32.00")
    assert {(line.period_start, line.period_end) for line in mine.lines} == {(date(2026, 2, 1), date(2026, 3, 1))}
    assert theirs.id in {line.subscription_id for o in orders for line in o.lines}
    assert annual_ssl.id not in {line.subscription_id for o in orders for line in o.lines}
    # run again (the same day, the day after): every period is on an order already
    assert w.renewal_orders(date(2026, 2, 1), ordered=ordered_periods(orders)) == []


def test_renewal_orders_skip_periods_already_ordered_and_cancellations_at_period_end(w):
    hosting, _ = w.buy(w.hosting, "monthly", date(2026, 1, 1))
    ssl, _ = w.buy(w.ssl, "monthly", date(2026, 1, 10), parent=hosting)
    leaving, _ = w.buy(w.hosting, "monthly", date(2026, 1, 1))
    schedule_cancellation(leaving, [], by=ACME, now=NOW)
    [order] = w.renewal_orders(date(2026, 2, 1), ordered={(hosting.id, date(2026, 2, 1))})
    assert [line.subscription_id for line in order.lines] == [ssl.id]  # bought after the parent's order was made
    cancelled = w.renewal_orders(date(2026, 2, 1))[0]
    cancelled.cancel("admin", by="ops", now=NOW)
    assert ordered_periods([cancelled]) == set()


# -- fulfilment ----------------------------------------------------------------------------
def test_fulfilment_activates_new_services_anchored_on_the_payment_day(w):
    cart = w.cart()
    cart.add_service(w.hosting.item_id, "monthly", w.offers, now=NOW, domain="example.com")
    cart.add_service(w.setup.item_id, "one_time", w.offers, now=NOW)
    order = w.checkout(cart, date(2026, 1, 28))
    done = w.pay(order, date(2026, 1, 31))
    hosting, setup = done.created
    assert [line.subscription_id for line in order.lines] == [hosting.id, setup.id]
    assert (hosting.status, hosting.anchor_on, hosting.next_due_on, hosting.domain, hosting.order_id) == (
        S.ACTIVE,
        date(2026, 1, 31),
        date(2026, 2, 28),
        "example.com",
        order.id,
    )
    assert (setup.status, setup.next_due_on, setup.cycle) == (S.COMPLETED, None, "one_time")
    assert order.status == Status.PAID and [type(e) for e in order.events] == [events.OrderPlaced, events.OrderPaid]
    told = [e for e in drain(hosting) if isinstance(e, events.ServiceEvent)]
    assert [(type(e), e.name, e.domain, e.cycle, e.price, e.next_due_on, e.add_ons) for e in told] == [
        (events.ServiceActivated, "Hosting", "example.com", "monthly", Decimal("10.00"), date(2026, 2, 28), ())
    ]
    assert w.pay(order, date(2026, 2, 1)) == type(done)()  # a payment seen again: nothing


def test_fulfilment_of_a_renewal_tells_one_event_per_parent_naming_its_add_ons(w):
    hosting, _ = w.buy(w.hosting, "monthly", date(2026, 1, 1))
    ssl, _ = w.buy(w.ssl, "monthly", date(2026, 1, 10), parent=hosting)
    drain(hosting, ssl)
    [order] = w.renewal_orders(date(2026, 2, 1))
    done = w.pay(order, date(2026, 1, 30))
    assert {s.id for s in done.changed} == {hosting.id, ssl.id} and done.created == ()
    assert (hosting.next_due_on, ssl.next_due_on) == (date(2026, 3, 1), date(2026, 3, 1))
    told = [e for e in drain(hosting, ssl) if isinstance(e, events.ServiceEvent)]
    assert [(type(e), e.subscription_id, e.add_ons, e.period_start, e.next_due_on) for e in told] == [
        (events.ServiceRenewed, hosting.id, (AddOnRef(ssl.id, "SSL"),), date(2026, 2, 1), date(2026, 3, 1))
    ]


def test_an_add_on_paid_after_its_parent_ended_is_a_conflict(w):
    hosting, _ = w.buy(w.hosting, "monthly", date(2026, 1, 1))
    cart = w.cart()
    cart.add_add_on(w.ssl.item_id, "monthly", hosting.id, w.offers, w.subs, now=NOW)
    order = w.checkout(cart, date(2026, 1, 10))
    end_service(hosting, [], "cancel", by="ops", now=NOW)
    with pytest.raises(Conflict) as err:
        w.pay(order, date(2026, 1, 11))
    assert err.value.field == "parent_subscription_id" and err.value.extra["current_status"] == "cancelled"


# -- overdue -------------------------------------------------------------------------------
SETTINGS = OverdueSettings(reminder_days=1, suspend_after_days=7, terminate_after_days=30)


def test_the_overdue_timeline_remind_suspend_terminate(w):
    hosting, _ = w.buy(w.hosting, "monthly", date(2026, 2, 28))  # due 28 Mar
    ssl, _ = w.buy(w.ssl, "monthly", date(2026, 3, 1), parent=hosting)
    drain(hosting, ssl)
    [order] = w.renewal_orders(date(2026, 3, 28), today=date(2026, 3, 14))

    def steps(day, reminded=frozenset()):
        return overdue_steps([order], w.subs, day, SETTINGS, set(reminded))

    assert steps(date(2026, 3, 28)) == []  # due today: nothing yet
    [remind] = steps(date(2026, 3, 29))
    assert (remind.action, remind.subscription_id, remind.suspends_on) == ("remind", hosting.id, date(2026, 4, 4))
    apply_overdue(remind, order, w.subs, by="overdue", now=at(date(2026, 3, 29)))
    [overdue] = drain(hosting)
    assert type(overdue) is events.ServiceOverdue and overdue.due_on == date(2026, 3, 28)
    assert overdue.add_ons == (AddOnRef(ssl.id, "SSL"),) and hosting.status == S.ACTIVE
    assert steps(date(2026, 3, 30), reminded={(hosting.id, date(2026, 3, 28))}) == []
    assert steps(date(2026, 4, 3), reminded={(hosting.id, date(2026, 3, 28))}) == []
    [suspend] = steps(date(2026, 4, 4), reminded={(hosting.id, date(2026, 3, 28))})
    assert suspend.action == "suspend"
    changed = apply_overdue(suspend, order, w.subs, by="overdue", now=at(date(2026, 4, 4)))
    assert {s.id for s in changed} == {hosting.id, ssl.id}
    assert (hosting.status, hosting.suspend_reason, ssl.status) == (S.SUSPENDED, OVERDUE, S.SUSPENDED)
    told = [e for e in drain(hosting, ssl) if isinstance(e, events.ServiceEvent)]
    assert [(type(e), e.reason, e.add_ons) for e in told] == [
        (events.ServiceSuspended, "overdue", (AddOnRef(ssl.id, "SSL"),))
    ]
    assert steps(date(2026, 4, 26)) == []  # suspended: waits for the termination
    [terminate] = steps(date(2026, 4, 27))
    assert terminate.action == "terminate" and terminate.terminates_on == date(2026, 4, 27)
    apply_overdue(terminate, order, w.subs, by="overdue", now=at(date(2026, 4, 27)))
    assert (hosting.status, ssl.status, hosting.next_due_on) == (S.TERMINATED, S.TERMINATED, None)
    assert (order.status, order.cancel_reason) == (Status.CANCELLED, "terminated")
    assert type(order.events[-1]) is events.OrderCancelled and order.events[-1].reason == "terminated"
    told = [e for e in drain(hosting, ssl) if isinstance(e, events.ServiceEvent)]
    assert [(type(e), e.add_ons) for e in told] == [(events.ServiceTerminated, (AddOnRef(ssl.id, "SSL"),))]
    with pytest.raises(InvalidTransition) as err:  # its invoice was voided: a payment is a 409
        w.pay(order, date(2026, 4, 28))
    assert err.value.status_code == 409 and err.value.extra["current_status"] == "cancelled"
    assert steps(date(2026, 5, 30)) == []


def test_a_job_run_late_takes_the_furthest_step(w):
    hosting, _ = w.buy(w.hosting, "monthly", date(2026, 1, 1))
    [order] = w.renewal_orders(date(2026, 2, 1))
    assert [s.action for s in overdue_steps([order], w.subs, date(2026, 2, 20), SETTINGS)] == ["suspend"]
    assert [s.action for s in overdue_steps([order], w.subs, date(2026, 3, 20), SETTINGS)] == ["terminate"]
    w.pay(order, date(2026, 2, 2))
    assert overdue_steps([order], w.subs, date(2026, 3, 20), SETTINGS) == []
    with pytest.raises(ValueError):
        OverdueSettings(reminder_days=1, suspend_after_days=30, terminate_after_days=7)


def test_paying_an_overdue_suspension_reactivates_the_service_and_its_add_ons(w):
    hosting, _ = w.buy(w.hosting, "monthly", date(2026, 1, 31))
    ssl, _ = w.buy(w.ssl, "monthly", date(2026, 2, 1), parent=hosting)
    [order] = w.renewal_orders(date(2026, 2, 28), today=date(2026, 2, 14))
    [step] = overdue_steps([order], w.subs, date(2026, 3, 7), SETTINGS)
    apply_overdue(step, order, w.subs, by="overdue", now=at(date(2026, 3, 7)))
    drain(hosting, ssl)
    done = w.pay(order, date(2026, 3, 9))
    assert (hosting.status, ssl.status, hosting.suspend_reason) == (S.ACTIVE, S.ACTIVE, None)
    assert (hosting.anchor_on, hosting.next_due_on) == (date(2026, 1, 31), date(2026, 3, 31))  # late: anchor kept
    assert {s.id for s in done.changed} == {hosting.id, ssl.id}
    told = [e for e in drain(hosting, ssl) if isinstance(e, events.ServiceEvent)]
    assert [(type(e), e.subscription_id, e.add_ons) for e in told] == [
        (events.ServiceRenewed, hosting.id, (AddOnRef(ssl.id, "SSL"),)),
        (events.ServiceReactivated, hosting.id, (AddOnRef(ssl.id, "SSL"),)),
    ]


def test_a_service_an_admin_suspended_stays_suspended_after_payment(w):
    hosting, _ = w.buy(w.hosting, "monthly", date(2026, 1, 1))
    [order] = w.renewal_orders(date(2026, 2, 1), today=date(2026, 1, 20))
    suspend_service(hosting, [], reason="abuse", by="ops", now=NOW)
    assert overdue_steps([order], w.subs, date(2026, 2, 10), SETTINGS) == []  # not suspended again
    w.pay(order, date(2026, 2, 10))
    assert (hosting.status, hosting.suspend_reason, hosting.next_due_on) == (S.SUSPENDED, "abuse", date(2026, 3, 1))


def test_cart_orders_left_unpaid_are_cancelled_after_the_setting(w):
    cart = w.cart()
    cart.add_service(w.hosting.item_id, "monthly", w.offers, now=NOW)
    unpaid = w.checkout(cart, date(2026, 1, 1))
    cart.add_service(w.hosting.item_id, "monthly", w.offers, now=NOW)
    paid = w.checkout(cart, date(2026, 1, 1))
    w.pay(paid, date(2026, 1, 2))
    w.buy(w.hosting, "monthly", date(2026, 1, 1))
    renewal = w.renewal_orders(date(2026, 2, 1), today=date(2026, 1, 1))
    every = [unpaid, paid, *renewal]
    assert unpaid_orders(every, date(2026, 1, 14), cancel_unpaid_after_days=14) == []
    assert unpaid_orders(every, date(2026, 1, 15), cancel_unpaid_after_days=14) == [unpaid]
    unpaid.cancel("unpaid", by="orders", now=NOW)
    assert unpaid_orders(every, date(2026, 2, 15), cancel_unpaid_after_days=14) == []


# -- cancellation ----------------------------------------------------------------------------
def test_cancel_at_period_end_ends_the_service_and_its_add_ons_on_the_due_date(w):
    hosting, _ = w.buy(w.hosting, "monthly", date(2026, 1, 31))
    ssl, _ = w.buy(w.ssl, "monthly", date(2026, 2, 1), parent=hosting)
    drain(hosting, ssl)
    assert schedule_cancellation(hosting, [ssl], by=ACME, now=NOW) is True
    assert schedule_cancellation(hosting, [ssl], by=ACME, now=NOW) is False  # once
    assert (hosting.ends_on, ssl.cancel_at_period_end, hosting.status) == (date(2026, 2, 28), True, S.ACTIVE)
    told = [e for e in drain(hosting, ssl) if isinstance(e, events.ServiceEvent)]
    assert [(type(e), e.ends_on, e.add_ons) for e in told] == [
        (events.ServiceCancellationScheduled, date(2026, 2, 28), (AddOnRef(ssl.id, "SSL"),))
    ]
    assert w.renewal_orders(date(2026, 2, 28)) == []  # no renewal invoice
    assert ending_at_period_end(w.subs.values(), date(2026, 2, 27)) == []
    [ending] = ending_at_period_end(w.subs.values(), date(2026, 2, 28))
    assert ending is hosting
    assert end_service(hosting, [ssl], "cancel", by="orders", now=at(date(2026, 2, 28))) == [ssl]
    assert (hosting.status, ssl.status) == (S.CANCELLED, S.CANCELLED)
    told = [e for e in drain(hosting, ssl) if isinstance(e, events.ServiceEvent)]
    assert [(type(e), e.add_ons) for e in told] == [(events.ServiceCancelled, (AddOnRef(ssl.id, "SSL"),))]


def test_cancellation_refusals_and_admin_cancel_at_once(w):
    setup, _ = w.buy(w.setup, "one_time", date(2026, 1, 1))
    with pytest.raises(Conflict) as err:
        schedule_cancellation(setup, [], by=ACME, now=NOW)
    assert err.value.extra["current_status"] == "completed" and not setup.cancel_at_period_end
    hosting, _ = w.buy(w.hosting, "monthly", date(2026, 1, 1))
    ssl, _ = w.buy(w.ssl, "annual", date(2026, 1, 2), parent=hosting)
    end_service(hosting, [ssl], "cancel", by="ops", now=NOW, note="admin")
    assert (hosting.status, ssl.status, ssl.next_due_on) == (S.CANCELLED, S.CANCELLED, None)
    with pytest.raises(InvalidTransition) as err:
        schedule_cancellation(hosting, [], by=ACME, now=NOW)
    assert err.value.extra["current_status"] == "cancelled"
    with pytest.raises(Conflict):
        hosting.renew(date(2026, 2, 1), date(2026, 3, 1), by="billing", now=NOW)


# -- the order's lifecycle -------------------------------------------------------------------
def test_the_order_table_and_its_forbidden_moves(w):
    assert LIFECYCLE.table == {
        ("placed", "pay"): "paid",
        ("placed", "cancel"): "cancelled",
        ("paid", "cancel"): "cancelled",  # an order of goods only (issue 15): a paid one of services is a 409
    }
    cart = w.cart()
    cart.add_service(w.hosting.item_id, "monthly", w.offers, now=NOW)
    order = w.checkout(cart, date(2026, 1, 1))
    refused(InvalidInput, "reason", order.cancel, "bored", by="ops", now=NOW)
    assert order.pay(by="billing", now=NOW) is True and order.pay(by="billing", now=NOW) is False
    with pytest.raises(Conflict) as err:
        order.cancel("admin", by="ops", now=NOW)
    assert err.value.status_code == 409 and err.value.extra["current_status"] == "paid"
    assert [(t.from_status, t.to_status) for t in order.history] == [(None, "placed"), ("placed", "paid")]


def test_an_order_has_lines_in_one_currency(w):
    usd = item(currency="USD")
    eur_line = w.cart().quote(w.offers, w.subs, business_date=date(2026, 1, 1))
    assert eur_line.lines == () and eur_line.total == Decimal("0.00")
    a, b = w.cart(), w.cart()
    a.add_service(w.hosting.item_id, "monthly", w.offers, now=NOW)
    b.add_service(usd.item_id, "monthly", {usd.item_id: usd}, now=NOW)
    lines = [
        *a.quote(w.offers, w.subs, business_date=date(2026, 1, 1)).lines,
        *b.quote({usd.item_id: usd}, {}, business_date=date(2026, 1, 1)).lines,
    ]
    place = Order.place
    kw = {"account_id": ACME, "number": "ORD-1", "source": "cart", "by": ACME, "now": NOW, "placed_on": NOW.date()}
    refused(InvalidInput, "lines", place, lines=lines, **kw)
    refused(InvalidInput, "lines", place, lines=[], **kw)
