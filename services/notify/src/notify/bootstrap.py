"""The one place notify's real adapters are wired."""

from __future__ import annotations

from pathlib import Path

from litestar.di import Provide

from notify import consumers
from notify.adapters.events import to_contract
from notify.adapters.repository import NotifyUnitOfWork
from notify.adapters.smtp import SmtpTransport
from notify.adapters.templates import TemplateRenderer
from notify.http.confirmations import EmailConfirmationController
from notify.http.deliveries import AdminDeliveryController, DeliveryController
from notify.service.confirmations import Confirmations
from notify.service.deliveries import DeliveryService
from notify.service.inbound import Inbound
from notify.service.sending import DELIVERIES_CHANNEL, Sender
from notify.settings import NotifySettings
from portal_runtime.consumer import EventConsumer
from portal_runtime.service import ServiceDefinition, ServiceRuntime
from portal_runtime.wake import Wakeup


def definition(settings: NotifySettings | None = None) -> ServiceDefinition:
    """`settings` for tests; otherwise read from the environment when the process starts."""
    cached: list[NotifySettings] = []

    def config() -> NotifySettings:
        if not cached:
            cached.append(settings or NotifySettings())
        return cached[0]

    def dependencies(rt: ServiceRuntime) -> dict:
        service = DeliveryService(rt.uow, rt.clock)
        renderer = TemplateRenderer(rt.settings.timezone, portal_url=config().portal_url)
        confirmations = Confirmations(rt.uow, renderer, rt.clock)
        return {
            "deliveries": Provide(lambda: service, sync_to_thread=False),
            "confirmations": Provide(lambda: confirmations, sync_to_thread=False),
        }

    def register_consumers(consumer: EventConsumer, rt: ServiceRuntime) -> None:
        cfg = config()
        renderer = TemplateRenderer(rt.settings.timezone, portal_url=cfg.portal_url)
        business = (cfg.business_email, cfg.business_language)
        inbound = Inbound(rt.uow, renderer, rt.clock, cfg.confirming(), portal_url=cfg.portal_url, business=business)
        consumers.register(consumer, inbound)

    async def send_emails(rt: ServiceRuntime) -> None:
        cfg = config()
        sender = Sender(rt.uow, rt.clock, SmtpTransport(cfg, rt.clock, rt.tracer_provider), cfg.retry_policy())
        wakeup = Wakeup(rt.engine.url, DELIVERIES_CHANNEL)
        await sender.run(poll_seconds=cfg.send_poll_seconds, concurrency=cfg.send_concurrency, wakeup=wakeup)

    return ServiceDefinition(
        name="notify",
        description="Emails to customers in their language: request received, information requested, "
        "rejected, approved with invoice, payment received, services active; in the client area order "
        "received, the order's or renewal's invoice (services and add-ons with their periods), and one email "
        "per service event (active, renewed, overdue reminder, suspended, reactivated, terminated, "
        "cancellation scheduled, cancelled) naming the service and its add-ons; for prepaid units, units "
        "credited, the purchase receipt with its invoice, a declined purchase, balance low, a declined "
        "automatic top-up, the plan paused and its monthly cap reached (the plan's notices to its billing "
        "contact too, in the account's language). Keeps its own copy of each "
        "account's address (from `AccountProfileChanged`) and mails only an address that was confirmed "
        "(a new one gets a confirmation email with a token for `POST /v1/email-confirmations`); every "
        "delivery ends `sent` (EmailSent) or `failed` (EmailFailed) on `notify.deliveries`. For the B2B "
        "portal: portal access granted to an invited user (the set-password link `{PORTAL_URL}/set-password` "
        "and its code, or sign in at PORTAL_URL with an identity provider), quote sent and quote expiring, "
        "order received for OrderPlaced v2 (goods with quantities; one email per order whichever version says "
        "it), support request received and answered (to its sender, in the user's language). Keeps a copy of "
        "each user (`UserInvited`, `UserContactChanged`, `UserActivated`): the invitation goes to the invited "
        "address unconfirmed, activation proves it, a changed address is confirmed again. For the order "
        "manager: order shipped (carrier, tracking number and link, what shipped) and partially shipped (and what "
        "is still awaited), order cancelled (the reason, and whether the amount paid is refunded or credited), and "
        "each message in an order's thread to the other side: the business's to the account, the customer's to "
        "BUSINESS_EMAIL in BUSINESS_LANGUAGE; one email per shipment, cancelled order and message. For returns "
        "and the account's money: RMA received (its lines and the problem), approved (the resolution and the "
        "expected completion date), rejected (the reason), its expected date changed (old and new date), goods "
        "received (the goods receipt's lines, partly or all received), a credit note for returned goods (its lines "
        "with tax, the total with tax, what it took off the invoice and what is refunded or credited) and a "
        "reconciliation statement issued (its period, opening balance, debits, credits and closing balance); one "
        "email per RMA step, goods receipt, credit note and statement.",
        migrations=Path(__file__).parent / "migrations",
        routes=[DeliveryController, AdminDeliveryController, EmailConfirmationController],
        register_consumers=register_consumers,
        dependencies=dependencies,
        background=[send_emails],
        event_mapping=to_contract,
        unit_of_work=NotifyUnitOfWork,
    )
