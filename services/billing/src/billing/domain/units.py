"""Prepaid units: every account's wallet with its ledger, the unit packages billing sells (its copy
of catalog's items of kind `unit_package`) and the purchases of them (by hand or by the automatic
plan).

The ledger is the truth: every movement (granted, purchased, consumed, adjusted) is an entry with
the balance right after it, numbered 1, 2, ... per account, and the wallet's `balance` is always
the sum of its entries. A wallet is changed only with its row locked, so the entries of one
account are made one after the other. Usage is always recorded, since it already happened: the
balance may go below zero. A debit that crosses the wallet's low level (or zero) from above tells
it once: the next one is told only after the balance has been above that level again.

A purchase credits nothing until its charge is approved: `complete` takes the `purchased` entry
the wallet made in the transaction that records the charge; a declined one ends `failed`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from billing.domain.events import (
    UnitsBalanceDepleted,
    UnitsBalanceLow,
    UnitsCredited,
    UnitsPurchased,
    UnitsPurchaseFailed,
)
from billing.domain.invoices import BillTo
from portal_runtime.errors import Conflict, InvalidInput
from portal_runtime.kernel import cents

MAX_QUANTITY = 100  # packages of one kind in one purchase
MAX_LOW_BALANCE_AT = 1_000_000_000


class EntryKind(StrEnum):
    GRANTED = "granted"
    PURCHASED = "purchased"
    CONSUMED = "consumed"
    ADJUSTED = "adjusted"


class PurchaseSource(StrEnum):
    MANUAL = "manual"
    PLAN = "plan"


class PurchaseStatus(StrEnum):
    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True)
class LedgerEntry:
    """One movement of a wallet: `units` signed (consumed ones negative), `balance_after` the
    balance right after it. The optional members say what it came from: a usage report (`usage_id`,
    `used_on`), a purchase (`purchase_id`, `source`, `invoice_id`), an admin (`note`, `by`)."""

    entry_id: uuid.UUID
    account_id: str
    seq: int
    kind: EntryKind
    units: int
    balance_after: int
    at: datetime
    usage_id: str | None = None
    used_on: date | None = None
    purchase_id: uuid.UUID | None = None
    source: PurchaseSource | None = None
    invoice_id: uuid.UUID | None = None
    note: str | None = None
    by: str | None = None

    def same_usage(self, units: int, used_on: date) -> bool:
        """Is a report of this entry's usage id with these figures the one this entry recorded?"""
        return self.kind is EntryKind.CONSUMED and -self.units == units and self.used_on == used_on


