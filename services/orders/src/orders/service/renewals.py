"""The renewal job's use case, as of a date: for every account, one renewal order per due date
(RENEWAL_DAYS_BEFORE days ahead, or past: a missed day is caught up), and the end of the services
whose cancellation at period end has come.

One transaction per account, which first locks the account's services: two runs at once (two
processes, or a run beside a checkout renewing early) take turns per account, and the second
sees the first's orders, so `ordered_periods` skips them. The unique claim on renewal lines
(`uq_order_lines_renewal_claim`) stays the database's last word: a run that met it anyway fails
and is run again, and then finds the period ordered. Run again as of the same date or a later
one, it finds nothing more to do."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from orders.domain.offers import tax_rates
from orders.domain.orders import Order, renewable, renewal_orders, renewals_due
from orders.domain.subscriptions import Subscription, add_ons_of, end_service, ending_at_period_end
from portal_runtime.clock import Clock
from portal_runtime.uow import UnitsOfWork

BY = "renewals"  # who the history rows name


@dataclass
class RenewalRun:
    """What one run did."""

    as_of: date
    accounts: int = 0  # accounts looked at (those with something due)
    orders: list[Order] = field(default_factory=list)
    ended: list[Subscription] = field(default_factory=list)  # services ended at period end (parents first)

    def answer(self) -> dict:
        return {
            "as_of": self.as_of.isoformat(),
            "accounts": self.accounts,
            "orders_placed": len(self.orders),
            "order_ids": [str(o.id) for o in self.orders],
            "services_renewing": sum(len(o.lines) for o in self.orders),
            "services_ended": [str(s.id) for s in self.ended],
        }


class RenewalService:
    def __init__(self, uow: UnitsOfWork, clock: Clock, *, days_before: int = 14) -> None:
        self.uow = uow
        self.clock = clock
        self.days_before = days_before

    async def run(self, as_of: date) -> dict:
        """The job: every account with something to do (a renewal to order up to `as_of` +
        days_before that is on no order yet, or a cancellation at period end by `as_of`)."""
        async with self.uow() as uow:
            due = await uow.subscriptions.due(as_of + timedelta(days=self.days_before))
            ordered = await uow.orders.ordered_periods(s.id for s in due)
        accounts = sorted(
            {
                s.account_id
                for s in due
                if (renewable(s) and (s.id, s.next_due_on) not in ordered) or ending_at_period_end([s], as_of)
            }
        )
        run = RenewalRun(as_of, accounts=len(accounts))
        for account_id in accounts:
            orders, ended = await self.renew_account(account_id, as_of)
            run.orders += orders
            run.ended += ended
        return run.answer()

    async def renew_account(self, account_id: str, as_of: date) -> tuple[list[Order], list[Subscription]]:
        """One account as of `as_of`: its services whose cancellation at period end has come end
        (ServiceCancelled, add-ons with them), then one renewal order per due date for what falls
        due by `as_of` + days_before and is on no order yet."""
        async with self.uow() as uow:
            services = list((await uow.subscriptions.of_account(account_id, for_update=True)).values())
            now = self.clock.now()
            ended = []
            for head in ending_at_period_end(services, as_of):
                note = f"cancelled at the end of its period ({head.next_due_on})"
                add_ons = add_ons_of(head, services)
                ended += [head, *end_service(head, add_ons, "cancel", by=BY, now=now, note=note, reason="period_end")]
            due_on = renewals_due(services, as_of, self.days_before)
            orders: list[Order] = []
            if due_on:
                ordered = await uow.orders.ordered_periods(s.id for s in services)
                offers = await uow.offers.many({s.item_id for s in services})
                skus = {item_id: offer.sku for item_id, offer in offers.items()}
                rates = tax_rates(offers)
                for day in due_on:
                    orders += await self._orders_for(uow, services, day, ordered, skus, as_of, now, rates)
            for order in orders:
                uow.orders.add(order)
            await uow.commit()
        return orders, ended

    async def _orders_for(self, uow, services, due_on, ordered, skus, as_of, now, rates=None) -> list[Order]:
        """The renewal orders for one due date, numbered. A dry run first says how many there
        are, so that exactly that many numbers are taken (order numbers have no gaps)."""

        accounts = {s.account_id for s in services}
        terms = await uow.terms.days(next(iter(accounts))) if len(accounts) == 1 else None

        def place(number) -> list[Order]:
            return renewal_orders(
                services,
                due_on,
                ordered,
                number=number,
                by=BY,
                now=now,
                placed_on=as_of,
                skus=skus,
                payment_terms_days=terms,
                tax_rates=rates,
            )

        needed = len(place(lambda: ""))
        if not needed:
            return []
        numbers = iter([await uow.orders.next_number(as_of.year) for _ in range(needed)])
        return place(lambda: next(numbers))
