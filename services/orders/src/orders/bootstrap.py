"""The one place orders' real adapters are wired: HTTP routes, their services, the consumers of
catalog's and billing's events, the scheduled jobs, and the mapping of orders' domain events to
contract events."""

from __future__ import annotations

from pathlib import Path

from litestar.di import Provide

from orders.adapters.events import offer_from_published, offer_from_retired, to_contract
from orders.adapters.repository import OrdersUnitOfWork
from orders.http.admin import AdminRequestController
from orders.http.auth import AuthController
from orders.http.cart import CartController
from orders.http.me import MeController
from orders.http.orders import AdminOrderController, OrderController
from orders.http.profile import ProfileController
from orders.http.quotes import AdminQuoteController, QuoteController
from orders.http.requests import RequestController
from orders.http.services import AdminServiceController, FeaturedController, ServiceController
from orders.http.subscriptions import SubscriptionController
from orders.http.support import AdminSupportController, CompanyController, SupportController
from orders.http.users import AccountUsersController, AdminUserController
from orders.jobs import client_jobs, quote_jobs
from orders.service.cart import CartService
from orders.service.catalog_copy import CatalogCopy
from orders.service.company import CompanyService
from orders.service.featured import FeaturedService
from orders.service.fulfilment import FulfilmentService
from orders.service.invoice_documents import InvoiceDocumentService
from orders.service.orders import OrderService
from orders.service.profiles import ProfileService
from orders.service.requests import RequestService
from orders.service.services import ServiceService
from orders.service.subscriptions import SubscriptionService
from orders.service.support import SupportService
from orders.service.users import UserService
from orders.service.visibility import apply_group
from orders.settings import OrdersSettings
from portal_contracts.events.billing import (
    InvoiceIssuedV2,
    InvoiceVoided,
    PaymentConfirmed,
    PaymentFailed,
    PaymentReceived,
)
from portal_contracts.events.catalog import (
    AccessGroupChanged,
    AccessGroupDeleted,
    CatalogItemPublished,
    CatalogItemRetired,
)
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
            "client_orders": _provide(OrderService(rt.uow, rt.clock)),
            "reorders": _provide(_reorders(rt)),
            "services": _provide(ServiceService(rt.uow, rt.clock, rt.settings.timezone, window_days=window)),
            "featured": _provide(FeaturedService(rt.uow)),
            "quotes": _provide(_quotes(rt)),
            "support": _provide(SupportService(rt.uow, rt.clock)),
            "company": _provide(CompanyService(rt.uow, rt.clock)),
            **_messages_printing(settings, rt),
            **_documents(settings, rt),
            **_order_manager(settings, rt),
            **_users(settings, rt),
        }

    return dependencies


def _messages_printing(settings: OrdersSettings, rt: ServiceRuntime) -> dict:
    """Order threads, and the printed invoices (of an order; of a page of an order manager's view)."""
    from orders.service.messages import MessageService
    from orders.service.order_manager import OrderManagerViews
    from orders.service.printing import Issuer, PrintingService

    issuer = Issuer(settings.invoice_issuer_name, tuple(settings.invoice_issuer_address))
    views = OrderManagerViews(rt.uow, rt.clock, rt.settings.timezone)
    return {
        "order_messages": _provide(MessageService(rt.uow, rt.clock)),
        "printing": _provide(PrintingService(rt.uow, rt.settings.timezone, issuer, views)),
    }


def _documents(settings: OrdersSettings, rt: ServiceRuntime) -> dict:
    """Every document issued to a customer, each as a PDF (`orders.service.documents`)."""
    return {"documents": _provide(_document_service(settings, rt))}


def _document_service(settings: OrdersSettings, rt: ServiceRuntime):
    from orders.service.documents import DocumentService
    from orders.service.printing import Issuer

    issuer = Issuer(settings.invoice_issuer_name, tuple(settings.invoice_issuer_address))
    return DocumentService(rt.uow, rt.settings.timezone, issuer)