@dataclass
class Wallet:
    """An account's units. `new_entries` are the entries made since it was loaded (inserted on
    save); `last_seq` the number of the last entry stored or made."""

    account_id: str
    balance: int
    low_balance_at: int
    last_seq: int
    opened_at: datetime
    new_entries: list[LedgerEntry] = field(default_factory=list)
    events: list[UnitsCredited | UnitsBalanceLow | UnitsBalanceDepleted] = field(default_factory=list, repr=False)

    @classmethod
    def open(cls, account_id: str, *, grant: int, low_balance_at: int, now: datetime) -> Wallet:
        """A new wallet, with the initial grant as its first entry when `grant` > 0 (no invoice)."""
        if not account_id:
            raise InvalidInput("a wallet needs an account", field="account_id")
        if grant < 0:
            raise ValueError("an initial grant is not negative")
        wallet = cls(account_id=account_id, balance=0, low_balance_at=low_balance_at, last_seq=0, opened_at=now)
        if grant:
            wallet.credit(EntryKind.GRANTED, grant, now=now)
        return wallet

    # -- movements -------------------------------------------------------------------------------
    def credit(
        self,
        kind: EntryKind,
        units: int,
        *,
        now: datetime,
        purchase_id: uuid.UUID | None = None,
        source: PurchaseSource | None = None,
        invoice_id: uuid.UUID | None = None,
        note: str | None = None,
        by: str | None = None,
    ) -> LedgerEntry:
        """Add units (granted, purchased, adjusted upwards): UnitsCredited."""
        if units < 1:
            raise InvalidInput("a credit adds at least one unit", field="units")
        if kind not in (EntryKind.GRANTED, EntryKind.PURCHASED, EntryKind.ADJUSTED):
            raise ValueError(f"{kind} is not a credit")
        entry = self._move(
            kind, units, now=now, purchase_id=purchase_id, source=source, invoice_id=invoice_id, note=note, by=by
        )
        self.events.append(UnitsCredited(entry))
        return entry

    def debit(
        self,
        kind: EntryKind,
        units: int,
        *,
        now: datetime,
        usage_id: str | None = None,
        used_on: date | None = None,
        note: str | None = None,
        by: str | None = None,
    ) -> LedgerEntry:
        """Take `units` (> 0) away (consumed, adjusted downwards), below zero if need be; tells a
        crossing of the low level and of zero from above (UnitsBalanceLow, UnitsBalanceDepleted)."""
        if units < 1:
            raise InvalidInput("a debit takes at least one unit", field="units")
        if kind not in (EntryKind.CONSUMED, EntryKind.ADJUSTED):
            raise ValueError(f"{kind} is not a debit")
        before = self.balance
        entry = self._move(kind, -units, now=now, usage_id=usage_id, used_on=used_on, note=note, by=by)
        if before > self.low_balance_at >= self.balance:
            self.events.append(UnitsBalanceLow(self.account_id, self.balance, self.low_balance_at, now))
        if before > 0 >= self.balance:
            self.events.append(UnitsBalanceDepleted(self.account_id, self.balance, now))
        return entry

    def consume(self, *, usage_id: str, units: int, used_on: date, now: datetime) -> LedgerEntry:
        """A usage report: one `consumed` entry (the caller has checked the usage id is new)."""
        if not usage_id.strip() or len(usage_id) > 200:
            raise InvalidInput("a usage id has 1 to 200 characters", field="usage_id")
        return self.debit(EntryKind.CONSUMED, units, now=now, usage_id=usage_id, used_on=used_on)

    def adjust(self, units: int, *, note: str, by: str, now: datetime) -> LedgerEntry:
        """An admin's correction, up or down (never zero), with why."""
        if units == 0:
            raise InvalidInput("an adjustment changes the balance: units must not be 0", field="units")
        if not note.strip():
            raise InvalidInput("an adjustment says why", field="note")
        if units > 0:
            return self.credit(EntryKind.ADJUSTED, units, now=now, note=note, by=by)
        return self.debit(EntryKind.ADJUSTED, -units, now=now, note=note, by=by)

    def set_low_balance_at(self, level: int) -> None:
        """The level at or below which the balance is low (0: only depletion is told)."""
        if not 0 <= level <= MAX_LOW_BALANCE_AT:
            raise InvalidInput(f"low_balance_at is 0 to {MAX_LOW_BALANCE_AT}", field="low_balance_at")
        self.low_balance_at = level

    def _move(self, kind: EntryKind, units: int, *, now: datetime, **what: object) -> LedgerEntry:
        self.last_seq += 1
        self.balance += units
        entry = LedgerEntry(
            entry_id=uuid.uuid4(),
            account_id=self.account_id,
            seq=self.last_seq,
            kind=kind,
            units=units,
            balance_after=self.balance,
            at=now,
            **what,
        )
        self.new_entries.append(entry)
        return entry


# -- packages and purchases ----------------------------------------------------------------------


@dataclass(frozen=True)
class UnitPackage:
    """Billing's copy of a catalog item of kind unit_package: `price` is its one-time price.
    `revision` is the catalog's: an older telling never overwrites a newer one."""

    item_id: uuid.UUID
    sku: str
    name: str
    units: int
    price: Decimal
    currency: str
    revision: int
    retired: bool = False


def units_text(units: int) -> str:
    """`1,000 units`."""
    return f"{units:,} unit" if units == 1 else f"{units:,} units"


@dataclass(frozen=True)
class PurchaseLine:
    """`quantity` packages of `units` units each, priced by the server: amount = price × quantity."""

    item_id: uuid.UUID
    sku: str
    name: str
    units: int
    quantity: int
    unit_price: Decimal
    amount: Decimal

    @classmethod
    def of(cls, package: UnitPackage, quantity: int) -> PurchaseLine:
        return cls(
            item_id=package.item_id,
            sku=package.sku,
            name=package.name,
            units=package.units,
            quantity=quantity,
            unit_price=package.price,
            amount=cents(package.price * quantity),
        )

    @property
    def total_units(self) -> int:
        return self.units * self.quantity

    @property
    def description(self) -> str:
        """How the invoice's line reads: `1,000 units (UNITS-1000)`."""
        return f"{units_text(self.units)} ({self.sku})"


@dataclass(frozen=True)
class Priced:
    """A cart of packages priced (a preview, or what a purchase will charge)."""

    lines: tuple[PurchaseLine, ...]
    currency: str

    @property
    def units(self) -> int:
        return sum(line.total_units for line in self.lines)

    @property
    def total(self) -> Decimal:
        return cents(sum((line.amount for line in self.lines), Decimal(0)))


