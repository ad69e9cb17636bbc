"""The one place orders' real adapters are wired: HTTP routes, their services, the consumers of
catalog's and billing's events, the scheduled jobs, and the mapping of orders' domain events to
contract events."""

from __future__ import annotations

from pathlib import Path

from litestar.di import Provide

from orders.adapters.events import offer_from_published, offer_from_retired, to_contract
from orders.adapters.repository import OrdersUnitOfWork
from orders.http.admin import AdminRequestController
from orders.http.cart import CartController
from orders.http.orders import OrderController
from orders.http.profile import ProfileController
from orders.http.requests import RequestController
from orders.http.services import AdminServiceController, FeaturedController, ServiceController
from orders.http.subscriptions import SubscriptionController
from orders.jobs import client_jobs
from orders.service.cart import CartService
from orders.service.catalog_copy import CatalogCopy
from orders.service.featured import FeaturedService
from orders.service.fulfilment import FulfilmentService
from orders.service.orders import OrderService
from orders.service.profiles import ProfileService
from orders.service.requests import RequestService
from orders.service.services import ServiceService
from orders.service.subscriptions import SubscriptionService
from orders.settings import OrdersSettings
from portal_contracts.events.billing import InvoiceIssuedV2, InvoiceVoided, PaymentConfirmed
from portal_contracts.events.catalog import CatalogItemPublished, CatalogItemRetired
from portal_runtime.consumer import EventConsumer, Incoming
from portal_runtime.service import ServiceDefinition, ServiceRuntime


def _provide(value: object) -> Provide:
    return Provide(lambda: value, sync_to_thread=False)


def _dependencies(settings: OrdersSettings):
    def dependencies(rt: ServiceRuntime) -> dict:
        window = settings.renewal_window_days
        return {
            "profiles": _provide(ProfileService(rt.uow, rt.clock)),
            "service_requests": _provide(RequestService(rt.uow, rt.clock)),
            "subscriptions": _provide(SubscriptionService(rt.uow, rt.clock)),
            "cart": _provide(CartService(rt.uow, rt.clock, rt.settings.timezone, window_days=window)),
            "client_orders": _provide(OrderService(rt.uow)),
            "services": _provide(ServiceService(rt.uow, rt.clock, rt.settings.timezone, window_days=window)),
            "featured": _provide(FeaturedService(rt.uow)),
        }

    return dependencies


def register_consumers(consumer: EventConsumer, rt: ServiceRuntime) -> None:
    """Each handler calls a use case, which joins the consumer's unit of work (the inbox row)."""
    copy = CatalogCopy(rt.uow)
    subscriptions = SubscriptionService(rt.uow, rt.clock)
    fulfilment = FulfilmentService(rt.uow, rt.clock, rt.settings.timezone)

    @consumer.on(CatalogItemPublished)
    async def item_published(incoming: Incoming) -> None:
        await copy.apply(offer_from_published(incoming.event))

    @consumer.on(CatalogItemRetired)
    async def item_retired(incoming: Incoming) -> None:
        await copy.apply(offer_from_retired(incoming.event))

    @consumer.on(InvoiceIssuedV2)
    async def invoice_issued(incoming: Incoming) -> None:
        issued: InvoiceIssuedV2 = incoming.event
        await fulfilment.link_invoice(
            invoice_id=issued.invoice_id,
            number=issued.number,
            source_kind=issued.source_kind,
            source_id=issued.source_id,
            total=issued.total.amount,
            currency=issued.total.currency,
            due_on=issued.due_on,
            issued_at=issued.issued_at,
        )

    @consumer.on(PaymentConfirmed)
    async def payment_confirmed(incoming: Incoming) -> None:
        """A request's invoice (request_id set) activates the request, as the seller flow always
        did; any other invoice may be an order's, which is fulfilled."""
        paid: PaymentConfirmed = incoming.event
        if paid.request_id is not None:
            await subscriptions.activate_paid(paid.request_id, paid.account_id, paid.number)
        else:
            await fulfilment.paid(paid.invoice_id, paid.account_id, paid.number, paid.confirmed_at)

    @consumer.on(InvoiceVoided)
    async def invoice_voided(incoming: Incoming) -> None:
        await fulfilment.voided(incoming.event.invoice_id)


def definition(settings: OrdersSettings | None = None) -> ServiceDefinition:
    settings = settings or OrdersSettings()
    return ServiceDefinition(
        name="orders",
        description="Account profiles, service requests from draft to review to active subscriptions, and the "
        "client area: carts, orders, services with their add-ons, renewals. Keeps a copy of catalog's items "
        "(`catalog.items`) to price requests and carts, activates paid requests and fulfils paid orders "
        "(`billing.invoices`), publishes on `orders.accounts`, `orders.requests`, `orders.orders` and "
        "`orders.services`.",
        migrations=Path(__file__).parent / "migrations",
        routes=[
            ProfileController,
            RequestController,
            AdminRequestController,
            SubscriptionController,
            FeaturedController,
            CartController,
            OrderController,
            ServiceController,
            AdminServiceController,
        ],
        register_consumers=register_consumers,
        dependencies=_dependencies(settings),
        event_mapping=to_contract,
        unit_of_work=OrdersUnitOfWork,
        jobs=client_jobs(settings),
    )
