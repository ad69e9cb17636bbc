"""The overdue and unpaid-orders jobs' use cases, as of a date.

`overdue`: each renewal order still unpaid after its due date takes the step due for each of its
services (`orders.domain.overdue`): the reminder (ServiceOverdue), the suspension (reason
`overdue`), the termination (the order cancelled as `terminated`: billing voids its invoice).
Each step happens once per service and order: a reminder sent is kept (service_reminders), a
suspension or termination is the service's status, so a run again as of the same date or a later
one does nothing more. `unpaid-orders`: cart orders still placed UNPAID_ORDER_CANCEL_DAYS after
they were placed are cancelled as `unpaid`, and the services waiting for them with them.

One transaction per order, which locks the order and then the account's services (the order a
payment's fulfilment takes them in too): a payment arriving during the run either comes first,
and the order is no longer unpaid, or waits, and finds the order cancelled."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from orders.domain.orders import Source, Status
from orders.domain.overdue import REMIND, SUSPEND, TERMINATE, OverdueSettings, apply_overdue, overdue_steps
from orders.domain.overdue import unpaid_orders as unpaid
from orders.domain.subscriptions import Status as ServiceStatus
from portal_runtime.clock import Clock
from portal_runtime.uow import UnitsOfWork

OVERDUE_BY, UNPAID_BY = "overdue", "unpaid-orders"  # who the history rows name


@dataclass
class OverdueRun:
    as_of: date
    orders: int = 0  # unpaid renewal orders looked at
    steps: dict[str, list[str]] = field(default_factory=lambda: {REMIND: [], SUSPEND: [], TERMINATE: []})
    cancelled: list[str] = field(default_factory=list)

    def answer(self) -> dict:
        return {
            "as_of": self.as_of.isoformat(),
            "orders_unpaid": self.orders,
            "reminded": self.steps[REMIND],
            "suspended": self.steps[SUSPEND],
            "terminated": self.steps[TERMINATE],
            "orders_cancelled": self.cancelled,
        }


class OverdueService:
    def __init__(self, uow: UnitsOfWork, clock: Clock, settings: OverdueSettings = OverdueSettings()) -> None:
        self.uow = uow
        self.clock = clock
        self.settings = settings

    async def run(self, as_of: date) -> dict:
        """The job: every renewal order unpaid `reminder_days` after its due date."""
        due_by = as_of - timedelta(days=self.settings.reminder_days)
        async with self.uow() as uow:
            order_ids = [o.id for o in await uow.orders.placed(source=Source.RENEWAL) if o.due_on <= due_by]
        run = OverdueRun(as_of, orders=len(order_ids))
        for order_id in order_ids:
            async with self.uow() as uow:
                order = await uow.orders.get(order_id, for_update=True)
                if order is None or order.status != Status.PLACED:  # paid or cancelled since
                    continue
                services = await uow.subscriptions.of_account(order.account_id, for_update=True)
                reminded = await uow.subscriptions.reminded({sid for sid, _ in order.renewals})
                now = self.clock.now()
                for step in overdue_steps([order], services, as_of, self.settings, reminded):
                    apply_overdue(step, order, services, by=OVERDUE_BY, now=now)
                    if step.action == REMIND:
                        await uow.subscriptions.remember_reminder(step.subscription_id, step.due_on)
                    run.steps[step.action].append(str(step.subscription_id))
                if order.status == Status.CANCELLED:
                    run.cancelled.append(str(order.id))
                await uow.commit()
        return run.answer()


class UnpaidOrderService:
    def __init__(self, uow: UnitsOfWork, clock: Clock, *, cancel_after_days: int = 14) -> None:
        self.uow = uow
        self.clock = clock
        self.cancel_after_days = cancel_after_days

    async def run(self, as_of: date) -> dict:
        """The job: every cart order placed `cancel_after_days` or more days before `as_of` and
        still unpaid is cancelled as `unpaid` (OrderCancelled: billing voids its invoice); the
        services it would have created that wait for it (pending) are cancelled."""
        async with self.uow() as uow:
            placed = await uow.orders.placed(source=Source.CART)
            order_ids = [o.id for o in unpaid(placed, as_of, self.cancel_after_days)]
        cancelled, services_cancelled = [], []
        for order_id in order_ids:
            async with self.uow() as uow:
                order = await uow.orders.get(order_id, for_update=True)
                if order is None or not unpaid([order], as_of, self.cancel_after_days):
                    continue
                now = self.clock.now()
                order.cancel("unpaid", by=UNPAID_BY, now=now)
                services = await uow.subscriptions.of_account(order.account_id, for_update=True)
                for service in services.values():
                    if service.order_id == order.id and service.status == ServiceStatus.PENDING:
                        service.cancel(by=UNPAID_BY, now=now, note=f"order {order.number} left unpaid")
                        services_cancelled.append(str(service.id))
                cancelled.append(str(order.id))
                await uow.commit()
        return {"as_of": as_of.isoformat(), "orders_cancelled": cancelled, "services_cancelled": services_cancelled}
