"""The client area's jobs (renewals, overdue, unpaid-orders) as use cases on a fake unit of work
(no database, milliseconds): what each one stores and raises as of a date, and that running it
again as of the same date or a later one does nothing more. Their settings and Job definitions too."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
from client_area_fakes import FakeTerms

from orders.adapters.events import to_contract
from orders.adapters.repository import PeriodOrdered
from orders.domain.lines import LineKind, OrderLine
from orders.domain.orders import Order, Source, renewal_line
from orders.domain.orders import Status as OrderStatus
from orders.domain.overdue import OverdueSettings
from orders.domain.subscriptions import Status, Subscription, schedule_cancellation, suspend_service
from orders.jobs import client_jobs
from orders.service.overdue import OverdueService, UnpaidOrderService
from orders.service.renewals import RenewalService
from orders.settings import OrdersSettings
from portal_contracts.events import orders as contract
from portal_runtime.clock import FrozenClock
from portal_runtime.jobs import Daily
from portal_runtime.testing import FakeUnitOfWork, FakeUnitsOfWork

ACME, OTHER = "acme", "other"
T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def at(day: date) -> datetime:
    return datetime.combine(day, time(9, 0), tzinfo=UTC)


# -- an in-memory orders store, with the repository methods the jobs use ------------------------
class FakeOffers:
    def __init__(self) -> None:
        self.skus: dict[uuid.UUID, str] = {}

    async def many(self, item_ids):
        return {i: type("Offer", (), {"sku": self.skus[i], "tax_rate": None}) for i in item_ids if i in self.skus}


class FakeSubscriptions:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow
        self.rows: dict[uuid.UUID, Subscription] = {}
        self.reminders: set[tuple[uuid.UUID, date]] = set()

    def add(self, subscription):
        return self.uow.track(subscription, self)

    async def save(self, subscription):
        self.rows[subscription.id] = copy.deepcopy(subscription)

    async def of_account(self, account_id, *, for_update=False):
        found = [copy.deepcopy(s) for s in self.rows.values() if s.account_id == account_id]
        return {s.id: self.uow.track(s, self) for s in found}

    async def due(self, on_or_before, *, for_update=False):
        found = [s for s in self.rows.values() if s.live and s.next_due_on and s.next_due_on <= on_or_before]
        return [self.uow.track(copy.deepcopy(s), self) for s in found]

    async def reminded(self, subscription_ids):
        return {(s, d) for s, d in self.reminders if s in set(subscription_ids)}

    async def remember_reminder(self, subscription_id, due_on):
        self.reminders.add((subscription_id, due_on))


class FakeOrders:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow
        self.rows: dict[uuid.UUID, Order] = {}
        self.last_number = 0

    def add(self, order):
        return self.uow.track(order, self)

    async def save(self, order):
        claimed = {
            period
            for other in self.rows.values()
            if other.id != order.id and other.status != OrderStatus.CANCELLED
            for period in other.renewals
        }
        if order.status != OrderStatus.CANCELLED and order.renewals & claimed:  # uq_order_lines_renewal_claim
            raise PeriodOrdered()
        self.rows[order.id] = copy.deepcopy(order)

    async def get(self, order_id, *, for_update=False):
        found = self.rows.get(order_id)
        return self.uow.track(copy.deepcopy(found), self) if found else None

    async def ordered_periods(self, subscription_ids):
        ids = set(subscription_ids)
        return {p for o in self.rows.values() if o.status != OrderStatus.CANCELLED for p in o.renewals if p[0] in ids}

    async def next_number(self, year):
        self.last_number += 1
        return f"ORD-{year}-{self.last_number:06d}"

    async def placed(self, *, source=None, for_update=False):
        found = [o for o in self.rows.values() if o.status == OrderStatus.PLACED and source in (None, o.source)]
        return [self.uow.track(copy.deepcopy(o), self) for o in sorted(found, key=lambda o: (o.placed_at, o.id))]


class FakeOrdersUnitOfWork(FakeUnitOfWork):
    def __init__(self) -> None:
        super().__init__(to_contract)  # the contract events each job publishes, through the real mapping
        self.offers = FakeOffers()
        self.subscriptions = FakeSubscriptions(self)
        self.orders = FakeOrders(self)
        self.terms = FakeTerms()  # accounts' payment terms (renewal orders carry them)


class World:
    """The three jobs wired on one fake unit of work, and an account's services made directly."""

    def __init__(self) -> None:
        self.uow = FakeOrdersUnitOfWork()
        self.clock = FrozenClock(T0)
        units = FakeUnitsOfWork(self.uow)
        self.renewals = RenewalService(units, self.clock, days_before=14)
        self.overdue = OverdueService(units, self.clock, OverdueSettings(1, 7, 30))
        self.unpaid = UnpaidOrderService(units, self.clock, cancel_after_days=14)
        self.hosting, self.ssl = uuid.uuid4(), uuid.uuid4()
        self.uow.offers.skus = {self.hosting: "HOST-1", self.ssl: "SSL-1"}

    async def job(self, name: str, as_of: date) -> dict:
        """Run a job as of `as_of` at 09:00 that day (a job's clock is the service's)."""
        self.clock._at = at(as_of)
        self.uow.published.clear()
        service = {"renewals": self.renewals, "overdue": self.overdue, "unpaid-orders": self.unpaid}[name]
        return await service.run(as_of)

    async def service(
        self,
        paid_on: date,
        *,
        account: str = ACME,
        cycle: str = "monthly",
        price: str = "10.00",
        parent: Subscription | None = None,
        name: str | None = None,
        status: Status = Status.ACTIVE,
        order_id: uuid.UUID | None = None,
    ) -> Subscription:
        """A service bought through the cart and paid on `paid_on` (an add-on of `parent`), stored."""
        line = OrderLine(
            line_id=uuid.uuid4(),
            kind=LineKind.NEW if parent is None else LineKind.ADD_ON,
            item_id=self.hosting if parent is None else self.ssl,
            sku=None,
            name=name or ("Hosting" if parent is None else "SSL"),
            cycle=cycle,
            unit_price=Decimal(price),
            amount=Decimal(price),
            currency="EUR",
            subscription_id=uuid.uuid4(),
            period_start=paid_on,
            period_end=None,
            parent_subscription_id=parent.id if parent else None,
            domain="example.com" if parent is None else None,
        )
        made = Subscription.bought(account_id=account, order_id=order_id or uuid.uuid4(), line=line, by=account, now=T0)
        if status == Status.ACTIVE:
            if parent is None:
                made.activate(paid_on, by="billing", now=at(paid_on))
            else:
                made.attach_to(parent, paid_on, by="billing", now=at(paid_on))
        return await self.store(made)

    async def store(self, *aggregates):
        for aggregate in aggregates:
            aggregate.events.clear()
            await (self.uow.orders if isinstance(aggregate, Order) else self.uow.subscriptions).save(aggregate)
        return aggregates[0]

    def sub(self, subscription: Subscription) -> Subscription:
        return self.uow.subscriptions.rows[subscription.id]

    def orders(self, source: Source = Source.RENEWAL) -> list[Order]:
        return sorted((o for o in self.uow.orders.rows.values() if o.source == source), key=lambda o: o.number)

    def raised(self, kind: type) -> list:
        """The contract events of `kind` the last job published."""
        return [e for e in self.uow.published if isinstance(e, kind)]