def price(wanted: list[tuple[uuid.UUID, int]], packages: dict[uuid.UUID, UnitPackage]) -> Priced:
    """Price a cart of (item id, quantity) from billing's copy of the packages: every item a
    package on sale, every quantity 1 to MAX_QUANTITY, one currency for all lines. Refusals name
    the field (`lines`, `lines[i].item_id`, `lines[i].quantity`)."""
    if not wanted:
        raise InvalidInput("a purchase needs at least one line", field="lines")
    lines = []
    for i, (item_id, quantity) in enumerate(wanted):
        package = packages.get(item_id)
        if package is None:
            raise InvalidInput(f"{item_id} is not a unit package on sale", field=f"lines[{i}].item_id")
        if package.retired:
            raise InvalidInput(f"{package.sku} is no longer sold", field=f"lines[{i}].item_id")
        if not 1 <= quantity <= MAX_QUANTITY:
            raise InvalidInput(f"quantity is 1 to {MAX_QUANTITY}", field=f"lines[{i}].quantity")
        lines.append(PurchaseLine.of(package, quantity))
    currencies = sorted({package.currency for package in (packages[item_id] for item_id, _ in wanted)})
    if len(currencies) > 1:
        raise InvalidInput(f"all lines of a purchase are in one currency, not {', '.join(currencies)}", field="lines")
    return Priced(tuple(lines), currencies[0])


@dataclass
class UnitPurchase:
    """One purchase of packages, by hand (`manual`) or by the automatic plan (`plan`, with the
    plan's `attempt` number and its invoice's `bill_to`): pending from its claim until the charge
    is recorded, then completed (its units credited) or failed (nothing credited; `reason`).
    `by` is who started it, as history rows name actors."""

    purchase_id: uuid.UUID
    account_id: str
    source: PurchaseSource
    lines: tuple[PurchaseLine, ...]
    currency: str
    created_at: datetime
    by: str
    status: PurchaseStatus = PurchaseStatus.PENDING
    reason: str | None = None
    invoice_id: uuid.UUID | None = None
    invoice_number: str | None = None
    card_brand: str | None = None
    card_last4: str | None = None
    ended_at: datetime | None = None
    attempt: int | None = None
    bill_to: BillTo | None = None
    entry_id: uuid.UUID | None = None  # the `purchased` entry, once completed
    balance_after: int | None = None  # the wallet's balance right after that entry
    events: list[UnitsPurchased | UnitsPurchaseFailed] = field(default_factory=list, repr=False)

    @classmethod
    def start(
        cls,
        *,
        account_id: str,
        source: PurchaseSource,
        priced: Priced,
        by: str,
        now: datetime,
        attempt: int | None = None,
        bill_to: BillTo | None = None,
        purchase_id: uuid.UUID | None = None,
    ) -> UnitPurchase:
        if not priced.lines:
            raise InvalidInput("a purchase needs at least one line", field="lines")
        return cls(
            purchase_id=purchase_id or uuid.uuid4(),
            account_id=account_id,
            source=PurchaseSource(source),
            lines=tuple(priced.lines),
            currency=priced.currency,
            created_at=now,
            by=by,
            attempt=attempt,
            bill_to=bill_to,
        )

    @property
    def units(self) -> int:
        return sum(line.total_units for line in self.lines)

    @property
    def total(self) -> Decimal:
        return cents(sum((line.amount for line in self.lines), Decimal(0)))

    @property
    def pending(self) -> bool:
        return self.status is PurchaseStatus.PENDING

    def invoiced(self, *, invoice_id: uuid.UUID, number: str) -> None:
        """Its one invoice (issued in the claim's transaction)."""
        self.invoice_id = invoice_id
        self.invoice_number = number

    def complete(self, entry: LedgerEntry, *, card_brand: str | None, card_last4: str | None, now: datetime) -> None:
        """The charge was approved and `entry` (kind purchased) credited its units: UnitsPurchased."""
        self._end(now)
        if entry.kind is not EntryKind.PURCHASED or entry.units != self.units or entry.purchase_id != self.purchase_id:
            raise ValueError("a purchase is completed by its own `purchased` entry")
        self.status = PurchaseStatus.COMPLETED
        self.card_brand, self.card_last4 = card_brand, card_last4
        self.entry_id, self.balance_after = entry.entry_id, entry.balance_after
        self.events.append(UnitsPurchased(self.snapshot(), entry.balance_after))

    def fail(self, reason: str, *, card_brand: str | None, card_last4: str | None, now: datetime) -> None:
        """The charge was declined: nothing is credited. A manual purchase tells UnitsPurchaseFailed
        (the plan's decline is told by the plan, with its backoff)."""
        self._end(now)
        self.status = PurchaseStatus.FAILED
        self.reason = reason
        self.card_brand, self.card_last4 = card_brand, card_last4
        if self.source is PurchaseSource.MANUAL:
            self.events.append(UnitsPurchaseFailed(self.snapshot()))

    def snapshot(self) -> UnitPurchase:
        """A copy as it stands now, for an event (lines are immutable)."""
        return replace(self, events=[])

    def _end(self, now: datetime) -> None:
        if not self.pending:
            raise Conflict(f"purchase {self.purchase_id} is {self.status} already", current_status=str(self.status))
        if self.invoice_id is None:
            raise ValueError("a purchase is charged for its invoice: issue it first")
        self.ended_at = now
