"""The one place billing's real adapters are wired."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from litestar.di import Provide

from billing.adapters.events import to_contract
from billing.adapters.gateway import PaymentGateway, SandboxGateway
from billing.adapters.repository import BillingUnitOfWork
from billing.consumers import orders, returned_goods, units
from billing.domain.plans import RetryPolicy
from billing.http.account_payments import AdminAccountPaymentController
from billing.http.balances import AccountBalanceController
from billing.http.credit_notes import AccountCreditController, CreditNoteController
from billing.http.invoices import AdminInvoiceController, InvoiceController
from billing.http.plans import PlanController
from billing.http.reconciliation import AdminStatementController, StatementController
from billing.http.units import AdminUnitsController, UnitsController
from billing.service.account_payments import AccountPaymentsService
from billing.service.balances import Balances
from billing.service.invoices import BillingService
from billing.service.invoicing import Invoicing
from billing.service.reconciliation import ReconciliationStatements
from billing.service.returned_goods import ReturnedGoods
from billing.service.statements import AccountStatements
from billing.service.top_ups import Charger, TopUps
from billing.service.units import UnitWallets
from billing.settings import BillingSettings
from portal_runtime.consumer import EventConsumer
from portal_runtime.jobs import Every, Job
from portal_runtime.service import ServiceDefinition, ServiceRuntime


def definition(*, gateway: PaymentGateway | None = None, settings: BillingSettings | None = None) -> ServiceDefinition:
    """Billing with the sandbox gateway in its own database unless another is handed in."""
    settings = settings or BillingSettings()
    payee = settings.payee()

    def gateway_of(rt: ServiceRuntime) -> PaymentGateway:
        return gateway or SandboxGateway(rt.sessions, rt.clock)

    def service(rt: ServiceRuntime) -> BillingService:
        return BillingService(rt.uow, rt.clock, gateway_of(rt), payee, rt.settings.timezone)

    def units_of(rt: ServiceRuntime) -> UnitWallets:
        """The unit wallets' use cases; the automatic plan hooks in here (after_balance_change, plan_of)."""
        return top_ups_of(rt).wallets

    def top_ups_of(rt: ServiceRuntime) -> TopUps:
        """The automatic plan's use cases on their own wallets' use cases, whose every balance change
        runs the plan's top-up decision (in its unit of work, the wallet locked)."""
        wallets = UnitWallets(
            rt.uow,
            rt.clock,
            gateway_of(rt),
            Invoicing(rt.uow, rt.clock, payee),
            tz=rt.settings.timezone,
            initial_grant=settings.units_initial_grant,
            low_balance_at=settings.units_low_balance_at,
        )
        policy = RetryPolicy(timedelta(seconds=settings.units_retry_seconds), settings.units_max_declines)
        top_ups = TopUps(rt.uow, rt.clock, gateway_of(rt), wallets, tz=rt.settings.timezone, policy=policy)
        wallets.after_balance_change = top_ups.after_balance_change
        wallets.plan_of = top_ups.plan_of
        return top_ups

    async def charge_top_ups(rt: ServiceRuntime) -> None:
        """The worker's charger of pending plan purchases (`billing.service.top_ups`)."""
        top_ups = top_ups_of(rt)
        charger = Charger(rt.uow, rt.clock, top_ups.gateway, top_ups)
        await charger.run(poll_seconds=settings.units_charge_poll_seconds)

    def unit_top_ups(rt: ServiceRuntime) -> Job:
        return Job(
            "unit-top-ups",
            Every(minutes=5),
            top_ups_of(rt).run_due,
            description="the top-up decision for every active automatic plan whose account is at or below its "
            "threshold (a declined top-up is tried again after its backoff even when no usage comes)",
        )

    def ledger_dated(rt: ServiceRuntime) -> None:
        """The account ledger dates its rows on the business's date (BUSINESS_TIMEZONE)."""
        if getattr(rt.uow.kind, "timezone", None) != rt.settings.timezone:
            rt.uow.kind = type("BillingUnitOfWork", (BillingUnitOfWork,), {"timezone": rt.settings.timezone})

    def dependencies(rt: ServiceRuntime) -> dict:
        ledger_dated(rt)
        billing, top_ups = service(rt), top_ups_of(rt)
        reconciliations = ReconciliationStatements(rt.uow, rt.clock, rt.settings.timezone)
        tz = rt.settings.timezone
        balances, statements = Balances(rt.uow), AccountStatements(rt.uow, rt.clock, tz)
        account_payments = AccountPaymentsService(rt.uow, rt.clock, tz)
        return {
            "balances": Provide(lambda: balances, sync_to_thread=False),
            "statements": Provide(lambda: statements, sync_to_thread=False),
            "account_payments": Provide(lambda: account_payments, sync_to_thread=False),
            "billing": Provide(lambda: billing, sync_to_thread=False),
            "wallets": Provide(lambda: top_ups.wallets, sync_to_thread=False),
            "top_ups": Provide(lambda: top_ups, sync_to_thread=False),
            "reconciliations": Provide(lambda: reconciliations, sync_to_thread=False),
        }

    def register_consumers(consumer: EventConsumer, rt: ServiceRuntime) -> None:
        ledger_dated(rt)
        orders.register(consumer, service(rt))
        units.register(consumer, units_of(rt))
        returned_goods.register(consumer, ReturnedGoods(rt.uow, rt.clock))

    return ServiceDefinition(
        name="billing",
        description="Invoices for any source: approved requests, orders, renewals, top-ups (numbered INV-<year>-<n> "
        "without gaps, one per source and billing period), their payment "
        "instructions and payments; credit notes (CN-<year>-<n>) when a paid order is cancelled, refunded or "
        "credited to the account, and for returned goods (GoodsReceived of returns.rma, resolution refund or "
        "credit); reconciliation statements (ST-<year>-<n>) confirmed or disputed by the customer; "
        "every account's ledger, balances (customer, by order) and account statement, and its payments on "
        "account (allocated to open invoices oldest due first; account credit pays its next invoices); "
        "every account's prepaid units (wallet, ledger, package purchases, the "
        "automatic top-up plan). Publishes on `billing.invoices`, `billing.units` and "
        "`billing.statements`.",
        migrations=Path(__file__).parent / "migrations",
        routes=[
            InvoiceController,
            AdminInvoiceController,
            CreditNoteController,
            AccountCreditController,
            AccountBalanceController,
            AdminAccountPaymentController,
            UnitsController,
            AdminUnitsController,
            PlanController,
            AdminStatementController,
            StatementController,
        ],
        dependencies=dependencies,
        register_consumers=register_consumers,
        event_mapping=to_contract,
        unit_of_work=BillingUnitOfWork,
        background=[charge_top_ups],
        jobs=[unit_top_ups],
    )