def ref(service: Subscription, name: str) -> contract.AddOnRef:
    return contract.AddOnRef(subscription_id=service.id, name=name)


@pytest.fixture
def w() -> World:
    return World()


# -- renewals ----------------------------------------------------------------------------------
async def test_renewals_make_one_order_per_account_and_due_date_with_its_add_ons(w):
    hosting = await w.service(date(2026, 1, 1))
    ssl = await w.service(date(2026, 1, 10), parent=hosting, price="12.00")
    second = await w.service(date(2026, 1, 1), price="20.00", name="Mail")
    theirs = await w.service(date(2026, 1, 1), account=OTHER)
    later = await w.service(date(2026, 1, 5))  # due 5 Feb: not yet on 18 Jan

    done = await w.job("renewals", date(2026, 1, 18))  # 14 days before 1 February
    mine, other = sorted(w.orders(), key=lambda o: o.account_id)
    assert (mine.account_id, other.account_id) == (ACME, OTHER)
    assert [line.subscription_id for line in mine.lines] == [hosting.id, ssl.id, second.id]
    assert [line.subscription_id for line in other.lines] == [theirs.id]
    assert (mine.due_on, mine.placed_on, mine.status, mine.total) == (
        date(2026, 2, 1),
        date(2026, 1, 18),
        OrderStatus.PLACED,
        Decimal("42.00"),
    )
    assert {(line.kind, line.period_start, line.period_end) for line in mine.lines} == {
        (LineKind.RENEWAL, date(2026, 2, 1), date(2026, 3, 1))
    }
    assert [line.sku for line in mine.lines] == ["HOST-1", "SSL-1", "HOST-1"]  # the catalog copy's SKU
    assert later.id not in {line.subscription_id for o in w.orders() for line in o.lines}
    placed = w.raised(contract.OrderPlacedV2)
    assert sorted((e.account_id, e.source, e.due_on, e.total.amount) for e in placed) == [
        (ACME, "renewal", date(2026, 2, 1), Decimal("42.00")),
        (OTHER, "renewal", date(2026, 2, 1), Decimal("10.00")),
    ]
    assert done == {
        "as_of": "2026-01-18",
        "accounts": 2,
        "orders_placed": 2,
        "order_ids": [str(mine.id), str(other.id)],
        "services_renewing": 4,
        "services_ended": [],
    }
    assert len({o.number for o in w.orders()}) == 2


