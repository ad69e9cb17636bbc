"""The one place orders' real adapters are wired: HTTP routes, their services, the consumers of
catalog's and billing's events, and the mapping of orders' domain events to contract events."""

from __future__ import annotations

from pathlib import Path

from litestar.di import Provide

from orders.adapters.events import offer_from_published, offer_from_retired, to_contract
from orders.adapters.repository import OrdersUnitOfWork
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
        "profiles": _provide(ProfileService(rt.uow, rt.clock)),
        "service_requests": _provide(RequestService(rt.uow, rt.clock)),
        "subscriptions": _provide(SubscriptionService(rt.uow, rt.clock)),
    }


def register_consumers(consumer: EventConsumer, rt: ServiceRuntime) -> None:
    """Each handler calls a use case, which joins the consumer's unit of work (the inbox row)."""
    copy = CatalogCopy(rt.uow)
    subscriptions = SubscriptionService(rt.uow, rt.clock)

    @consumer.on(CatalogItemPublished)
    async def item_published(incoming: Incoming) -> None:
        await copy.apply(offer_from_published(incoming.event))

    @consumer.on(CatalogItemRetired)
    async def item_retired(incoming: Incoming) -> None:
        await copy.apply(offer_from_retired(incoming.event))

    @consumer.on(PaymentConfirmed)
    async def payment_confirmed(incoming: Incoming) -> None:
        paid: PaymentConfirmed = incoming.event
        await subscriptions.activate_paid(paid.request_id, paid.account_id, paid.number)


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
        event_mapping=to_contract,
        unit_of_work=OrdersUnitOfWork,
    )