def _order_manager(settings: OrdersSettings, rt: ServiceRuntime) -> dict:
    """The order manager: views, cancel and notes, shipments, payment terms, the order statement."""
    from orders.service.order_manager import OrderManager, OrderManagerViews
    from orders.service.shipments import ShipmentService
    from orders.service.statement import StatementService
    from orders.service.terms import TermsService

    tz = rt.settings.timezone
    return {
        "order_views": _provide(OrderManagerViews(rt.uow, rt.clock, tz)),
        "order_manager": _provide(OrderManager(rt.uow, rt.clock, tz)),
        "shipments": _provide(ShipmentService(rt.uow, rt.clock, settings.carrier_tracking_urls)),
        "terms": _provide(TermsService(rt.uow, rt.clock)),
        "statements": _provide(StatementService(rt.uow)),
    }


def _reorders(rt: ServiceRuntime):
    from orders.service.reorder import ReorderService

    return ReorderService(rt.uow, rt.clock, rt.settings.timezone)


def _quotes(rt: ServiceRuntime):
    """Quotes, with orders' visibility check (its copy of catalog's access groups)."""
    from orders.service.quotes import QuoteService
    from orders.service.visibility import Visibility

    return QuoteService(rt.uow, rt.clock, rt.settings.timezone, Visibility())


def _users(settings: OrdersSettings, rt: ServiceRuntime) -> dict:
    """Users and local sign-in: off (404, no set-password token) with an identity provider."""
    from orders.service.auth import AuthService

    local = not rt.settings.jwt_jwks_url
    secret = rt.settings.jwt_secret.get_secret_value() if rt.settings.jwt_secret is not None else None
    return {
        "users": _provide(
            UserService(rt.uow, rt.clock, invitation_hours=settings.users_invitation_hours, local_sign_in=local)
        ),
        "auth": _provide(
            AuthService(
                rt.uow,
                rt.clock,
                secret=secret,
                local_sign_in=local,
                lock_after_failures=settings.users_lock_after_failures,
                lock_minutes=settings.users_lock_minutes,
                token_minutes=settings.users_token_minutes,
            )
        ),
    }