async def test_renewals_run_again_the_same_day_or_the_day_after_make_nothing_more(w):
    hosting = await w.service(date(2026, 1, 1))
    await w.service(date(2026, 1, 10), parent=hosting)
    first = await w.job("renewals", date(2026, 1, 18))
    assert first["orders_placed"] == 1
    for day in (date(2026, 1, 18), date(2026, 1, 19), date(2026, 1, 31), date(2026, 2, 1)):
        again = await w.job("renewals", day)
        assert (again["orders_placed"], again["order_ids"]) == (0, []), day
        assert w.uow.published == []
    assert len(w.orders()) == 1 and w.uow.orders.last_number == 1  # no order number taken for nothing


async def test_a_missed_day_is_caught_up_and_each_due_date_gets_its_own_order(w):
    early = await w.service(date(2026, 1, 1))  # due 1 Feb: its order was due on 18 Jan
    late = await w.service(date(2026, 1, 5))  # due 5 Feb
    done = await w.job("renewals", date(2026, 1, 25))  # the job did not run for a week
    assert done["orders_placed"] == 2
    assert [(o.due_on, [line.subscription_id for line in o.lines]) for o in w.orders()] == [
        (date(2026, 2, 1), [early.id]),
        (date(2026, 2, 5), [late.id]),
    ]
    overdue = await w.service(date(2025, 12, 1))  # due 1 Jan, never ordered: a past due date too
    await w.job("renewals", date(2026, 1, 25))
    assert [o.due_on for o in w.orders() if overdue.id in {line.subscription_id for line in o.lines}] == [
        date(2026, 1, 1)
    ]


async def test_the_renewal_charges_the_services_own_price_not_todays_catalog_price(w):
    hosting = await w.service(date(2026, 1, 31), price="9.90")  # due 28 Feb, bought at 9.90
    await w.job("renewals", date(2026, 2, 14))
    [order] = w.orders()
    [line] = order.lines
    assert (line.unit_price, line.amount, order.total) == (Decimal("9.90"), Decimal("9.90"), Decimal("9.90"))
    assert (line.period_start, line.period_end) == (date(2026, 2, 28), date(2026, 3, 31))  # the anchor kept
    assert line.subscription_id == hosting.id


async def test_a_period_renewed_early_through_the_cart_is_not_ordered_again(w):
    hosting = await w.service(date(2026, 1, 1))
    ssl = await w.service(date(2026, 1, 10), parent=hosting)
    h = w.sub(hosting)
    early = Order.place(
        account_id=ACME,
        number="ORD-2026-900000",
        source=Source.CART,
        lines=[renewal_line(h)],
        by=ACME,
        now=at(date(2026, 1, 12)),
        placed_on=date(2026, 1, 12),
    )
    await w.store(early)
    await w.job("renewals", date(2026, 1, 18))
    [order] = w.orders()
    assert [line.subscription_id for line in order.lines] == [ssl.id]  # only what the cart did not renew
    early.cancel("unpaid", by="unpaid-orders", now=at(date(2026, 1, 19)))
    await w.store(early)  # a cancelled order renews nothing: the period is ordered again
    again = await w.job("renewals", date(2026, 1, 20))
    assert again["services_renewing"] == 1
    assert [line.subscription_id for line in w.orders()[-1].lines] == [hosting.id]


