"""The order manager's commands on the fake unit of work (no database): an admin cancels an unpaid
order with a reason (its pending shipment with it), a paid one only with a settlement, nothing after
a shipment; notes (a key not given keeps its note). The views and the statement are SQL: see
test_order_manager_http.py."""

from __future__ import annotations

import uuid

import pytest
from test_shipments_service import DHL, NOW, OPS, World

from orders.service.order_manager import OrderManager
from portal_contracts.events import orders as contract
from portal_runtime.errors import Conflict, InvalidInput, NotFound
from portal_runtime.testing import FakeUnitsOfWork


@pytest.fixture
def w() -> World:
    world = World()
    world.manager = OrderManager(FakeUnitsOfWork(world.uow), world.clock, NOW.tzinfo)
    return world


def cancelled(w) -> list[contract.OrderCancelled]:
    return [e for e in w.uow.published if isinstance(e, contract.OrderCancelled)]


async def test_an_unpaid_order_is_cancelled_with_a_reason_and_its_pending_shipment_with_it(w):
    order = await w.order(paid=False)
    await w.terms.put(OPS, "acme", 30)
    _, pending = await w.shipments.record(OPS, order.id, [(order.lines[0].line_id, 2)])
    for reason in ("", "   ", "x" * 501):
        with pytest.raises(InvalidInput) as err:
            await w.manager.cancel(OPS, order.id, reason)
        assert err.value.field == "reason"
    view = await w.manager.cancel(OPS, order.id, "  Customer ordered twice ")
    assert (view.order.status, view.order.shipping_status, view.order.awaiting_quantity) == (
        "cancelled",
        "cancelled",
        0,
    )
    assert [s.status for s in view.shipments] == ["cancelled"] and view.unpaid_days is None
    [told] = cancelled(w)
    assert (told.reason, told.note, told.settlement, told.number, told.cancelled_by) == (
        "admin",
        "Customer ordered twice",
        None,
        order.number,
        OPS.actor,
    )
    with pytest.raises(Conflict) as err:
        await w.manager.cancel(OPS, order.id, "again")
    assert err.value.extra["current_status"] == "cancelled"
    with pytest.raises(NotFound):
        await w.manager.cancel(OPS, uuid.uuid4(), "gone")


async def test_a_paid_order_names_its_settlement_and_nothing_is_cancelled_after_a_shipment(w):
    paid = await w.order()
    with pytest.raises(InvalidInput) as err:
        await w.manager.cancel(OPS, paid.id, "out of stock")
    assert err.value.field == "settlement" and cancelled(w) == []
    view = await w.manager.cancel(OPS, paid.id, "out of stock", "credit")
    assert view.order.status == "cancelled" and cancelled(w)[0].settlement == "credit"
    shipped = await w.order()
    await w.shipments.record(OPS, shipped.id, [(shipped.lines[0].line_id, 1)], DHL)
    with pytest.raises(Conflict) as err:
        await w.manager.cancel(OPS, shipped.id, "too late", "refund")
    assert err.value.extra["current_status"] == "partially_shipped"
    assert w.uow.orders.rows[shipped.id].status == "paid"


async def test_notes_keep_what_is_not_given(w):
    order = await w.order()
    view = await w.manager.set_notes(OPS, order.id, public_note="Ships Monday", private_note="VIP customer")
    assert (view.order.public_note, view.order.private_note) == ("Ships Monday", "VIP customer")
    view = await w.manager.set_notes(OPS, order.id, private_note=None)
    assert (view.order.public_note, view.order.private_note) == ("Ships Monday", None)
    with pytest.raises(InvalidInput) as err:
        await w.manager.set_notes(OPS, order.id, private_note="x" * 2001)
    assert err.value.field == "private_note"
    assert w.uow.orders.rows[order.id].public_note == "Ships Monday"


async def test_a_payment_ending_after_the_cancel_fulfils_nothing(w):
    order = await w.order(paid=False)
    await w.manager.cancel(OPS, order.id, "Customer changed their mind")
    invoice_id = uuid.uuid4()
    await w.fulfilment.link_invoice(
        invoice_id=invoice_id,
        number="INV-9",
        source_kind="order",
        source_id=str(order.id),
        total=order.total,
        currency=order.currency,
        due_on=NOW.date(),
        issued_at=NOW,
    )
    assert await w.fulfilment.paid(invoice_id, "acme", "INV-9", NOW) is False
    stored = w.uow.orders.rows[order.id]
    assert (stored.status, stored.payment_status) == ("cancelled", "cleared")
