"""Shipments, the shipping status they give an order, the tracking links, and an admin's cancel with
its settlement and notes, in the domain alone (no database)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from orders.adapters.events import to_contract
from orders.domain import b2b_orders, shipments
from orders.domain.b2b_orders import PaymentStatus, ShippingStatus, status_label
from orders.domain.lines import LineKind, OrderLine
from orders.domain.orders import Order, Status
from orders.domain.shipments import ShipmentStatus, Tracking
from portal_contracts.events import orders as contract
from portal_runtime.errors import Conflict, InvalidInput

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DHL = Tracking.of("DHL", "JD0001", None)


def good(name: str, quantity: int, price: str = "2.00") -> OrderLine:
    return OrderLine(
        line_id=uuid.uuid4(),
        kind=LineKind.GOOD,
        item_id=uuid.uuid4(),
        sku=f"SKU-{name}",
        name=name,
        cycle="one_time",
        quantity=quantity,
        unit_price=Decimal(price),
        amount=Decimal(price) * quantity,
        currency="EUR",
        subscription_id=None,
        period_start=None,
        period_end=None,
    )


def service() -> OrderLine:
    return OrderLine(
        line_id=uuid.uuid4(),
        kind=LineKind.NEW,
        item_id=uuid.uuid4(),
        sku="HOST",
        name="Hosting",
        cycle="monthly",
        quantity=1,
        unit_price=Decimal("10.00"),
        amount=Decimal("10.00"),
        currency="EUR",
        subscription_id=uuid.uuid4(),
        period_start=date(2026, 3, 2),
        period_end=date(2026, 4, 2),
    )


def order(*lines: OrderLine, paid: bool = True, terms: int | None = None) -> Order:
    placed = Order.place(
        account_id="acme",
        number="ORD-2026-000007",
        source="cart",
        lines=lines,
        by="alice",
        now=NOW,
        placed_on=NOW.date(),
        payment_terms_days=terms,
    )
    if paid:
        b2b_orders.payment(placed, PaymentStatus.CLEARED, at=NOW, by="billing", now=NOW)
        if all(line.kind == LineKind.GOOD for line in lines):
            placed.pay(by="billing", now=NOW)  # as fulfilment does (an order of services: its services too)
    placed.events.clear()
    return placed


def test_a_placed_order_of_goods_awaits_its_goods_and_carries_the_accounts_terms():
    paper, toner = good("Paper", 5), good("Toner", 2)
    o = Order.place(
        account_id="acme",
        number="ORD-1",
        source="cart",
        lines=[paper, toner, service()],
        by="alice",
        now=NOW,
        placed_on=NOW.date(),
        payment_terms_days=30,
    )
    assert (o.awaiting_quantity, o.payment_terms_days, o.shipping_status) == (7, 30, ShippingStatus.UNSHIPPED)
    placed = to_contract(o.events[0])
    assert isinstance(placed, contract.OrderPlacedV2) and placed.payment_terms_days == 30


def test_two_partial_shipments_ship_the_order_and_each_tells_what_is_still_awaited():
    paper, toner = good("Paper", 5), good("Toner", 2)
    o, done = order(paper, toner, service()), []
    first = shipments.record(o, done, [(paper.line_id, 3)], tracking=DHL, has_terms=False, by="ops", now=NOW)
    done.append(first)
    assert (first.number, first.status, first.tracking.tracking_url) == (
        "ORD-2026-000007-1",
        ShipmentStatus.SHIPPED,
        "https://www.dhl.com/track?tracking-id=JD0001",
    )
    assert (o.shipping_status, o.awaiting_quantity, status_label(o)) == (ShippingStatus.PARTIALLY_SHIPPED, 4, "Cleared")
    [shipped] = first.events
    told = to_contract(shipped)
    assert isinstance(told, contract.OrderShipped) and told.shipping_status == "partially_shipped"
    assert [(x.quantity, x.ordered, x.shipped, x.awaiting) for x in told.lines] == [(3, 5, 3, 2)]
    later = NOW + timedelta(days=1)
    second = shipments.record(
        o, done, [(paper.line_id, 2), (toner.line_id, 2)], tracking=None, has_terms=False, by="ops", now=later
    )
    done.append(second)
    assert (second.number, second.status, second.events) == ("ORD-2026-000007-2", ShipmentStatus.PENDING, [])
    assert (o.shipping_status, o.awaiting_quantity) == (ShippingStatus.PARTIALLY_SHIPPED, 0)
    shipments.ship(o, done, second, Tracking.of("ups", "1Z 999", None), has_terms=False, by="ops", now=later)
    assert (o.shipping_status, o.shipping_at, status_label(o)) == (ShippingStatus.SHIPPED, later, "Shipped")
    told = to_contract(second.events[0])
    assert told.shipping_status == "shipped" and told.tracking_url == "https://www.ups.com/track?tracknum=1Z%20999"
    assert [(x.shipped, x.awaiting) for x in told.lines] == [(5, 0), (2, 0)]


def test_a_shipment_holds_at_most_what_is_awaited_and_only_goods_lines():
    paper, hosting = good("Paper", 5), service()
    o = order(paper, hosting)
    pending = shipments.record(o, [], [(paper.line_id, 4)], tracking=None, has_terms=False, by="ops", now=NOW)
    assert o.shipping_status == ShippingStatus.PENDING_SHIPMENT and o.awaiting_quantity == 1

    def refused(field, lines, **extra):
        with pytest.raises(InvalidInput) as err:
            shipments.record(o, [pending], lines, tracking=None, has_terms=False, by="ops", now=NOW)
        assert err.value.field == field and all(err.value.extra[k] == v for k, v in extra.items())

    refused("lines[0].quantity", [(paper.line_id, 2)], awaiting=1)  # 5 − 4 pending
    refused("lines[0].quantity", [(paper.line_id, 0)])
    refused("lines[0].line_id", [(hosting.line_id, 1)])
    refused("lines[0].line_id", [(uuid.uuid4(), 1)])
    refused("lines[1].line_id", [(paper.line_id, 1), (paper.line_id, 1)])
    refused("lines", [])
    assert o.awaiting_quantity == 1  # nothing changed


def test_shipping_waits_for_payment_unless_the_account_has_terms_and_never_while_held_or_cancelled():
    paper = good("Paper", 5)
    o = order(paper, paid=False)
    with pytest.raises(Conflict) as err:
        shipments.record(o, [], [(paper.line_id, 1)], tracking=DHL, has_terms=False, by="ops", now=NOW)
    assert err.value.extra["current_status"] == "not_submitted"
    b2b_orders.payment(o, PaymentStatus.SUBMITTED, at=NOW, by="billing", now=NOW)
    with pytest.raises(Conflict) as err:
        shipments.record(o, [], [(paper.line_id, 1)], tracking=DHL, has_terms=False, by="ops", now=NOW)
    assert err.value.extra["current_status"] == "submitted"
    pending = shipments.record(o, [], [(paper.line_id, 1)], tracking=None, has_terms=True, by="ops", now=NOW)
    b2b_orders.hold(o, by="ops", now=NOW)
    with pytest.raises(Conflict) as err:
        shipments.ship(o, [pending], pending, DHL, has_terms=True, by="ops", now=NOW)
    assert err.value.extra["current_status"] == "on_hold"
    b2b_orders.release(o, by="ops", now=NOW)
    shipments.ship(o, [pending], pending, DHL, has_terms=True, by="ops", now=NOW)
    with pytest.raises(Conflict) as err:  # shipped: not pending any more
        shipments.ship(o, [pending], pending, DHL, has_terms=True, by="ops", now=NOW)
    assert err.value.extra["current_status"] == "shipped"


def test_a_tracking_number_is_corrected_with_a_history_and_what_shipped_never_changes():
    paper = good("Paper", 5)
    o = order(paper)
    s = shipments.record(o, [], [(paper.line_id, 5)], tracking=DHL, has_terms=False, by="ops", now=NOW)
    s.events.clear()
    fixed = Tracking.of("GLS", "GL-42", None)
    assert shipments.correct_tracking(o, s, fixed, by="olga", now=NOW) is True
    assert shipments.correct_tracking(o, s, fixed, by="olga", now=NOW) is False  # the same: nothing
    assert [(c.old.tracking_number, c.new.tracking_number, c.by) for c in s.corrections] == [
        ("JD0001", "GL-42", "olga")
    ]
    assert s.tracking.tracking_url == "https://gls-group.com/track/GL-42" and s.lines[0].quantity == 5
    [told] = [to_contract(e) for e in s.events]
    assert isinstance(told, contract.ShipmentTrackingCorrected) and told.carrier == "GLS"
    pending_order = order(good("Ink", 1))
    pending = shipments.record(
        pending_order, [], [(pending_order.lines[0].line_id, 1)], tracking=None, has_terms=False, by="ops", now=NOW
    )
    with pytest.raises(Conflict) as err:
        shipments.correct_tracking(pending_order, pending, fixed, by="olga", now=NOW)
    assert err.value.extra["current_status"] == "pending"


def test_tracking_is_checked_and_the_link_comes_from_the_carriers_pages():
    assert Tracking.of("FedEx", "123", None).tracking_url == "https://www.fedex.com/fedextrack/?trknbr=123"
    assert Tracking.of("Acme Post", "123", None).tracking_url is None
    assert Tracking.of("dhl", "1", "https://x.example/1").tracking_url == "https://x.example/1"
    assert Tracking.of("ACME", "9", None, {"acme": "https://acme.example/{tracking}"}).tracking_url.endswith("/9")
    for args, field in (
        (("", "1", None), "carrier"),
        (("x" * 101, "1", None), "carrier"),
        (("dhl", "", None), "tracking_number"),
        (("dhl", "12/3", None), "tracking_number"),
        (("dhl", "1" * 101, None), "tracking_number"),
        (("dhl", "1", "ftp://x"), "tracking_url"),
    ):
        with pytest.raises(InvalidInput) as err:
            Tracking.of(*args)
        assert err.value.field == field, args


def test_an_admins_cancel_names_the_settlement_when_paid_and_cancels_pending_shipments():
    paper = good("Paper", 5)
    o = order(paper)
    pending = shipments.record(o, [], [(paper.line_id, 2)], tracking=None, has_terms=False, by="ops", now=NOW)
    with pytest.raises(InvalidInput) as err:
        o.cancel("admin", by="ops", now=NOW, note="customer asked")
    assert err.value.field == "settlement" and o.status == Status.PAID
    with pytest.raises(InvalidInput) as err:
        o.cancel("admin", by="ops", now=NOW, note="customer asked", settlement="cash")
    assert err.value.field == "settlement"
    o.cancel("admin", by="ops", now=NOW, note="customer asked", settlement="refund")
    assert shipments.cancelled([pending], by="ops", now=NOW) == [pending] and pending.status == "cancelled"
    shipments.refresh(o, [pending], by="ops", now=NOW)
    assert (o.status, o.shipping_status, o.awaiting_quantity) == (Status.CANCELLED, ShippingStatus.CANCELLED, 0)
    told = to_contract(o.events[-1])
    assert (told.reason, told.note, told.settlement, told.number, told.cancelled_by) == (
        "admin",
        "customer asked",
        "refund",
        "ORD-2026-000007",
        "ops",
    )
    with pytest.raises(Conflict) as err:
        o.cancel("admin", by="ops", now=NOW, note="again", settlement="refund")
    assert err.value.extra["current_status"] == "cancelled"


def test_nothing_is_cancelled_after_a_shipment_and_an_unpaid_order_needs_no_settlement():
    paper = good("Paper", 5)
    o = order(paper)
    shipments.record(o, [], [(paper.line_id, 1)], tracking=DHL, has_terms=False, by="ops", now=NOW)
    with pytest.raises(Conflict) as err:
        o.cancel("admin", by="ops", now=NOW, note="too late", settlement="credit")
    assert err.value.extra["current_status"] == "partially_shipped"
    unpaid = order(good("Ink", 1), paid=False)
    unpaid.cancel("admin", by="ops", now=NOW, note="never paid")
    assert to_contract(unpaid.events[-1]).settlement is None
    job = order(good("Ink", 1), paid=False)
    job.cancel("unpaid", by="job", now=NOW)  # the jobs' reasons as before, now with the number
    told = to_contract(job.events[-1])
    assert (told.reason, told.number, told.note, told.cancelled_by) == ("unpaid", "ORD-2026-000007", None, "job")


def test_notes_are_set_one_at_a_time_and_limited():
    o = order(good("Paper", 1))
    o.set_notes(by="ops", now=NOW, public_note="Ships Monday", private_note="VIP")
    o.set_notes(by="ops", now=NOW, private_note=None)
    assert (o.public_note, o.private_note) == ("Ships Monday", None)
    with pytest.raises(InvalidInput) as err:
        o.set_notes(by="ops", now=NOW, public_note="x" * 2001)
    assert err.value.field == "public_note" and o.public_note == "Ships Monday"
    assert [t.note for t in o.history[-2:]] == ["notes: public_note, private_note", "notes: private_note"]


def test_the_unpaid_orders_job_leaves_orders_on_terms_and_orders_shipping_alone():
    from orders.domain.overdue import unpaid_orders

    plain, on_terms = order(good("A", 1), paid=False), order(good("B", 1), paid=False, terms=30)
    shipping = order(good("C", 2), paid=False)
    shipments.record(shipping, [], [(shipping.lines[0].line_id, 1)], tracking=DHL, has_terms=True, by="ops", now=NOW)
    later = NOW.date() + timedelta(days=30)
    assert unpaid_orders([plain, on_terms, shipping], later, 14) == [plain]