async def test_an_add_on_bought_after_its_parents_renewal_order_gets_its_own_order(w):
    hosting = await w.service(date(2026, 1, 1))
    await w.job("renewals", date(2026, 1, 18))
    ssl = await w.service(date(2026, 1, 20), parent=hosting)  # prorated to 1 Feb, renews with it
    assert w.sub(ssl).next_due_on == date(2026, 2, 1)
    done = await w.job("renewals", date(2026, 1, 21))
    first, second = w.orders()
    assert [line.subscription_id for line in first.lines] == [hosting.id]  # orders never change once placed
    assert [line.subscription_id for line in second.lines] == [ssl.id] and second.due_on == date(2026, 2, 1)
    assert done["orders_placed"] == 1


async def test_no_renewal_for_one_time_suspended_or_cancelled_at_period_end_services(w):
    await w.service(date(2026, 1, 1), cycle="one_time", price="50.00")
    paused = await w.service(date(2026, 1, 1))
    leaving = await w.service(date(2026, 1, 1))
    p, leave = w.sub(paused), w.sub(leaving)
    suspend_service(p, [], reason="abuse", by="ops", now=T0)
    schedule_cancellation(leave, [], by=ACME, now=T0)
    await w.store(p, leave)
    done = await w.job("renewals", date(2026, 1, 18))
    assert (done["orders_placed"], w.orders()) == (0, [])


async def test_a_cancellation_at_period_end_ends_the_service_and_its_add_ons_on_the_due_date(w):
    hosting = await w.service(date(2026, 1, 31))  # due 28 Feb
    ssl = await w.service(date(2026, 2, 1), parent=hosting)
    annual = await w.service(date(2026, 2, 1), parent=hosting, cycle="annual", price="120.00", name="Backup")
    h = w.sub(hosting)
    schedule_cancellation(h, [w.sub(ssl)], by=ACME, now=T0)
    await w.store(h, *[w.sub(a) for a in (ssl, annual)])
    assert (await w.job("renewals", date(2026, 2, 27)))["services_ended"] == []
    assert w.sub(hosting).status == Status.ACTIVE

    done = await w.job("renewals", date(2026, 2, 28))
    assert done["services_ended"] == [str(hosting.id), str(ssl.id), str(annual.id)]
    assert [w.sub(s).status for s in (hosting, ssl, annual)] == [Status.CANCELLED] * 3
    [told] = w.raised(contract.ServiceCancelled)
    assert (told.subscription_id, told.reason, told.add_ons) == (
        hosting.id,
        "period_end",
        [ref(ssl, "SSL"), ref(annual, "Backup")],
    )
    assert w.sub(hosting).history[-1].note == "cancelled at the end of its period (2026-02-28)"
    assert w.orders() == []  # and no renewal order was ever made
    again = await w.job("renewals", date(2026, 3, 1))
    assert (again["services_ended"], w.uow.published) == ([], [])


# -- overdue -----------------------------------------------------------------------------------
async def _unpaid_renewal(w: World) -> tuple[Subscription, Subscription, Order]:
    """Hosting due 28 Mar with an SSL add-on, and their renewal order left unpaid."""
    hosting = await w.service(date(2026, 2, 28))
    ssl = await w.service(date(2026, 3, 1), parent=hosting)
    await w.job("renewals", date(2026, 3, 14))
    [order] = w.orders()
    return hosting, ssl, order


