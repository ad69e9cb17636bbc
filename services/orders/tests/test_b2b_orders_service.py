"""The use cases of goods in the cart, visibility there, an order's statuses from billing's events,
hold and release, reorder and channel orders, on the fake unit of work (no database)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from client_area_fakes import FakeClientAreaUnitOfWork

from orders.domain.channel_orders import ChannelLine
from orders.domain.offers import NotOfferedYet, Offer
from orders.domain.offers import Status as OfferStatus
from orders.service.cart import CartService
from orders.service.channel_orders import ChannelOrderService
from orders.service.featured import FeaturedService
from orders.service.fulfilment import FulfilmentService
from orders.service.orders import OrderService
from orders.service.reorder import ReorderService
from portal_contracts.events import orders as contract
from portal_runtime.auth import Principal
from portal_runtime.clock import FrozenClock
from portal_runtime.errors import Conflict, InvalidInput, NotFound
from portal_runtime.idempotency import Answer
from portal_runtime.testing import FakeUnitsOfWork

ACME, OTHER = Principal("alice", "acme", "customer"), Principal("otto", "other", "customer")
OPS = Principal("olga", "ops", "admin")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def item(name: str, kind: str = "good", prices=(("one_time", "4.50"),), **kw) -> Offer:
    prices = tuple((c, Decimal(p)) for c, p in prices)
    return Offer(
        item_id=uuid.uuid4(),
        revision=1,
        sku=f"SKU-{name}",
        name=name,
        price=prices[0][1],
        currency="EUR",
        kind=kind,
        prices=prices,
        **kw,
    )


def render(order) -> Answer:
    return Answer(201, {"order_id": str(order.id)})


class World:
    def __init__(self) -> None:
        self.uow = FakeClientAreaUnitOfWork()
        self.clock = FrozenClock(NOW)
        units = FakeUnitsOfWork(self.uow)
        self.cart = CartService(units, self.clock, UTC)
        self.orders = OrderService(units, self.clock)
        self.fulfilment = FulfilmentService(units, self.clock, UTC)
        self.reorders = ReorderService(units, self.clock, UTC)
        self.channels = ChannelOrderService(units, self.clock, UTC)
        self.featured = FeaturedService(units)
        self.paper, self.toner = item("Paper"), item("Toner", prices=(("one_time", "39.90"),))
        self.hosting = item("Hosting", "service", (("monthly", "10.00"),), featured={"en": "Fast"})
        self.uow.offers.rows = {o.item_id: o for o in (self.paper, self.toner, self.hosting)}

    def hide(self, account: str, *items: Offer) -> None:
        self.uow.visibility.hidden_items[account] = {o.item_id for o in items}

    async def place(self, actor=ACME):
        answer = await self.cart.checkout(actor, uuid.uuid4().hex, render)
        return self.uow.orders.rows[uuid.UUID(answer.body["order_id"])]

    async def invoice(self, order) -> uuid.UUID:
        invoice_id = uuid.uuid4()
        assert await self.fulfilment.link_invoice(
            invoice_id=invoice_id,
            number="INV-1",
            source_kind="order",
            source_id=str(order.id),
            total=order.total,
            currency=order.currency,
            due_on=NOW.date(),
            issued_at=NOW,
        )
        return invoice_id


@pytest.fixture
def w() -> World:
    return World()


async def test_goods_checkout_makes_an_order_of_goods_and_its_order_placed_v2(w):
    await w.cart.add_good(ACME, w.paper.item_id, 3)
    view = await w.cart.add_good(ACME, w.toner.item_id, 1)
    line = view.lines[1][0]
    view = await w.cart.set_quantity(ACME, line.line_id, 2)
    assert [(c.quantity, p.amount) for c, p, _ in view.lines] == [(3, Decimal("13.50")), (2, Decimal("79.80"))]
    order = await w.place()
    assert [(x.kind, x.quantity, x.amount) for x in order.lines] == [
        ("good", 3, Decimal("13.50")),
        ("good", 2, Decimal("79.80")),
    ]
    [event] = [e for e in w.uow.published if isinstance(e, contract.OrderPlacedV2)]
    assert [(x.kind, x.quantity, x.subscription_id) for x in event.lines] == [("good", 3, None), ("good", 2, None)]
    assert (order.shipping_status, order.payment_status, order.source) == ("unshipped", "not_submitted", "cart")


async def test_an_invisible_item_answers_as_an_unknown_one_everywhere_in_the_cart(w):
    w.hide("acme", w.paper, w.hosting)
    unknown = uuid.uuid4()
    for call in (
        w.cart.add_good(ACME, w.paper.item_id, 1),
        w.cart.add_service(ACME, w.hosting.item_id, "monthly", None),
    ):
        with pytest.raises(NotOfferedYet) as hidden:
            await call
        assert hidden.value.field == "item_id"
    with pytest.raises(NotOfferedYet) as missing:
        await w.cart.add_good(ACME, unknown, 1)
    assert hidden.value.message.replace(str(w.hosting.item_id), "X") == missing.value.message.replace(str(unknown), "X")
    assert (await w.cart.add_good(OTHER, w.paper.item_id, 1)).lines  # another account sees it
    # an item hidden after it was added: the cart shows the refusal, checkout refuses it
    await w.cart.add_good(ACME, w.toner.item_id, 1)
    w.hide("acme", w.toner)
    [(_, priced, refusal)] = (await w.cart.get(ACME)).lines
    assert priced is None and refusal.field == "item_id"
    with pytest.raises(NotOfferedYet):
        await w.place()
    # the featured items: only the visible ones (admins see all)
    w.hide("acme", w.hosting)
    assert await w.featured.list(ACME) == []
    assert [f.offer.name for f in await w.featured.list(OPS)] == ["Hosting"]


async def test_the_payment_status_follows_billings_events_of_the_orders_invoice(w):
    await w.cart.add_good(ACME, w.paper.item_id, 10)
    order = await w.place()
    invoice = await w.invoice(order)
    later = NOW + timedelta(hours=1)
    assert not await w.fulfilment.payment_received(invoice, Decimal("0.00"), later, "INV-1")  # paid in full
    assert await w.fulfilment.payment_received(invoice, Decimal("20.00"), later, "INV-1")
    assert w.uow.orders.rows[order.id].payment_status == "submitted"
    assert not await w.fulfilment.payment_received(invoice, Decimal("20.00"), later, "INV-1")  # told again
    assert await w.fulfilment.payment_failed(invoice, later + timedelta(hours=1), "card declined")
    assert w.uow.orders.rows[order.id].payment_status == "failed"
    assert await w.fulfilment.paid(invoice, "acme", "INV-1", later + timedelta(hours=2))
    got = w.uow.orders.rows[order.id]
    assert (got.payment_status, got.payment_at, got.status) == ("cleared", later + timedelta(hours=2), "paid")
    assert not await w.fulfilment.payment_failed(invoice, later + timedelta(hours=3), "late")
    assert not await w.fulfilment.payment_failed(uuid.uuid4(), later, "no order's invoice")
    notes = [t.note for t in got.history if t.note]
    assert notes == ["payment: submitted (INV-1)", "payment: failed (card declined)", "payment: cleared (INV-1)"]


async def test_admins_hold_and_release_an_order(w):
    await w.cart.add_good(ACME, w.paper.item_id, 1)
    order = await w.place()
    held = await w.orders.hold(OPS, order.id, "check the address")
    assert held.order.checkout_status == "on_hold"
    with pytest.raises(Conflict):
        await w.orders.hold(OPS, order.id)
    released = await w.orders.release(OPS, order.id)
    assert released.order.checkout_status == "completed" and len(released.order.history) == 3
    with pytest.raises(NotFound):
        await w.orders.hold(OPS, uuid.uuid4())


async def test_reorder_copies_goods_and_new_services_at_todays_prices_and_says_what_it_skipped(w):
    await w.cart.add_good(ACME, w.paper.item_id, 3)
    await w.cart.add_good(ACME, w.toner.item_id, 1)
    await w.cart.add_service(ACME, w.hosting.item_id, "monthly", "example.com")
    order = await w.place()
    w.uow.offers.rows[w.paper.item_id] = Offer(**{**vars(w.paper), "prices": (("one_time", Decimal("5.00")),)})
    w.uow.offers.rows[w.toner.item_id] = Offer(**{**vars(w.toner), "revision": 2, "status": OfferStatus.RETIRED})
    w.hide("acme", w.hosting)
    with pytest.raises(NotFound):
        await w.reorders.reorder(OTHER, order.id)  # another account's order
    done = await w.reorders.reorder(ACME, order.id)
    assert [(s.name, s.reason) for s in done.skipped] == [("Toner", "retired"), ("Hosting", "invisible")]
    [(line, priced, _)] = done.cart.lines
    assert (line.quantity, priced.unit_price, priced.amount) == (3, Decimal("5.00"), Decimal("15.00"))
    again = await w.place()
    assert (again.source, again.reordered_from) == ("reorder", order.id)
    [event] = [e for e in w.uow.published if isinstance(e, contract.OrderPlacedV2) and e.order_id == again.id]
    assert (event.source, event.reordered_from) == ("reorder", order.id)


async def test_a_channel_order_received_twice_is_one_order_and_a_bad_one_is_refused(w):
    lines = [
        ChannelLine(item_id=w.paper.item_id, sku=None, quantity=2, unit_price=Decimal("3.00")),
        ChannelLine(item_id=None, sku="SKU-Hosting", quantity=1, unit_price=Decimal("9.00")),
    ]

    async def receive(lines=lines, channel_order_id="S-1"):
        return await w.channels.received(
            channel="shop", channel_order_id=channel_order_id, account_id="acme", currency="EUR", lines=lines
        )

    first, placed = await receive()
    second, again = await receive()
    assert (placed, again, first.id) == (True, False, second.id) and len(w.uow.orders.rows) == 1
    assert (first.total, first.placed_by, first.source) == (Decimal("15.00"), "channel:shop", "channel")
    w.hide("acme", w.paper)
    with pytest.raises(InvalidInput) as err:
        await receive(channel_order_id="S-2")
    assert err.value.field == "lines[0]" and len(w.uow.orders.rows) == 1
