"""A lost update: InvoiceIssued's link_invoice (order loaded without a lock) interleaved with a shipment
recorded in another transaction. The shipment commits after link_invoice loaded the order and
before its unit of work commits; the order must stay shipped."""

from __future__ import annotations

import asyncio
import contextvars
import uuid
from datetime import UTC, date

from orders_testkit import NOW
from test_client_area_http import catalog_item
from test_http import inboxed, produce
from test_order_manager_http import place

from orders.adapters.repository import InvoiceLinkRepository
from orders.adapters.tables import OrderRow
from orders.bootstrap import definition
from orders.service.fulfilment import FulfilmentService
from orders.service.shipments import ShipmentService, TrackingIn
from portal_runtime.auth import Principal
from portal_runtime.clock import FrozenClock
from portal_runtime.testing import bearer, eventually, running_service

ACME, OPS = bearer("acme"), bearer("ops", "admin")
ADMIN = Principal("olga", "ops", "admin")


async def test_a_shipment_committed_while_link_invoice_runs_stays_shipped(new_database, kafka, monkeypatch):
    nails = catalog_item("Nails", {"one_time": "3.50"}, kind="good")
    url = await new_database("orders")
    clock = FrozenClock(NOW)
    async with running_service(definition(), database_url=url, kafka=kafka, clock=clock) as (rt, http):
        [published] = await produce(kafka, nails)
        await eventually(lambda: inboxed(rt, published.event_id), timeout=120, what="the item in orders' copy")
        r = await http.put("/v1/admin/accounts/acme/payment-terms", json={"payment_terms_days": 30}, headers=OPS)
        assert r.status_code == 200, r.text
        order = await place(http, ACME, (nails, 20))
        order_id, line_id = uuid.UUID(order["order_id"]), uuid.UUID(order["lines"][0]["line_id"])

        fulfilment = FulfilmentService(rt.uow, clock, UTC)
        shipments = ShipmentService(rt.uow, clock)
        original_link = InvoiceLinkRepository.link

        async def link_after_the_shipment(self, link):
            # link_invoice has loaded the order (unshipped); an admin's shipment commits now, in
            # its own transaction (a fresh context: not joined to link_invoice's unit of work)
            ship = shipments.record(ADMIN, order_id, [(line_id, 20)], TrackingIn("DHL", "JD014600008"))
            _, shipment = await asyncio.create_task(ship, context=contextvars.Context())
            assert shipment.status == "shipped"
            return await original_link(self, link)

        monkeypatch.setattr(InvoiceLinkRepository, "link", link_after_the_shipment)
        assert await fulfilment.link_invoice(
            invoice_id=uuid.uuid4(),
            number="INV-2026-000001",
            source_kind="order",
            source_id=str(order_id),
            total=order["total"],
            currency="EUR",
            due_on=date(2026, 4, 1),
            issued_at=NOW,
        )

        async with rt.sessions() as s:
            row = await s.get(OrderRow, order_id)
            stored = (row.shipping_status, row.awaiting_quantity)
        assert stored == ("shipped", 0)