async def test_overdue_reminds_then_suspends_then_terminates_each_once(w):
    hosting, ssl, order = await _unpaid_renewal(w)
    nothing = {"reminded": [], "suspended": [], "terminated": [], "orders_cancelled": []}

    assert await w.job("overdue", date(2026, 3, 28)) == {"as_of": "2026-03-28", "orders_unpaid": 0, **nothing}
    done = await w.job("overdue", date(2026, 3, 29))
    assert done == {"as_of": "2026-03-29", "orders_unpaid": 1, **nothing, "reminded": [str(hosting.id)]}
    [reminder] = w.raised(contract.ServiceOverdue)
    assert (reminder.subscription_id, reminder.due_on, reminder.suspends_on, reminder.add_ons) == (
        hosting.id,
        date(2026, 3, 28),
        date(2026, 4, 4),
        [ref(ssl, "SSL")],
    )
    assert w.uow.subscriptions.reminders == {(hosting.id, date(2026, 3, 28))}
    for day in (date(2026, 3, 29), date(2026, 3, 30), date(2026, 4, 3)):  # once per service and order
        assert {k: v for k, v in (await w.job("overdue", day)).items() if k in nothing} == nothing
        assert w.uow.published == []

    done = await w.job("overdue", date(2026, 4, 4))
    assert done["suspended"] == [str(hosting.id)]
    assert [(w.sub(s).status, w.sub(s).suspend_reason) for s in (hosting, ssl)] == [(Status.SUSPENDED, "overdue")] * 2
    [suspended] = w.raised(contract.ServiceSuspended)
    assert (suspended.reason, suspended.add_ons) == ("overdue", [ref(ssl, "SSL")])
    assert (await w.job("overdue", date(2026, 4, 5)))["suspended"] == [] and w.uow.published == []

    done = await w.job("overdue", date(2026, 4, 27))  # 30 days after the due date
    assert (done["terminated"], done["orders_cancelled"]) == ([str(hosting.id)], [str(order.id)])
    assert [w.sub(s).status for s in (hosting, ssl)] == [Status.TERMINATED] * 2
    stored = w.uow.orders.rows[order.id]
    assert (stored.status, stored.cancel_reason) == (OrderStatus.CANCELLED, "terminated")
    [cancelled] = w.raised(contract.OrderCancelled)
    assert (cancelled.order_id, cancelled.reason) == (order.id, "terminated")  # billing voids the invoice
    [terminated] = w.raised(contract.ServiceTerminated)
    assert (terminated.subscription_id, terminated.reason, terminated.add_ons) == (
        hosting.id,
        "overdue",
        [ref(ssl, "SSL")],
    )
    again = await w.job("overdue", date(2026, 4, 28))
    assert (again["orders_unpaid"], w.uow.published) == (0, [])


async def test_overdue_run_late_takes_the_furthest_step_and_leaves_paid_orders_alone(w):
    hosting, _, order = await _unpaid_renewal(w)
    paid = await w.service(date(2026, 2, 28), account=OTHER)
    await w.job("renewals", date(2026, 3, 14))
    [theirs] = [o for o in w.orders() if o.account_id == OTHER]
    theirs.pay(by="billing", now=at(date(2026, 3, 20)))
    await w.store(theirs)
    done = await w.job("overdue", date(2026, 4, 10))  # no run since the due date: straight to suspension
    assert (done["orders_unpaid"], done["reminded"], done["suspended"]) == (1, [], [str(hosting.id)])
    assert w.sub(paid).status == Status.ACTIVE
    assert done["orders_cancelled"] == [] and w.uow.orders.rows[order.id].status == OrderStatus.PLACED


async def test_an_admins_suspension_is_not_reminded_nor_suspended_again_but_ends_in_its_time(w):
    hosting, ssl, order = await _unpaid_renewal(w)
    h, s = w.sub(hosting), w.sub(ssl)
    suspend_service(h, [s], reason="abuse", by="ops", now=T0)
    await w.store(h, s)
    for day in (date(2026, 3, 29), date(2026, 4, 4)):
        done = await w.job("overdue", day)
        assert (done["reminded"], done["suspended"], w.uow.published) == ([], [], [])
    assert (w.sub(hosting).status, w.sub(hosting).suspend_reason) == (Status.SUSPENDED, "abuse")
    done = await w.job("overdue", date(2026, 4, 27))
    assert done["terminated"] == [str(hosting.id)] and w.sub(hosting).status == Status.TERMINATED


async def test_an_order_renewing_two_services_is_cancelled_once_when_both_are_terminated(w):
    one = await w.service(date(2026, 1, 1))
    two = await w.service(date(2026, 1, 1), name="Mail")
    await w.job("renewals", date(2026, 1, 18))
    [order] = w.orders()
    done = await w.job("overdue", date(2026, 3, 5))  # 32 days late
    assert sorted(done["terminated"]) == sorted([str(one.id), str(two.id)])
    assert done["orders_cancelled"] == [str(order.id)]
    assert len(w.raised(contract.OrderCancelled)) == 1 and len(w.raised(contract.ServiceTerminated)) == 2


# -- unpaid cart orders --------------------------------------------------------------------------
async def _cart_order(w: World, placed_on: date) -> tuple[Order, Subscription]:
    """A cart order for a new service, placed on `placed_on` and unpaid, with its service pending."""
    order_id = uuid.uuid4()
    pending = await w.service(placed_on, status=Status.PENDING, order_id=order_id)
    line = OrderLine(
        line_id=uuid.uuid4(),
        kind=LineKind.NEW,
        item_id=w.hosting,
        sku="HOST-1",
        name="Hosting",
        cycle="monthly",
        unit_price=Decimal("10.00"),
        amount=Decimal("10.00"),
        currency="EUR",
        subscription_id=pending.id,
        period_start=placed_on,
        period_end=None,
    )
    order = Order.place(
        account_id=ACME,
        number=f"ORD-2026-{len(w.uow.orders.rows) + 800000}",
        source=Source.CART,
        lines=[line],
        by=ACME,
        now=at(placed_on),
        placed_on=placed_on,
        order_id=order_id,
    )
    return await w.store(order), pending


