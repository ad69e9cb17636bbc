"""Tax rates (issue 16) in the domain alone (no database): orders' catalog copy keeps an item's tax
rate; every order line records its item's rate when placed (a cart's, a reorder's, a quote's, a
channel's and a renewal's), the order shows `tax_total` (each line's net × rate, half-up) and
`total_with_tax` beside its net `total`, and OrderPlaced v2 lines carry the rate. Untaxed items:
nothing changes."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

from orders.adapters.events import offer_from_published, to_contract
from orders.domain.carts import Cart
from orders.domain.channel_orders import ChannelLine, channel_order
from orders.domain.events import OrderPlaced
from orders.domain.lines import canonical_rate
from orders.domain.offers import Offer, tax_rates
from orders.domain.orders import Order, renewal_orders
from orders.domain.quotes import LineIn, Quote, place_order, quote_line
from orders.domain.subscriptions import Status as ServiceStatus
from orders.domain.subscriptions import Subscription
from orders.http.models import OrderOut
from orders.service.orders import OrderView
from portal_contracts import Money
from portal_contracts.events.catalog import CatalogItemPublished, CyclePrice
from portal_contracts.events.orders import OrderPlacedV2

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TODAY = date(2026, 3, 2)


def offer(name: str, price: str, rate: str | None, kind: str = "good", cycle: str = "one_time") -> Offer:
    return Offer(
        item_id=uuid.uuid4(),
        revision=1,
        sku=f"SKU-{name}",
        name=name,
        price=Decimal(price),
        currency="EUR",
        kind=kind,
        prices=((cycle, Decimal(price)),),
        tax_rate=None if rate is None else Decimal(rate),
    )


PAPER = offer("Paper", "4.50", "0.19")
BOOK = offer("Book", "9.99", "0.07")
TONER = offer("Toner", "20.00", None)
HOSTING = offer("Hosting", "10.00", "0.19", kind="service", cycle="monthly")
OFFERS = {o.item_id: o for o in (PAPER, BOOK, TONER, HOSTING)}


def checkout(*goods: tuple[Offer, int], offers=OFFERS) -> Order:
    cart = Cart.open("acme", now=NOW)
    for item, quantity in goods:
        cart.add_good(item.item_id, quantity, offers, now=NOW)
    return cart.checkout(offers, {}, number="ORD-2026-000001", by="alice", now=NOW, business_date=TODAY)


def test_the_catalog_copy_keeps_the_items_tax_rate():
    published = CatalogItemPublished(
        item_id=uuid.uuid4(),
        sku="PAPER",
        name="Paper",
        price=Money(amount=Decimal("4.50"), currency="EUR"),
        billing="one_time",
        revision=2,
        published_at=NOW,
        kind="good",
        prices=[CyclePrice(cycle="one_time", price=Decimal("4.50"))],
        tax_rate=Decimal("0.19"),
    )
    assert offer_from_published(published).tax_rate == Decimal("0.19")
    untaxed = published.model_copy(update={"tax_rate": None})
    assert offer_from_published(untaxed).tax_rate is None


def test_a_carts_order_lines_record_their_items_rate_and_the_order_its_tax():
    order = checkout((PAPER, 3), (BOOK, 1), (TONER, 1))
    assert [(line.tax_rate, line.amount, line.tax) for line in order.lines] == [
        (Decimal("0.19"), Decimal("13.50"), Decimal("2.57")),  # 2.565 half-up
        (Decimal("0.07"), Decimal("9.99"), Decimal("0.70")),  # 0.6993
        (None, Decimal("20.00"), Decimal("0.00")),
    ]
    assert (order.total, order.tax_total, order.total_with_tax) == (
        Decimal("43.49"),
        Decimal("3.27"),
        Decimal("46.76"),
    )


def test_the_rate_is_the_items_at_placing_not_a_later_one():
    order = checkout((PAPER, 1))
    later = {**OFFERS, PAPER.item_id: replace(PAPER, revision=2, tax_rate=Decimal("0.21"))}
    assert order.lines[0].tax_rate == Decimal("0.19")
    assert checkout((PAPER, 1), offers=later).lines[0].tax_rate == Decimal("0.21")


def test_order_placed_v2_lines_carry_the_rate_and_the_total_stays_net():
    order = checkout((PAPER, 3), (TONER, 1))
    [placed] = [e for e in order.events if isinstance(e, OrderPlaced)]
    event = to_contract(placed)
    assert isinstance(event, OrderPlacedV2)
    assert [(line.line_id, line.tax_rate) for line in event.lines] == [
        (order.lines[0].line_id, Decimal("0.19")),
        (order.lines[1].line_id, None),
    ]
    assert event.total.amount == Decimal("33.50")  # net: billing adds the tax
    wire = event.model_dump(mode="json")
    assert [line["tax_rate"] for line in wire["lines"]] == ["0.19", None]


def test_order_answers_show_the_rates_tax_total_and_total_with_tax():
    order = checkout((PAPER, 3), (TONER, 1))
    answer = OrderOut.of(OrderView(order, None)).model_dump(mode="json")
    assert [line["tax_rate"] for line in answer["lines"]] == ["0.19", None]
    assert (answer["total"], answer["tax_total"], answer["total_with_tax"]) == ("33.50", "2.57", "36.07")
    untaxed = OrderOut.of(OrderView(checkout((TONER, 2)), None)).model_dump(mode="json")
    assert (untaxed["total"], untaxed["tax_total"], untaxed["total_with_tax"]) == ("40.00", "0.00", "40.00")


def test_a_channels_order_lines_take_their_items_rate():
    order = channel_order(
        channel="shop",
        channel_order_id="S-1",
        account_id="acme",
        currency="EUR",
        lines=[
            ChannelLine(item_id=PAPER.item_id, sku=None, quantity=2, unit_price=Decimal("3.99")),
            ChannelLine(item_id=None, sku="SKU-Toner", quantity=1, unit_price=Decimal("18.00")),
        ],
        by_id=OFFERS,
        by_sku={o.sku: o for o in OFFERS.values()},
        hidden=set(),
        number="ORD-2026-000009",
        now=NOW,
        today=TODAY,
    )
    assert [(line.tax_rate, line.tax) for line in order.lines] == [
        (Decimal("0.19"), Decimal("1.52")),  # 7.98 × 0.19 = 1.5162
        (None, Decimal("0.00")),
    ]


def test_a_quotes_order_lines_take_their_items_rate_now():
    priced = [quote_line(LineIn(PAPER.item_id, 2), OFFERS, at="lines[0]")]
    quote = Quote.prepare(
        account_id="acme",
        number="Q-000001",
        lines=priced,
        valid_until=TODAY,
        note=None,
        today=TODAY,
        by="ops/admin",
        now=NOW,
    )
    quote.send(today=TODAY, by="ops/admin", now=NOW)
    order = place_order(
        quote, number="ORD-2026-000010", by="acme/alice", now=NOW, today=TODAY, tax_rates=tax_rates(OFFERS)
    )
    assert (order.lines[0].tax_rate, order.tax_total) == (Decimal("0.19"), Decimal("1.71"))


def test_a_renewal_orders_lines_take_their_items_rate():
    service = Subscription(
        id=uuid.uuid4(),
        account_id="acme",
        request_id=None,
        order_id=uuid.uuid4(),
        item_id=HOSTING.item_id,
        name="Hosting",
        quantity=1,
        cycle="monthly",
        unit_price=Decimal("10.00"),
        currency="EUR",
        billing="recurring",
        billing_period_months=1,
        status=ServiceStatus.ACTIVE,
        created_at=NOW,
        anchor_on=date(2026, 2, 2),
        next_due_on=date(2026, 3, 2),
    )
    [order] = renewal_orders(
        [service],
        date(2026, 3, 2),
        set(),
        number=lambda: "ORD-2026-000011",
        by="system/renewals",
        now=NOW,
        placed_on=TODAY,
        tax_rates=tax_rates(OFFERS),
    )
    assert (order.lines[0].tax_rate, order.tax_total, order.total_with_tax) == (
        Decimal("0.19"),
        Decimal("1.90"),
        Decimal("11.90"),
    )


def test_rates_read_back_from_the_database_show_as_given():
    assert [str(canonical_rate(Decimal(x))) for x in ("0.1900", "0.0750", "0.0000", "0.1000")] == [
        "0.19",
        "0.075",
        "0.00",
        "0.10",
    ]
    assert canonical_rate(None) is None
