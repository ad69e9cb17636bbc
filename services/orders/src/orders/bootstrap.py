"""The one place orders' real adapters are wired: HTTP routes, their services, and the
consumers of catalog's and billing's events."""

from __future__ import annotations

from pathlib import Path

from litestar.di import Provide

from orders.http.admin import AdminRequestController
from orders.http.profile import ProfileController
from orders.http.requests import RequestController
from orders.http.subscriptions import SubscriptionController
from orders.service.catalog_copy import CatalogCopy
from orders.service.profiles import ProfileService
from orders.service.requests import RequestService
from orders.service.subscriptions import SubscriptionService
from portal_contracts.events.billing import PaymentConfirmed
from portal_contracts.events.catalog import CatalogItemPublished, CatalogItemRetired
from portal_runtime.consumer import EventConsumer, Incoming
from portal_runtime.service import ServiceDefinition, ServiceRuntime


def _provide(value: object) -> Provide:
    return Provide(lambda: value, sync_to_thread=False)


def _dependencies(rt: ServiceRuntime) -> dict:
    return {
        "profiles": _provide(ProfileService(rt.sessions, rt.outbox, rt.clock)),
        "requests": _provide(RequestService(rt.sessions, rt.outbox, rt.clock)),
        "subscriptions": _provide(SubscriptionService(rt.sessions, rt.clock)),
    }


def register_consumers(consumer: EventConsumer, rt: ServiceRuntime) -> None:
    copy = CatalogCopy(rt.clock)
    subscriptions = SubscriptionService(rt.sessions, rt.clock)

    @consumer.on(CatalogItemPublished)
    async def item_published(d: Incoming) -> None:
        await copy.on_published(d.session, d.event)

    @consumer.on(CatalogItemRetired)
    async def item_retired(d: Incoming) -> None:
        await copy.on_retired(d.session, d.event)

    @consumer.on(PaymentConfirmed)
    async def payment_confirmed(d: Incoming) -> None:
        await subscriptions.on_payment_confirmed(d.session, d.event, d.publish)


def definition() -> ServiceDefinition:
    return ServiceDefinition(
        name="orders",
        description="Account profiles, service requests from draft to review to active subscriptions. Keeps a "
        "copy of catalog's items (`catalog.items`) to price requests, activates paid requests "
        "(`billing.invoices`), publishes on `orders.accounts` and `orders.requests`.",
        migrations=Path(__file__).parent / "migrations",
        routes=[ProfileController, RequestController, AdminRequestController, SubscriptionController],
        register_consumers=register_consumers,
        dependencies=_dependencies,
    )
