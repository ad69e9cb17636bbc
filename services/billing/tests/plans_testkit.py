"""Helpers of the automatic plan's tests: in-memory plans beside the unit wallet's fakes
(`units_testkit`), the plan's use cases and charger wired as bootstrap wires them (on the fakes,
or on PostgreSQL with the sandbox in the database), and the plan terms the tests use."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from billing_testkit import FakeBillingUnitsOfWork
from units_testkit import PAYEE, UNITS_1000, UNITS_5000, UNITS_USD, FakeUnitsUnitOfWork

from billing.adapters.events import to_contract
from billing.adapters.gateway import InMemorySandboxGateway, PaymentGateway, SandboxGateway
from billing.adapters.repository import BillingUnitOfWork
from billing.domain.cards import Card
from billing.domain.plans import BillingAddress, BillingContact, PlanStatus, PlanTerms, RetryPolicy
from billing.service.invoicing import Invoicing
from billing.service.top_ups import Charger, TopUps
from billing.service.units import UnitWallets
from portal_runtime.clock import FrozenClock
from portal_runtime.db import make_sessionmaker
from portal_runtime.outbox import Outbox
from portal_runtime.uow import UnitsOfWork

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
POLICY = RetryPolicy(retry_after=timedelta(hours=1), max_declines=3)
ADDRESS = {"company": "Acme GmbH", "line1": "Main St 1", "postal_code": "10115", "city": "Berlin", "country": "DE"}
CONTACT = {"name": "Bea Billing", "email": "bea@acme.example"}


def card(number: str = "4242424242424242") -> Card:
    return Card.parse(number=number, expiry_month=12, expiry_year=2030, cvc="123", today=NOW.date())


def terms(**changes: Any) -> PlanTerms:
    return PlanTerms(
        package_item_id=changes.pop("package_item_id", UNITS_1000.item_id),
        billing_address=BillingAddress(**ADDRESS),
        billing_contact=BillingContact(**CONTACT),
        **changes,
    )


class FakePlans:
    def __init__(self, uow: FakeUnitsUnitOfWork) -> None:
        self.uow = uow
        self.rows: dict = {}
        self.history: list = []  # (account, transition) as stored

    async def get(self, account_id, *, for_update=False):
        found = self.rows.get(account_id)
        return None if found is None else self.uow.track(copy.deepcopy(found), self)

    def add(self, plan):
        return self.uow.track(plan, self)

    async def save(self, plan):
        self.history.extend((plan.account_id, step) for step in plan.history)
        plan.history.clear()
        self.rows[plan.account_id] = copy.deepcopy(plan)

    async def card(self, account_id):
        found = self.rows.get(account_id)
        return None if found is None else found.card

    async def due(self):
        return sorted(
            account
            for account, plan in self.rows.items()
            if plan.status is PlanStatus.ACTIVE
            and account in self.uow.wallets.rows
            and self.uow.wallets.rows[account].balance <= plan.threshold
        )


class FakePlansUnitOfWork(FakeUnitsUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.plans = FakePlans(self)

    def state(self) -> tuple:
        return super().state(), copy.deepcopy((self.plans.rows, self.plans.history))

    def restore(self, state: tuple) -> None:
        theirs, (self.plans.rows, self.plans.history) = state
        super().restore(theirs)


@dataclass
class Stack:
    """The plan's use cases and charger, the wallets they hook into, and what they run on."""

    top_ups: TopUps
    charger: Charger
    units: UnitWallets
    gateway: Any
    clock: FrozenClock
    uow: Any = None  # the fake unit of work (its repositories' rows and `published` events)


def wire(
    uows: Any, clock: FrozenClock, gateway: PaymentGateway, *, grant: int = 0, tz=UTC, policy: RetryPolicy = POLICY
) -> Stack:
    """As bootstrap wires them: the plan's decision as the wallets' `after_balance_change`."""
    units = UnitWallets(
        uows, clock, gateway, Invoicing(uows, clock, PAYEE), tz=tz, initial_grant=grant, low_balance_at=100
    )
    top_ups = TopUps(uows, clock, gateway, units, tz=tz, policy=policy)
    units.after_balance_change = top_ups.after_balance_change
    units.plan_of = top_ups.plan_of
    return Stack(top_ups, Charger(uows, clock, gateway, top_ups), units, gateway, clock)


def fake_stack(*, grant: int = 0, now: datetime = NOW, policy: RetryPolicy = POLICY) -> Stack:
    """On the fakes with the in-memory sandbox; packages UNITS-1000, UNITS-5000 and a USD one."""
    uow = FakePlansUnitOfWork()
    for package in (UNITS_1000, UNITS_5000, UNITS_USD):
        uow.unit_packages.rows[package.item_id] = package
    clock = FrozenClock(now)
    stack = wire(FakeBillingUnitsOfWork(uow), clock, InMemorySandboxGateway(clock), grant=grant, policy=policy)
    stack.uow = uow
    return stack


def db_stack(engine, clock: FrozenClock, *, grant: int = 0, policy: RetryPolicy = POLICY) -> Stack:
    """On billing's database (one engine: one process's sessions) with the sandbox in it."""
    sessions = make_sessionmaker(engine)
    uows = UnitsOfWork(sessions, Outbox("billing", clock), to_contract, BillingUnitOfWork)
    return wire(uows, clock, SandboxGateway(sessions, clock), grant=grant, policy=policy)
