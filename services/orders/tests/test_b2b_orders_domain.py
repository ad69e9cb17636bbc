"""Goods in the cart, an order's three statuses and its shown status, and a channel's order, in the
domain alone (no database)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from orders.domain import b2b_orders
from orders.domain.b2b_orders import CheckoutStatus, PaymentStatus, ShippingStatus, status_label
from orders.domain.carts import Cart
from orders.domain.channel_orders import ChannelLine, channel_order
from orders.domain.lines import LineKind
from orders.domain.offers import NotOfferedYet, Offer
from orders.domain.offers import Status as OfferStatus
from orders.domain.orders import Source
from portal_runtime.errors import Conflict, InvalidInput, NotFound

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TODAY = date(2026, 3, 2)


def offer(name: str, kind: str = "good", prices=(("one_time", "4.50"),), currency="EUR", **kw) -> Offer:
    prices = tuple((c, Decimal(p)) for c, p in prices)
    return Offer(
        item_id=uuid.uuid4(),
        revision=1,
        sku=f"SKU-{name}",
        name=name,
        price=prices[0][1],
        currency=currency,
        kind=kind,
        prices=prices,
        **kw,
    )


PAPER = offer("Paper")
TONER = offer("Toner", prices=(("one_time", "39.90"),))
HOSTING = offer("Hosting", "service", (("monthly", "10.00"),))
OFFERS = {o.item_id: o for o in (PAPER, TONER, HOSTING)}


def cart() -> Cart:
    return Cart.open("acme", now=NOW)


def test_goods_are_priced_at_their_one_time_price_times_the_quantity_beside_services():
    c = cart()
    c.add_good(PAPER.item_id, 3, OFFERS, now=NOW)
    c.add_good(PAPER.item_id, 2, OFFERS, now=NOW)  # the same good again adds to its line
    line = c.add_good(TONER.item_id, 1, OFFERS, now=NOW)
    c.add_service(HOSTING.item_id, "monthly", OFFERS, now=NOW, domain="example.com")
    assert [(x.kind, x.quantity, x.subscription_id is None) for x in c.lines] == [
        (LineKind.GOOD, 5, True),
        (LineKind.GOOD, 1, True),
        (LineKind.NEW, 1, False),
    ]
    c.set_quantity(line.line_id, 2, now=NOW)
    quote = c.quote(OFFERS, {}, business_date=TODAY)
    paper, toner, hosting = quote.lines
    assert (paper.unit_price, paper.amount, paper.cycle, paper.period_start) == (
        Decimal("4.50"),
        Decimal("22.50"),
        "one_time",
        None,
    )
    assert (toner.quantity, toner.amount, hosting.amount) == (2, Decimal("79.80"), Decimal("10.00"))
    assert quote.total == Decimal("112.30")
    order = c.checkout(OFFERS, {}, number="ORD-2026-000001", by="alice", now=NOW, business_date=TODAY)
    assert [line.kind for line in order.lines] == [LineKind.GOOD, LineKind.GOOD, LineKind.NEW]
    assert (order.source, order.shipping_status, order.checkout_status, order.payment_status) == (
        Source.CART,
        ShippingStatus.UNSHIPPED,
        CheckoutStatus.COMPLETED,
        PaymentStatus.NOT_SUBMITTED,
    )
    assert (order.checkout_at, order.shipping_at, order.payment_at) == (NOW, NOW, None)
    assert status_label(order) == "Completed" and c.lines == []


@pytest.mark.parametrize("quantity", [0, 10001])
def test_a_quantity_out_of_range_is_refused_naming_quantity(quantity):
    c = cart()
    with pytest.raises(InvalidInput) as err:
        c.add_good(PAPER.item_id, quantity, OFFERS, now=NOW)
    assert err.value.field == "quantity" and c.lines == []
    line = c.add_good(PAPER.item_id, 1, OFFERS, now=NOW)
    with pytest.raises(InvalidInput) as err:
        c.set_quantity(line.line_id, quantity, now=NOW)
    assert err.value.field == "quantity" and c.lines[0].quantity == 1
    with pytest.raises(InvalidInput):  # the same good again, past the maximum
        c.add_good(PAPER.item_id, 10000, OFFERS, now=NOW)


def test_goods_refusals_name_their_field():
    c = cart()
    with pytest.raises(NotOfferedYet):  # unknown (or invisible: left out of the offers)
        c.add_good(uuid.uuid4(), 1, OFFERS, now=NOW)
    with pytest.raises(InvalidInput) as err:  # a service is not a good
        c.add_good(HOSTING.item_id, 1, OFFERS, now=NOW)
    assert err.value.field == "item_id"
    with pytest.raises(InvalidInput) as err:  # nor a good a service
        c.add_service(PAPER.item_id, "one_time", OFFERS, now=NOW)
    assert err.value.field == "item_id"
    usd = offer("Cable", currency="USD")
    c.add_good(PAPER.item_id, 1, OFFERS, now=NOW)
    with pytest.raises(InvalidInput) as err:
        c.add_good(usd.item_id, 1, {**OFFERS, usd.item_id: usd}, now=NOW)
    assert err.value.field == "item_id"
    service = c.add_service(HOSTING.item_id, "monthly", OFFERS, now=NOW)
    with pytest.raises(InvalidInput) as err:
        c.set_quantity(service.line_id, 2, now=NOW)
    assert err.value.field == "quantity"
    with pytest.raises(NotFound):
        c.set_quantity(uuid.uuid4(), 2, now=NOW)


def test_an_order_of_services_only_has_nothing_to_ship_and_a_reorder_cart_places_a_reorder():
    c = cart()
    c.add_service(HOSTING.item_id, "monthly", OFFERS, now=NOW)
    c.reordered_from = origin = uuid.uuid4()
    order = c.checkout(OFFERS, {}, number="ORD-2026-000002", by="alice", now=NOW, business_date=TODAY)
    assert (order.shipping_status, order.source, order.reordered_from) == (
        ShippingStatus.NOT_APPLICABLE,
        Source.REORDER,
        origin,
    )
    assert c.reordered_from is None  # the next order from this cart is a plain one
    c.add_service(HOSTING.item_id, "monthly", OFFERS, now=NOW)
    assert c.checkout(OFFERS, {}, number="ORD-3", by="a", now=NOW, business_date=TODAY).source == Source.CART


def placed():
    c = cart()
    c.add_good(PAPER.item_id, 1, OFFERS, now=NOW)
    return c.checkout(OFFERS, {}, number="ORD-2026-000001", by="alice", now=NOW, business_date=TODAY)


def test_hold_and_release_each_write_a_history_row_and_refuse_the_wrong_move():
    order = placed()
    b2b_orders.hold(order, by="olga", now=NOW + timedelta(hours=1), note="address check")
    assert (order.checkout_status, order.checkout_at) == (CheckoutStatus.ON_HOLD, NOW + timedelta(hours=1))
    with pytest.raises(Conflict) as err:
        b2b_orders.hold(order, by="olga", now=NOW)
    assert err.value.extra["current_status"] == "on_hold"
    b2b_orders.release(order, by="olga", now=NOW + timedelta(hours=2))
    assert order.checkout_status == CheckoutStatus.COMPLETED
    with pytest.raises(Conflict):
        b2b_orders.release(order, by="olga", now=NOW)
    notes = [t.note for t in order.history[1:]]
    assert notes == ["checkout: on_hold (address check)", "checkout: completed"]
    assert [t.by for t in order.history[1:]] == ["olga", "olga"] and order.status == "placed"


def test_the_payment_status_follows_payments_and_ignores_late_ones():
    order = placed()
    t = NOW + timedelta(hours=1)
    assert b2b_orders.payment(order, PaymentStatus.SUBMITTED, at=t, by="billing", now=t)
    assert not b2b_orders.payment(order, PaymentStatus.SUBMITTED, at=t, by="billing", now=t)  # told again
    assert b2b_orders.payment(order, PaymentStatus.FAILED, at=t + timedelta(hours=1), by="billing", now=t)
    # a part payment from before the failure, arriving late, changes nothing
    assert not b2b_orders.payment(order, PaymentStatus.SUBMITTED, at=t - timedelta(minutes=5), by="billing", now=t)
    assert (order.payment_status, order.payment_at) == (PaymentStatus.FAILED, t + timedelta(hours=1))
    assert b2b_orders.payment(order, PaymentStatus.SUBMITTED, at=t + timedelta(hours=2), by="billing", now=t)
    assert b2b_orders.payment(order, PaymentStatus.CLEARED, at=t + timedelta(hours=3), by="billing", now=t)
    assert status_label(order) == "Cleared"
    assert not b2b_orders.payment(order, PaymentStatus.FAILED, at=t + timedelta(hours=4), by="billing", now=t)
    assert order.payment_status == PaymentStatus.CLEARED
    order.shipping_status = ShippingStatus.SHIPPED  # the order manager's shipments set it
    assert status_label(order) == "Shipped"


def channel(lines, by_id=None, by_sku=None, hidden=frozenset(), currency="EUR"):
    return channel_order(
        channel="shop",
        channel_order_id="S-1",
        account_id="acme",
        currency=currency,
        lines=lines,
        by_id=OFFERS if by_id is None else by_id,
        by_sku={o.sku: o for o in OFFERS.values()} if by_sku is None else by_sku,
        hidden=set(hidden),
        number="ORD-2026-000009",
        now=NOW,
        today=TODAY,
        customer_reference="PO-7",
    )


def test_a_channel_order_is_placed_at_the_channels_prices_by_id_or_sku():
    order = channel(
        [
            ChannelLine(item_id=PAPER.item_id, sku=None, quantity=4, unit_price=Decimal("3.99")),
            ChannelLine(item_id=None, sku="SKU-Hosting", quantity=1, unit_price=Decimal("8.00")),
        ]
    )
    paper, hosting = order.lines
    assert (paper.kind, paper.amount, paper.unit_price, paper.subscription_id) == (
        LineKind.GOOD,
        Decimal("15.96"),
        Decimal("3.99"),
        None,
    )
    assert (hosting.kind, hosting.item_id, hosting.cycle, hosting.period_start) == (
        LineKind.NEW,
        HOSTING.item_id,
        "monthly",
        TODAY,
    )
    assert (order.source, order.channel, order.channel_order_id, order.placed_by) == (
        Source.CHANNEL,
        "shop",
        "S-1",
        "channel:shop",
    )
    assert (order.total, order.customer_reference, order.shipping_status) == (Decimal("23.96"), "PO-7", "unshipped")
    [placed_event] = order.events
    assert (placed_event.channel, placed_event.placed_by) == ("shop", "channel:shop")


@pytest.mark.parametrize(
    "case",
    ["unknown", "retired", "invisible", "unknown sku", "currency"],
)
def test_a_channel_order_with_a_line_the_account_may_not_order_is_refused_whole(case):
    gone = Offer(**{**vars(TONER), "status": OfferStatus.RETIRED})
    line = ChannelLine(item_id=PAPER.item_id, sku=None, quantity=1, unit_price=Decimal("1.00"))
    kwargs = {}
    if case == "unknown":
        line = ChannelLine(item_id=uuid.uuid4(), sku=None, quantity=1, unit_price=Decimal("1.00"))
    elif case == "retired":
        line = ChannelLine(item_id=TONER.item_id, sku=None, quantity=1, unit_price=Decimal("1.00"))
        kwargs["by_id"] = {**OFFERS, TONER.item_id: gone}
    elif case == "invisible":
        kwargs["hidden"] = {PAPER.item_id}
    elif case == "unknown sku":
        line = ChannelLine(item_id=None, sku="NOPE", quantity=1, unit_price=Decimal("1.00"))
    else:
        kwargs["currency"] = "USD"
    with pytest.raises(InvalidInput) as err:
        channel([ChannelLine(item_id=HOSTING.item_id, sku=None, quantity=1, unit_price=Decimal("9")), line], **kwargs)
    assert err.value.field == ("lines[0]" if case == "currency" else "lines[1]")  # the first line refused
    if case == "invisible":  # answers exactly as an unknown item
        assert err.value.message == f"line 2: item {PAPER.item_id} is unknown"
