"""Orders' scheduled jobs (portal_runtime.jobs): `renewals`, `overdue` and `unpaid-orders`, each
daily at the time orders' settings give and on demand through `POST /v1/admin/jobs/{job}/run`.
The runtime runs one of them once per date and one at a time across processes; each use case is
idempotent for its date as well (a crashed run is run again)."""

from __future__ import annotations

from collections.abc import Callable

from orders.service.overdue import OverdueService, UnpaidOrderService
from orders.service.quotes import QuoteJob
from orders.service.renewals import RenewalService
from orders.settings import OrdersSettings
from portal_runtime.jobs import Daily, Job
from portal_runtime.service import ServiceRuntime


def client_jobs(settings: OrdersSettings | None = None) -> list[Callable[[ServiceRuntime], Job]]:
    """The client area's jobs, for `ServiceDefinition(jobs=...)`."""
    config = settings or OrdersSettings()
    overdue = config.overdue()

    def renewals(rt: ServiceRuntime) -> Job:
        service = RenewalService(rt.uow, rt.clock, days_before=config.renewal_days_before)
        return Job(
            "renewals",
            Daily(config.renewals_at),
            service.run,
            description=f"one renewal order per account and due date, {config.renewal_days_before} days before "
            "it (RENEWAL_DAYS_BEFORE); ends services cancelled at period end on their due date",
        )

    def overdue_job(rt: ServiceRuntime) -> Job:
        return Job(
            "overdue",
            Daily(config.overdue_at),
            OverdueService(rt.uow, rt.clock, overdue).run,
            description=f"unpaid renewals: reminder {overdue.reminder_days}, suspension "
            f"{overdue.suspend_after_days}, termination {overdue.terminate_after_days} days after the due date "
            "(OVERDUE_REMINDER_DAYS, OVERDUE_SUSPEND_AFTER_DAYS, OVERDUE_TERMINATE_AFTER_DAYS)",
        )

    def unpaid_orders(rt: ServiceRuntime) -> Job:
        service = UnpaidOrderService(rt.uow, rt.clock, cancel_after_days=config.unpaid_order_cancel_days)
        return Job(
            "unpaid-orders",
            Daily(config.unpaid_orders_at),
            service.run,
            description=f"cart orders unpaid {config.unpaid_order_cancel_days} days are cancelled "
            "(UNPAID_ORDER_CANCEL_DAYS)",
        )

    return [renewals, overdue_job, unpaid_orders]


def quote_jobs(settings: OrdersSettings | None = None) -> list[Callable[[ServiceRuntime], Job]]:
    """The quotes job (`quotes`, daily at QUOTES_AT), for `ServiceDefinition(jobs=...)`."""
    config = settings or OrdersSettings()

    def quotes(rt: ServiceRuntime) -> Job:
        service = QuoteJob(rt.uow, rt.clock, days_before=config.quote_expiring_days)
        return Job(
            "quotes",
            Daily(config.quotes_at),
            service.run,
            description=f"sent quotes: QuoteExpiring {config.quote_expiring_days} days before valid_until (once; "
            "QUOTE_EXPIRING_DAYS), QuoteExpired once valid_until has passed",
        )

    return [quotes]
