"""The one place billing's real adapters are wired."""

from __future__ import annotations

from pathlib import Path

from litestar.di import Provide

from billing.adapters.events import to_contract
from billing.adapters.gateway import PaymentGateway, SandboxGateway
from billing.adapters.repository import BillingUnitOfWork
from billing.consumers import orders
from billing.http.invoices import AdminInvoiceController, InvoiceController
from billing.service.invoices import BillingService
from billing.settings import BillingSettings
from portal_runtime.consumer import EventConsumer
from portal_runtime.service import ServiceDefinition, ServiceRuntime


def definition(*, gateway: PaymentGateway | None = None, settings: BillingSettings | None = None) -> ServiceDefinition:
    """Billing with the sandbox gateway unless another is handed in."""
    gateway = gateway or SandboxGateway()
    payee = (settings or BillingSettings()).payee()

    def service(rt: ServiceRuntime) -> BillingService:
        return BillingService(rt.uow, rt.clock, gateway, payee, rt.settings.timezone)

    def dependencies(rt: ServiceRuntime) -> dict:
        billing = service(rt)
        return {"billing": Provide(lambda: billing, sync_to_thread=False)}

    def register_consumers(consumer: EventConsumer, rt: ServiceRuntime) -> None:
        orders.register(consumer, service(rt))

    return ServiceDefinition(
        name="billing",
        description="Invoices for any source: approved requests, orders, renewals, top-ups (numbered INV-<year>-<n> "
        "without gaps, one per source and billing period), their payment "
        "instructions and payments. Publishes on `billing.invoices`.",
        migrations=Path(__file__).parent / "migrations",
        routes=[InvoiceController, AdminInvoiceController],
        dependencies=dependencies,
        register_consumers=register_consumers,
        event_mapping=to_contract,
        unit_of_work=BillingUnitOfWork,
    )