async def test_cart_orders_unpaid_for_the_setting_are_cancelled_with_their_pending_services(w):
    old, pending = await _cart_order(w, date(2026, 1, 1))
    recent, _ = await _cart_order(w, date(2026, 1, 2))
    paid, _ = await _cart_order(w, date(2026, 1, 1))
    paid.pay(by="billing", now=at(date(2026, 1, 3)))
    await w.store(paid)
    hosting = await w.service(date(2026, 1, 1))
    await w.job("renewals", date(2026, 1, 18))  # a renewal order: the overdue job's, not this one's

    assert (await w.job("unpaid-orders", date(2026, 1, 14)))["orders_cancelled"] == []
    done = await w.job("unpaid-orders", date(2026, 1, 15))  # 14 days after 1 January
    assert done == {
        "as_of": "2026-01-15",
        "orders_cancelled": [str(old.id)],
        "services_cancelled": [str(pending.id)],
    }
    stored = w.uow.orders.rows[old.id]
    assert (stored.status, stored.cancel_reason) == (OrderStatus.CANCELLED, "unpaid")
    assert w.sub(pending).status == Status.CANCELLED and w.sub(hosting).status == Status.ACTIVE
    [cancelled] = w.raised(contract.OrderCancelled)
    assert (cancelled.order_id, cancelled.reason) == (old.id, "unpaid")
    assert (await w.job("unpaid-orders", date(2026, 1, 15)))["orders_cancelled"] == []
    assert w.uow.published == []
    later = await w.job("unpaid-orders", date(2026, 2, 20))
    assert later["orders_cancelled"] == [str(recent.id)]  # the paid one and the renewal stay
    assert w.uow.orders.rows[paid.id].status == OrderStatus.PAID
    assert all(o.status == OrderStatus.PLACED for o in w.orders(Source.RENEWAL))


# -- settings and the Job definitions --------------------------------------------------------------
def test_the_settings_read_the_documented_environment_variables(monkeypatch):
    defaults = OrdersSettings()
    assert (
        defaults.renewal_days_before,
        defaults.renewal_window_days,
        defaults.overdue(),
        defaults.unpaid_order_cancel_days,
    ) == (14, 30, OverdueSettings(1, 7, 30), 14)
    for name, value in {
        "RENEWAL_DAYS_BEFORE": "10",
        "RENEWAL_WINDOW_DAYS": "20",
        "OVERDUE_REMINDER_DAYS": "2",
        "OVERDUE_SUSPEND_AFTER_DAYS": "5",
        "OVERDUE_TERMINATE_AFTER_DAYS": "9",
        "UNPAID_ORDER_CANCEL_DAYS": "3",
        "RENEWALS_AT": "04:15",
    }.items():
        monkeypatch.setenv(name, value)
    read = OrdersSettings()
    assert (read.renewal_days_before, read.renewal_window_days, read.unpaid_order_cancel_days) == (10, 20, 3)
    assert read.overdue() == OverdueSettings(2, 5, 9) and read.renewals_at == time(4, 15)
    monkeypatch.setenv("OVERDUE_SUSPEND_AFTER_DAYS", "60")  # after the termination
    with pytest.raises(ValueError, match="terminate_after_days"):
        OrdersSettings()


def test_the_three_jobs_are_daily_at_their_settings_times():
    class Runtime:
        uow, clock = FakeUnitsOfWork(FakeOrdersUnitOfWork()), FrozenClock(T0)

    settings = OrdersSettings(renewal_days_before=10, overdue_at=time(5, 0))
    made = [make(Runtime()) for make in client_jobs(settings)]
    assert [(j.name, j.schedule) for j in made] == [
        ("renewals", Daily(time(1, 0))),
        ("overdue", Daily(time(5, 0))),
        ("unpaid-orders", Daily(time(2, 0))),
    ]
    assert "10 days before" in made[0].description
    assert made[0].run.__self__.days_before == 10
