"""The shipments' use cases on the fake unit of work (no database): a paid order shipped in two parts
(OrderShipped each), a pending shipment shipped later, tracking corrected, shipping before payment
refused unless the account has payment terms (which checkout copies onto the order and OrderPlaced),
and another account's order's shipments 404."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from client_area_fakes import FakeClientAreaUnitOfWork
from test_b2b_orders_service import item, render

from orders.service.cart import CartService
from orders.service.fulfilment import FulfilmentService
from orders.service.shipments import ShipmentService, TrackingIn
from orders.service.terms import TermsService
from portal_contracts.events import orders as contract
from portal_runtime.auth import Principal
from portal_runtime.clock import FrozenClock
from portal_runtime.errors import Conflict, InvalidInput, NotFound
from portal_runtime.testing import FakeUnitsOfWork

ACME, OTHER = Principal("alice", "acme", "customer"), Principal("otto", "other", "customer")
OPS = Principal("olga", "ops", "admin")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DHL = TrackingIn("DHL", "JD0001")


class World:
    def __init__(self) -> None:
        self.uow = FakeClientAreaUnitOfWork()
        self.clock = FrozenClock(NOW)
        units = FakeUnitsOfWork(self.uow)
        self.cart = CartService(units, self.clock, UTC)
        self.fulfilment = FulfilmentService(units, self.clock, UTC)
        self.shipments = ShipmentService(units, self.clock)
        self.terms = TermsService(units, self.clock)
        self.paper, self.toner = item("Paper"), item("Toner", prices=(("one_time", "39.90"),))
        self.uow.offers.rows = {o.item_id: o for o in (self.paper, self.toner)}

    async def order(self, paid: bool = True):
        await self.cart.add_good(ACME, self.paper.item_id, 5)
        await self.cart.add_good(ACME, self.toner.item_id, 2)
        answer = await self.cart.checkout(ACME, uuid.uuid4().hex, render)
        order = self.uow.orders.rows[uuid.UUID(answer.body["order_id"])]
        if paid:
            invoice_id = uuid.uuid4()
            await self.fulfilment.link_invoice(
                invoice_id=invoice_id,
                number="INV-1",
                source_kind="order",
                source_id=str(order.id),
                total=order.total,
                currency=order.currency,
                due_on=NOW.date(),
                issued_at=NOW,
            )
            assert await self.fulfilment.paid(invoice_id, "acme", "INV-1", NOW)
        return self.uow.orders.rows[order.id]

    def shipped(self) -> list[contract.OrderShipped]:
        return [e for e in self.uow.published if isinstance(e, contract.OrderShipped)]


@pytest.fixture
def w() -> World:
    return World()


async def test_a_paid_order_ships_in_two_parts_and_each_shipment_is_told(w):
    order = await w.order()
    paper, toner = (line.line_id for line in order.lines)
    _, first = await w.shipments.record(OPS, order.id, [(paper, 3)], DHL)
    assert (first.number, first.status) == (f"{order.number}-1", "shipped")
    assert w.uow.orders.rows[order.id].shipping_status == "partially_shipped"
    _, second = await w.shipments.record(OPS, order.id, [(paper, 2), (toner, 2)])
    assert second.status == "pending" and len(w.shipped()) == 1
    stored = w.uow.orders.rows[order.id]
    assert (stored.shipping_status, stored.awaiting_quantity) == ("partially_shipped", 0)
    with pytest.raises(InvalidInput) as err:  # nothing more awaits
        await w.shipments.record(OPS, order.id, [(toner, 1)], DHL)
    assert err.value.field == "lines[0].quantity" and err.value.extra["awaiting"] == 0
    await w.shipments.ship(OPS, order.id, second.id, TrackingIn("ups", "1Z9"))
    stored = w.uow.orders.rows[order.id]
    assert (stored.shipping_status, stored.status) == ("shipped", "paid")
    told = w.shipped()
    assert [(e.shipment_number, e.shipping_status, e.tracking_url) for e in told] == [
        (f"{order.number}-1", "partially_shipped", "https://www.dhl.com/track?tracking-id=JD0001"),
        (f"{order.number}-2", "shipped", "https://www.ups.com/track?tracknum=1Z9"),
    ]
    with pytest.raises(Conflict) as err:
        await w.shipments.ship(OPS, order.id, second.id, DHL)
    assert err.value.extra["current_status"] == "shipped"
    _, fixed = await w.shipments.correct_tracking(OPS, order.id, first.id, TrackingIn("DHL", "JD0002"))
    assert [c.new.tracking_number for c in fixed.corrections] == ["JD0002"]
    [corrected] = [e for e in w.uow.published if isinstance(e, contract.ShipmentTrackingCorrected)]
    assert corrected.tracking_number == "JD0002" and corrected.shipment_number == f"{order.number}-1"
    listed = await w.shipments.of_order(ACME, order.id)
    assert [s.number for s in listed.shipments] == [f"{order.number}-1", f"{order.number}-2"]
    with pytest.raises(NotFound):
        await w.shipments.of_order(OTHER, order.id)


async def test_shipping_waits_for_payment_unless_the_account_has_terms_which_checkout_copies(w):
    unpaid = await w.order(paid=False)
    paper = unpaid.lines[0].line_id
    with pytest.raises(Conflict) as err:
        await w.shipments.record(OPS, unpaid.id, [(paper, 1)], DHL)
    assert err.value.extra["current_status"] == "not_submitted"
    with pytest.raises(Conflict):  # a pending shipment is shipping too
        await w.shipments.record(OPS, unpaid.id, [(paper, 1)])
    assert (await w.terms.put(OPS, "acme", 30)).payment_terms_days == 30
    _, shipment = await w.shipments.record(OPS, unpaid.id, [(paper, 1)], DHL)
    assert shipment.status == "shipped" and unpaid.payment_terms_days is None  # placed before the terms
    on_terms = await w.order(paid=False)
    assert on_terms.payment_terms_days == 30
    placed = [e for e in w.uow.published if isinstance(e, contract.OrderPlacedV2)]
    assert [e.payment_terms_days for e in placed] == [None, 30]
    await w.terms.put(OPS, "acme", None)
    with pytest.raises(Conflict):  # the terms are the account's NOW
        await w.shipments.record(OPS, on_terms.id, [(on_terms.lines[0].line_id, 1)], DHL)
    with pytest.raises(InvalidInput) as err:
        await w.terms.put(OPS, "acme", 0)
    assert err.value.field == "payment_terms_days"


async def test_unknown_orders_and_shipments_are_404_and_bad_tracking_422(w):
    order = await w.order()
    with pytest.raises(NotFound):
        await w.shipments.record(OPS, uuid.uuid4(), [(order.lines[0].line_id, 1)], DHL)
    with pytest.raises(NotFound):
        await w.shipments.ship(OPS, order.id, uuid.uuid4(), DHL)
    with pytest.raises(InvalidInput) as err:
        await w.shipments.record(OPS, order.id, [(order.lines[0].line_id, 1)], TrackingIn("DHL", "no/slash"))
    assert err.value.field == "tracking_number"
    assert w.uow.shipments.rows == {}


async def test_a_channels_order_carries_the_accounts_terms_too(w):
    from decimal import Decimal

    from orders.domain.channel_orders import ChannelLine
    from orders.service.channel_orders import ChannelOrderService

    channels = ChannelOrderService(FakeUnitsOfWork(w.uow), w.clock, UTC)
    await w.terms.put(OPS, "acme", 14)
    line = ChannelLine(item_id=w.paper.item_id, sku=None, quantity=2, unit_price=Decimal("3.00"))
    order, placed = await channels.received(
        channel="marketplace", channel_order_id="MP-1", account_id="acme", currency="EUR", lines=[line]
    )
    assert placed and order.payment_terms_days == 14 and order.awaiting_quantity == 2
    [event] = [e for e in w.uow.published if isinstance(e, contract.OrderPlacedV2)]
    assert event.payment_terms_days == 14
    _, shipment = await w.shipments.record(OPS, order.id, [(order.lines[0].line_id, 2)], DHL)  # unpaid, on terms
    assert shipment.status == "shipped" and w.uow.orders.rows[order.id].shipping_status == "shipped"
