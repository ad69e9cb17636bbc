"""Helpers of the unit wallet's tests: in-memory wallets, packages and purchases beside billing's
fake invoices (`billing_testkit`), a use-case service on them, packages as catalog publishes them,
and the ledger checks every test makes (the balance is the sum of the ledger, seq has no gaps).
Leaving a fake unit of work without commit undoes what these fakes did too, as a rollback does."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from billing_testkit import FakeBillingUnitOfWork, FakeBillingUnitsOfWork

from billing.adapters.gateway import InMemorySandboxGateway
from billing.domain.instructions import Payee
from billing.domain.units import EntryKind, PurchaseSource, PurchaseStatus, UnitPackage, Wallet
from billing.service.invoicing import Invoicing
from billing.service.units import UnitWallets
from portal_contracts import Money
from portal_contracts.events.catalog import CatalogItemPublished, CyclePrice
from portal_runtime.auth import Principal
from portal_runtime.clock import FrozenClock
from portal_runtime.paging import Slice

PAYEE = Payee(name="Portal Services GmbH", iban="DE89370400440532013000", bic="COBADEFFXXX", paypal="p@portal.example")
UNITS_1000 = UnitPackage(
    uuid.UUID("00000000-0000-4000-8000-00000000a100"), "UNITS-1000", "1,000 units", 1000, Decimal("49.00"), "EUR", 1
)
UNITS_5000 = UnitPackage(
    uuid.UUID("00000000-0000-4000-8000-00000000a500"), "UNITS-5000", "5,000 units", 5000, Decimal("199.00"), "EUR", 1
)
UNITS_USD = UnitPackage(
    uuid.UUID("00000000-0000-4000-8000-00000000a600"),
    "UNITS-1000-USD",
    "1,000 units (USD)",
    1000,
    Decimal("55.00"),
    "USD",
    1,
)
CUSTOMER = Principal(user_id="alice", account_id="acme", role="customer")
ADMIN = Principal(user_id="ops", account_id="portal", role="admin")


class FakeWallets:
    def __init__(self, uow: FakeBillingUnitOfWork) -> None:
        self.uow = uow
        self.rows: dict[str, Wallet] = {}
        self.entries: list = []

    async def open(self, account_id, *, grant, low_balance_at, now):
        if account_id in self.rows:
            return await self.get(account_id, for_update=True)
        return self.uow.track(Wallet.open(account_id, grant=grant, low_balance_at=low_balance_at, now=now), self)

    async def get(self, account_id, *, for_update=False):
        found = self.rows.get(account_id)
        return None if found is None else self.uow.track(copy.deepcopy(found), self)

    async def save(self, wallet):
        self.entries.extend(wallet.new_entries)
        wallet.new_entries.clear()
        self.rows[wallet.account_id] = copy.deepcopy(wallet)

    def of(self, account_id):
        return [e for e in self.entries if e.account_id == account_id]

    async def entry_for_usage(self, account_id, usage_id):
        return next((e for e in self.of(account_id) if e.usage_id == usage_id), None)

    async def consumed_between(self, account_id, start, end):
        return -sum(e.units for e in self.of(account_id) if e.kind is EntryKind.CONSUMED and start <= e.at < end)

    async def ledger(self, account_id, *, kind, start, end, page):
        found = [
            e
            for e in reversed(self.of(account_id))
            if (kind is None or e.kind is kind) and (start is None or e.at >= start) and (end is None or e.at < end)
        ]
        return Slice(found[page.offset : page.offset + page.limit], len(found), page.limit, page.offset)


class FakeUnitPackages:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, UnitPackage] = {}

    async def get(self, item_id):
        return self.rows.get(item_id)

    async def many(self, item_ids):
        return {i: self.rows[i] for i in item_ids if i in self.rows}

    async def put(self, package):
        known = self.rows.get(package.item_id)
        if known is not None and known.revision >= package.revision:
            return False
        self.rows[package.item_id] = package
        return True

    async def retire(self, item_id, revision):
        known = self.rows.get(item_id)
        if known is None or known.revision > revision:
            return False
        self.rows[item_id] = UnitPackage(**{**known.__dict__, "retired": True, "revision": revision})
        return True


class FakeUnitPurchases:
    def __init__(self, uow: FakeBillingUnitOfWork) -> None:
        self.uow = uow
        self.rows: dict = {}

    async def get(self, purchase_id, *, for_update=False):
        found = self.rows.get(purchase_id)
        return None if found is None else self.uow.track(copy.deepcopy(found), self)

    def add(self, purchase):
        return self.uow.track(purchase, self)

    async def save(self, purchase):
        self.rows[purchase.purchase_id] = copy.deepcopy(purchase)

    async def page(self, *, account_id, source, status, page):
        found = sorted(
            (
                p
                for p in self.rows.values()
                if (account_id is None or p.account_id == account_id)
                and (source is None or p.source is source)
                and (status is None or p.status is status)
            ),
            key=lambda p: p.created_at,
            reverse=True,
        )
        return Slice(found[page.offset : page.offset + page.limit], len(found), page.limit, page.offset)

    async def pending_plan(self, account_id):
        return any(
            p.account_id == account_id and p.source is PurchaseSource.PLAN and p.status is PurchaseStatus.PENDING
            for p in self.rows.values()
        )

    async def next_pending_plan(self):
        pending = [p for p in self.rows.values() if p.source is PurchaseSource.PLAN and p.pending]
        return await self.get(min(pending, key=lambda p: p.created_at).purchase_id) if pending else None

    async def plan_spent(self, account_id, currency, start, end):
        return sum(
            (
                p.total
                for p in self.rows.values()
                if p.account_id == account_id
                and p.source is PurchaseSource.PLAN
                and p.status is PurchaseStatus.COMPLETED
                and p.currency == currency
                and start <= p.ended_at < end
            ),
            Decimal(0),
        )


class FakeUnitsUnitOfWork(FakeBillingUnitOfWork):
    def __init__(self) -> None:
        super().__init__()
        self.wallets = FakeWallets(self)
        self.unit_packages = FakeUnitPackages()
        self.unit_purchases = FakeUnitPurchases(self)

    def state(self) -> tuple:
        mine = (self.wallets.rows, self.wallets.entries, self.unit_packages.rows, self.unit_purchases.rows)
        return super().state(), copy.deepcopy(mine)

    def restore(self, state: tuple) -> None:
        theirs, mine = state
        super().restore(theirs)
        self.wallets.rows, self.wallets.entries, self.unit_packages.rows, self.unit_purchases.rows = mine


def units_service(*, grant: int = 2000, low_balance_at: int = 100, clock: FrozenClock | None = None, tz=UTC):
    """UnitWallets on the fakes, with the in-memory sandbox; packages UNITS-1000, UNITS-5000 and a
    USD one on sale."""
    uow = FakeUnitsUnitOfWork()
    for package in (UNITS_1000, UNITS_5000, UNITS_USD):
        uow.unit_packages.rows[package.item_id] = package
    clock = clock or FrozenClock(datetime(2026, 3, 20, 9, 0, tzinfo=UTC))
    units = FakeBillingUnitsOfWork(uow)
    service = UnitWallets(
        units,
        clock,
        InMemorySandboxGateway(clock),
        Invoicing(units, clock, PAYEE),
        tz=tz,
        initial_grant=grant,
        low_balance_at=low_balance_at,
    )
    return service, uow


def published(package: UnitPackage, *, kind: str = "unit_package", revision: int | None = None) -> CatalogItemPublished:
    """The CatalogItemPublished catalog sends for a package."""
    return CatalogItemPublished(
        item_id=package.item_id,
        sku=package.sku,
        name=package.name,
        price=Money(amount=package.price, currency=package.currency),
        billing="one_time",
        revision=revision or package.revision,
        published_at=datetime.now(UTC),
        kind=kind,
        prices=[CyclePrice(cycle="one_time", price=package.price)],
        units=package.units if kind == "unit_package" else None,
    )


def assert_ledger_whole(entries: list, balance: int) -> None:
    """The balance is the sum of the ledger, each entry's balance_after the running sum, and seq
    is 1, 2, ... without gaps."""
    entries = sorted(entries, key=lambda e: e.seq)
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    running = 0
    for e in entries:
        running += e.units
        assert e.balance_after == running
    assert running == balance
