"""The client area's jobs on real PostgreSQL: the renewal job run by two orders services at once
(the runtime's Jobs, over HTTP) and by two OS processes at once without the runtime's job lock
(the use case's own guard) makes one order per account and due date; the overdue and
unpaid-orders jobs through the real repositories."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select, text

from orders.adapters.events import to_contract
from orders.adapters.repository import OrdersUnitOfWork
from orders.adapters.tables import OrderLineRow, OrderRow, ServiceReminderRow, SubscriptionRow
from orders.bootstrap import definition
from orders.domain.lines import LineKind, OrderLine
from orders.domain.orders import Order, Source, fulfil
from orders.domain.overdue import OverdueSettings
from orders.domain.subscriptions import Subscription
from orders.service.overdue import OverdueService, UnpaidOrderService
from orders.service.renewals import RenewalService
from portal_runtime.clock import FrozenClock
from portal_runtime.db import make_engine, make_sessionmaker
from portal_runtime.outbox import Outbox
from portal_runtime.testing import bearer, eventually, running_service
from portal_runtime.uow import UnitsOfWork

HERE = Path(__file__).parent
ADMIN = bearer("ops", "admin")


def at(day: date) -> datetime:
    return datetime.combine(day, time(9, 0), tzinfo=UTC)


class Env:
    """Orders' units of work on one database, a clock, and the three jobs' use cases."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.clock = FrozenClock(at(date(2026, 1, 1)))
        self.uow = UnitsOfWork(
            make_sessionmaker(self.engine), Outbox("orders", self.clock), to_contract, OrdersUnitOfWork
        )
        self.renewals = RenewalService(self.uow, self.clock, days_before=14)
        self.overdue = OverdueService(self.uow, self.clock, OverdueSettings(1, 7, 30))
        self.unpaid = UnpaidOrderService(self.uow, self.clock, cancel_after_days=14)

    async def bought(
        self, account: str, paid_on: date, *, parent: Subscription | None = None, price: str = "10.00", pay=True
    ) -> tuple[Order, Subscription | None]:
        """A cart order for a monthly service (an add-on of `parent`), placed on `paid_on` and,
        unless `pay` is False, paid that day: the order and the service it made."""
        self.clock._at = at(paid_on)
        line = OrderLine(
            line_id=uuid.uuid4(),
            kind=LineKind.NEW if parent is None else LineKind.ADD_ON,
            item_id=uuid.uuid4(),
            sku="HOST-1",
            name="Hosting" if parent is None else "SSL",
            cycle="monthly",
            unit_price=Decimal(price),
            amount=Decimal(price),
            currency="EUR",
            subscription_id=uuid.uuid4(),
            period_start=paid_on,
            period_end=None,
            parent_subscription_id=parent.id if parent else None,
        )
        async with self.uow() as uow:
            order = Order.place(
                account_id=account,
                number=await uow.orders.next_number(paid_on.year),
                source=Source.CART,
                lines=[line],
                by=account,
                now=at(paid_on),
                placed_on=paid_on,
            )
            uow.orders.add(order)
            made = None
            if pay:
                parents = await uow.subscriptions.many([parent.id] if parent else [])
                [made] = fulfil(order, parents, paid_on, by="billing", now=at(paid_on)).created
                uow.subscriptions.add(made)
            await uow.commit()
        return order, made

    async def scalar(self, query):
        async with self.engine.connect() as conn:
            return await conn.scalar(query)

    async def orders(self, source: str = "renewal") -> list:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(OrderRow.id, OrderRow.account_id, OrderRow.due_on, OrderRow.status, OrderRow.cancel_reason)
                .where(OrderRow.source == source)
                .order_by(OrderRow.account_id, OrderRow.due_on)
            )
            return rows.all()

    async def renewed(self) -> list[tuple[uuid.UUID, date]]:
        """(subscription_id, period_start) of every renewal line."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(OrderLineRow.subscription_id, OrderLineRow.period_start).where(OrderLineRow.kind == "renewal")
            )
            return sorted(rows.all())

    async def status(self, subscription: Subscription) -> tuple[str, str | None]:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(SubscriptionRow.status, SubscriptionRow.suspend_reason).where(
                        SubscriptionRow.id == subscription.id
                    )
                )
            ).one()
            return row.status, row.suspend_reason

    async def outbox(self) -> list[str]:
        async with self.engine.connect() as conn:
            return list(await conn.scalars(text("SELECT event_type FROM outbox ORDER BY id")))


async def _env(migrated_database) -> Env:
    return Env(await migrated_database(definition()))


# -- the use cases on the real repositories ------------------------------------------------------
async def test_renewals_on_postgres_one_order_per_account_and_due_date_once(migrated_database):
    env = await _env(migrated_database)
    try:
        _, hosting = await env.bought("acme", date(2026, 1, 1))
        _, ssl = await env.bought("acme", date(2026, 1, 10), parent=hosting, price="12.00")
        _, theirs = await env.bought("other", date(2026, 1, 1))
        _, later = await env.bought("acme", date(2026, 1, 5))
        before = len(await env.outbox())
        env.clock._at = at(date(2026, 1, 18))
        done = await env.renewals.run(date(2026, 1, 18))
        assert (done["accounts"], done["orders_placed"], done["services_renewing"]) == (2, 2, 3)
        assert [(o.account_id, o.due_on, o.status) for o in await env.orders()] == [
            ("acme", date(2026, 2, 1), "placed"),
            ("other", date(2026, 2, 1), "placed"),
        ]
        assert await env.renewed() == sorted((s.id, date(2026, 2, 1)) for s in (hosting, ssl, theirs))
        placed = [t for t in (await env.outbox())[before:] if t == "OrderPlaced"]
        assert len(placed) == 2  # billing invoices each
        for day in (date(2026, 1, 18), date(2026, 1, 19)):  # again, the same day and the day after
            env.clock._at = at(day)
            again = await env.renewals.run(day)
            assert (again["accounts"], again["orders_placed"]) == (0, 0)
        done = await env.renewals.run(date(2026, 1, 22))  # the one due 5 February
        assert done["orders_placed"] == 1 and (later.id, date(2026, 2, 5)) in await env.renewed()
        assert await env.scalar(select(func.count()).select_from(OrderRow).where(OrderRow.source == "renewal")) == 3
    finally:
        await env.engine.dispose()


async def test_overdue_and_unpaid_orders_on_postgres_each_step_once(migrated_database):
    env = await _env(migrated_database)
    try:
        _, hosting = await env.bought("acme", date(2026, 2, 28))  # due 28 March
        _, ssl = await env.bought("acme", date(2026, 3, 1), parent=hosting)
        unpaid, _ = await env.bought("acme", date(2026, 3, 1), pay=False)
        await env.renewals.run(date(2026, 3, 14))
        [renewal] = await env.orders()

        env.clock._at = at(date(2026, 3, 29))
        assert (await env.overdue.run(date(2026, 3, 29)))["reminded"] == [str(hosting.id)]
        env.clock._at = at(date(2026, 3, 30))
        assert (await env.overdue.run(date(2026, 3, 30)))["reminded"] == []  # once per service and order
        assert await env.scalar(select(func.count()).select_from(ServiceReminderRow)) == 1
        env.clock._at = at(date(2026, 4, 4))
        assert (await env.overdue.run(date(2026, 4, 4)))["suspended"] == [str(hosting.id)]
        assert [await env.status(s) for s in (hosting, ssl)] == [("suspended", "overdue")] * 2
        env.clock._at = at(date(2026, 4, 27))
        done = await env.overdue.run(date(2026, 4, 27))
        assert (done["terminated"], done["orders_cancelled"]) == ([str(hosting.id)], [str(renewal.id)])
        assert [await env.status(s) for s in (hosting, ssl)] == [("terminated", None)] * 2
        assert [(o.status, o.cancel_reason) for o in await env.orders()] == [("cancelled", "terminated")]
        assert await env.renewed() == sorted([(hosting.id, date(2026, 3, 28)), (ssl.id, date(2026, 3, 28))])
        assert (await env.overdue.run(date(2026, 4, 28)))["orders_unpaid"] == 0

        env.clock._at = at(date(2026, 3, 15))
        done = await env.unpaid.run(date(2026, 3, 15))  # placed 1 March: 14 days
        assert done["orders_cancelled"] == [str(unpaid.id)]
        assert [(o.status, o.cancel_reason) for o in await env.orders("cart") if o.id == unpaid.id] == [
            ("cancelled", "unpaid")
        ]
        assert (await env.unpaid.run(date(2026, 3, 16)))["orders_cancelled"] == []
        events = await env.outbox()
        assert events.count("OrderCancelled") == 2  # the terminated renewal and the unpaid cart order
        assert [events.count(t) for t in ("ServiceOverdue", "ServiceSuspended", "ServiceTerminated")] == [1, 1, 1]
    finally:
        await env.engine.dispose()


# -- two at once -------------------------------------------------------------------------------
async def test_two_orders_services_running_the_renewal_job_at_once_make_one_order(new_database, kafka):
    url = await new_database("orders")
    clock = FrozenClock(at(date(2026, 1, 18)))
    async with (
        running_service(definition(), database_url=url, kafka=kafka, clock=clock, consume=False, relay=False) as (
            _,
            one,
        ),
        running_service(definition(), database_url=url, kafka=kafka, clock=clock, consume=False, relay=False) as (
            _,
            two,
        ),
    ):
        env = Env(url)
        try:
            _, hosting = await env.bought("acme", date(2026, 1, 1))
            await env.bought("acme", date(2026, 1, 10), parent=hosting)
            await env.bought("other", date(2026, 1, 2))  # due 2 February: ordered the day after
            run = "/v1/admin/jobs/renewals/run"
            answers = await asyncio.gather(
                *(http.post(run, json={"as_of": "2026-01-18"}, headers=ADMIN) for http in (one, two))
            )
            assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
            [ran] = [a.json() for a in answers if a.status_code == 200]
            assert ran["run_status"] == "ran" and ran["result"]["orders_placed"] == 1
            assert [(o.account_id, o.due_on) for o in await env.orders()] == [("acme", date(2026, 2, 1))]
            clock.advance(days=1)  # the day after, on either service: only what became due
            after = await two.post(run, json={"as_of": "2026-01-19"}, headers=ADMIN)
            assert after.status_code == 200 and after.json()["result"]["orders_placed"] == 1, after.text
            again = await one.post(run, json={"as_of": "2026-01-18"}, headers=ADMIN)
            assert again.status_code == 409 and "already ran" in again.json()["detail"]
            assert [(o.account_id, o.due_on) for o in await env.orders()] == [
                ("acme", date(2026, 2, 1)),
                ("other", date(2026, 2, 2)),
            ]
            assert len(await env.renewed()) == 3  # hosting and its add-on, and theirs
        finally:
            await env.engine.dispose()


async def test_two_processes_renewing_at_once_without_the_job_lock_make_one_order_each(migrated_database):
    """Both processes look for work before either orders anything, then meet on every account. A
    lock on `orders` held by the test until both are waiting makes them meet for sure: without the
    use case's guard (the account's services locked first), both would order the same periods."""
    env = await _env(migrated_database)
    url = env.engine.url.render_as_string(hide_password=False)
    accounts = [f"acct-{n}" for n in range(4)]
    procs = []
    try:
        for account in accounts:
            _, hosting = await env.bought(account, date(2026, 1, 1))
            await env.bought(account, date(2026, 1, 3), parent=hosting)
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                str(HERE / "client_jobs_process.py"),
                url,
                "2026-01-18",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            for _ in range(2)
        ]
        for proc in procs:
            line = await asyncio.wait_for(proc.stdout.readline(), 60)
            assert line.strip() == b"ready", (line, await proc.stderr.read())
        async with env.engine.connect() as holder:
            await holder.execute(text("LOCK TABLE orders IN EXCLUSIVE MODE"))  # reads pass, orders wait
            for proc in procs:
                proc.stdin.write(b"go\n")
                await proc.stdin.drain()
            waiting = text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            await eventually(lambda: _at_least(env.scalar(waiting), 2), what="two processes waiting on a lock")
            await holder.commit()
        answers = []
        for proc in procs:
            out, err = await asyncio.wait_for(proc.communicate(), 60)
            assert proc.returncode == 0, err.decode()
            answers.append(json.loads(out.decode().strip().splitlines()[-1]))
        assert all("error" not in a for a in answers), answers
        assert sum(a["orders_placed"] for a in answers) == len(accounts), answers
        assert [o.account_id for o in await env.orders()] == accounts
        assert len(await env.renewed()) == 2 * len(accounts)
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        await env.engine.dispose()


async def _at_least(count, n: int) -> bool:
    return (await count) >= n
