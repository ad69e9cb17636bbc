"""Lost updates of other aggregates than orders (test_order_lost_update.py tells the order's): a
use case that read an aggregate without a lock, and commits, must not write it back over what
another transaction committed meanwhile. Each test interleaves the two transactions: the second
commits, in a fresh context (not joined to the first's unit of work), after the first loaded the
aggregate and before its unit of work commits."""

from __future__ import annotations

import asyncio
import contextvars
import uuid
from datetime import date
from decimal import Decimal

from orders_testkit import NOW
from test_client_area_http import catalog_item
from test_http import inboxed, produce

from orders.adapters.repository import CartRepository
from orders.adapters.support_repository import SupportRepository
from orders.adapters.tables import ProfileRow, SubscriptionRow
from orders.bootstrap import definition
from orders.domain.subscriptions import Status, Subscription
from orders.service.cart import CartService
from orders.service.profiles import ProfileService
from orders.service.services import ServiceService
from orders.service.support import SupportService
from portal_runtime.auth import Principal
from portal_runtime.clock import FrozenClock
from portal_runtime.testing import eventually, running_service

CUSTOMER = Principal("pat", "acme", "customer")  # no portal user: a support request is sent from the profile
ADMIN = Principal("olga", "ops", "admin")


def in_another_transaction(work):
    """`work` run to its commit in its own unit of work (a fresh context joins none)."""
    return asyncio.create_task(work, context=contextvars.Context())


async def test_a_profile_changed_while_a_support_request_is_sent_keeps_its_change(new_database, kafka, monkeypatch):
    url = await new_database("orders")
    clock = FrozenClock(NOW)
    async with running_service(definition(), database_url=url, kafka=kafka, clock=clock) as (rt, _):
        profiles = ProfileService(rt.uow, clock)
        await profiles.put(CUSTOMER, "old@acme.example", "en")
        support = SupportService(rt.uow, clock)
        original_number = SupportRepository.next_number

        async def number_after_the_change(self):
            # send has read the profile (the sender's address) without a lock: it changes now
            await in_another_transaction(profiles.put(CUSTOMER, "new@acme.example", "de"))
            return await original_number(self)

        monkeypatch.setattr(SupportRepository, "next_number", number_after_the_change)
        request = await support.send(CUSTOMER, subject="Invoice", message="Where is it?")
        assert request.sender.email == "old@acme.example"  # as read

        async with rt.sessions() as s:
            row = await s.get(ProfileRow, "acme")
            stored = (row.email, row.language)
        assert stored == ("new@acme.example", "de")


async def test_a_service_suspended_while_an_add_on_goes_in_the_cart_stays_suspended(new_database, kafka, monkeypatch):
    hosting = catalog_item("Hosting", {"monthly": "10.00"})
    ssl = catalog_item("SSL", {"monthly": "12.00"}, kind="add_on", parents=[hosting.item_id])
    url = await new_database("orders")
    clock = FrozenClock(NOW)
    async with running_service(definition(), database_url=url, kafka=kafka, clock=clock) as (rt, _):
        sent = await produce(kafka, hosting, ssl)
        for envelope in sent:
            await eventually(lambda e=envelope: inboxed(rt, e.event_id), timeout=120, what="the items in orders' copy")
        service = Subscription(
            id=uuid.uuid4(),
            account_id="acme",
            request_id=None,
            item_id=hosting.item_id,
            name="Hosting",
            quantity=1,
            unit_price=Decimal("10.00"),
            currency="EUR",
            billing="recurring",
            billing_period_months=1,
            status=Status.ACTIVE,
            created_at=NOW,
            activated_on=date(2026, 1, 31),
            anchor_on=date(2026, 1, 31),
            next_due_on=date(2026, 2, 28),
            cycle="monthly",
            domain="example.com",
        )
        async with rt.uow() as uow:
            uow.subscriptions.add(service)
            await uow.commit()

        cart = CartService(rt.uow, clock, rt.settings.timezone)
        services = ServiceService(rt.uow, clock, rt.settings.timezone)
        original_save = CartRepository.save

        async def save_after_the_suspension(self, saved):
            # add_add_on has read the service (its parent) without a lock: an admin suspends it now
            await in_another_transaction(services.suspend(ADMIN, service.id, "fraud check"))
            return await original_save(self, saved)

        monkeypatch.setattr(CartRepository, "save", save_after_the_suspension)
        view = await cart.add_add_on(CUSTOMER, ssl.item_id, "monthly", service.id)
        assert [line.item_id for line, _, _ in view.lines] == [ssl.item_id]

        async with rt.sessions() as s:
            row = await s.get(SubscriptionRow, service.id)
            stored = (row.status, row.suspend_reason)
        assert stored == ("suspended", "fraud check")