def register_consumers(consumer: EventConsumer, rt: ServiceRuntime) -> None:
    """Each handler calls a use case, which joins the consumer's unit of work (the inbox row)."""
    copy = CatalogCopy(rt.uow)
    subscriptions = SubscriptionService(rt.uow, rt.clock)
    fulfilment = FulfilmentService(rt.uow, rt.clock, rt.settings.timezone)
    documents = InvoiceDocumentService(rt.uow)  # orders' copy of each order's invoice, for printing
    customer_documents = _document_service(OrdersSettings(), rt)  # every document issued to a customer

    @consumer.on(CatalogItemPublished)
    async def item_published(incoming: Incoming) -> None:
        await copy.apply(offer_from_published(incoming.event))

    @consumer.on(CatalogItemRetired)
    async def item_retired(incoming: Incoming) -> None:
        await copy.apply(offer_from_retired(incoming.event))

    @consumer.on(AccessGroupChanged)
    async def access_group_changed(incoming: Incoming) -> None:
        group: AccessGroupChanged = incoming.event
        await apply_group(
            incoming.session,
            group_id=group.group_id,
            revision=group.revision,
            changed_at=group.changed_at,
            name=group.name,
            item_ids=group.item_ids,
            account_ids=group.account_ids,
        )

    @consumer.on(AccessGroupDeleted)
    async def access_group_deleted(incoming: Incoming) -> None:
        gone: AccessGroupDeleted = incoming.event
        await apply_group(
            incoming.session, group_id=gone.group_id, revision=gone.revision, changed_at=gone.deleted_at, deleted=True
        )

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
        await customer_documents.record(issued)
        await documents.issued(
            invoice_id=issued.invoice_id,
            number=issued.number,
            source_kind=issued.source_kind,
            source_id=issued.source_id,
            payload=issued.model_dump(mode="json"),
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
            await documents.paid(paid.invoice_id, paid.amount_paid.amount)

    @consumer.on(InvoiceVoided)
    async def invoice_voided(incoming: Incoming) -> None:
        await fulfilment.voided(incoming.event.invoice_id)
        await documents.voided(incoming.event.invoice_id)
        await customer_documents.voided(incoming.event.invoice_id)

    @consumer.on(PaymentReceived)
    async def payment_received(incoming: Incoming) -> None:
        """An order's payment submitted while a balance is due (a request's invoice: nothing here)."""
        got: PaymentReceived = incoming.event
        if got.request_id is None:
            await fulfilment.payment_received(got.invoice_id, got.balance_due.amount, got.received_at, got.number)
            await documents.paid(got.invoice_id, got.amount_paid.amount)

    @consumer.on(PaymentFailed)
    async def payment_failed(incoming: Incoming) -> None:
        failed: PaymentFailed = incoming.event
        await fulfilment.payment_failed(failed.invoice_id, failed.failed_at, failed.reason)

    _channel_orders(consumer, rt)
    _issued_documents(consumer, customer_documents, documents)


def _issued_documents(consumer: EventConsumer, customer_documents, invoice_copies) -> None:
    """The documents others issue to a customer: goods receipts, credit notes, reconciliation statements."""
    from portal_contracts.events.billing import CreditNoteIssued, StatementIssued
    from portal_contracts.events.returns import GoodsReceived

    @consumer.on(GoodsReceived)
    async def goods_received(incoming: Incoming) -> None:
        await customer_documents.record(incoming.event)

    @consumer.on(CreditNoteIssued)
    async def credit_note_issued(incoming: Incoming) -> None:
        note: CreditNoteIssued = incoming.event
        await customer_documents.record(note)
        if note.applied is not None and note.applied.amount > 0:  # off the printed invoice's balance due
            await invoice_copies.credited(note.invoice_id, note.credit_note_id, note.applied.amount)

    @consumer.on(StatementIssued)
    async def statement_issued(incoming: Incoming) -> None:
        await customer_documents.record(incoming.event)


def _channel_orders(consumer: EventConsumer, rt: ServiceRuntime) -> None:
    """Orders from other sales channels: one per (channel, channel_order_id); a line the account may
    not order refuses the message (dead letter with the reason)."""
    from orders.service.channel_orders import ChannelOrderService, lines_of
    from portal_contracts.events.channels import ChannelOrderReceived

    channel_orders = ChannelOrderService(rt.uow, rt.clock, rt.settings.timezone)

    @consumer.on(ChannelOrderReceived)
    async def channel_order_received(incoming: Incoming) -> None:
        got: ChannelOrderReceived = incoming.event
        await channel_orders.received(
            channel=got.channel,
            channel_order_id=got.channel_order_id,
            account_id=got.account_id,
            currency=got.currency,
            lines=lines_of(got.lines),
            customer_reference=got.customer_reference,
            ordered_at=got.ordered_at,
        )


def _message_printing_routes() -> list:
    from orders.http.documents import DocumentController
    from orders.http.messages import AdminOrderMessageController, OrderMessageController
    from orders.http.printing import AdminInvoicePrintController, InvoicePrintController

    return [
        OrderMessageController,
        AdminOrderMessageController,
        InvoicePrintController,
        AdminInvoicePrintController,
        DocumentController,
    ]


def _order_manager_routes() -> list:
    from orders.http.order_manager import (
        AccountTermsController,
        AdminOrderManagerController,
        CustomerOrderManagerController,
    )

    return [AdminOrderManagerController, AccountTermsController, CustomerOrderManagerController]


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
            AdminOrderController,
            ServiceController,
            AdminServiceController,
            AdminUserController,
            AccountUsersController,
            MeController,
            AuthController,
            AdminQuoteController,
            QuoteController,
            SupportController,
            AdminSupportController,
            CompanyController,
            *_message_printing_routes(),
            *_order_manager_routes(),
        ],
        register_consumers=register_consumers,
        dependencies=_dependencies(settings),
        event_mapping=to_contract,
        unit_of_work=OrdersUnitOfWork,
        jobs=[*client_jobs(settings), *quote_jobs(settings)],
    )
