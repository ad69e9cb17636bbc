"""Loading and storing wallets (with their ledger), unit packages and unit purchases inside a
unit of work (`BillingUnitOfWork.wallets`, `.unit_packages`, `.unit_purchases`).

A wallet is opened by `INSERT ... ON CONFLICT DO NOTHING` and then read FOR UPDATE: two
transactions opening one account's wallet at once insert it once (the second waits for the
first's insert and finds the row), and only the inserting one makes the initial grant. Saving a
locked wallet writes its row and inserts the entries it made; `(account_id, seq)` is unique, so
two changes of one wallet that did not hold its lock cannot both commit."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert

from billing.adapters.units_tables import UnitLedgerRow, UnitPackageRow, UnitPurchaseRow, UnitWalletRow
from billing.domain.invoices import BillTo
from billing.domain.units import (
    EntryKind,
    LedgerEntry,
    PurchaseLine,
    PurchaseSource,
    PurchaseStatus,
    UnitPackage,
    UnitPurchase,
    Wallet,
)
from portal_runtime.paging import PageRequest, Slice, fetch_page
from portal_runtime.uow import SqlRepository, UnitOfWork

_ENTRY_FIELDS = (
    "entry_id",
    "account_id",
    "seq",
    "units",
    "balance_after",
    "at",
    "usage_id",
    "used_on",
    "purchase_id",
    "invoice_id",
    "note",
    "by",
)


def entry_of(row: UnitLedgerRow) -> LedgerEntry:
    return LedgerEntry(
        **{f: getattr(row, f) for f in _ENTRY_FIELDS},
        kind=EntryKind(row.kind),
        source=PurchaseSource(row.source) if row.source else None,
    )


class WalletRepository(SqlRepository):
    """Wallets and their ledger. `open` and `get(..., for_update=True)` hand out the wallet locked;
    `save` writes a wallet's row only when it changed (reading one writes nothing)."""

    def __init__(self, uow: UnitOfWork) -> None:
        super().__init__(uow)
        self._stored: dict[str, tuple[int, int, int]] = {}  # balance, low level, last seq as loaded

    async def open(self, account_id: str, *, grant: int, low_balance_at: int, now: datetime) -> Wallet:
        """The account's wallet, locked; made (with the initial grant) by the transaction that inserts it."""
        fresh = Wallet.open(account_id, grant=grant, low_balance_at=low_balance_at, now=now)
        inserted = await self.session.scalar(
            insert(UnitWalletRow)
            .values(
                account_id=account_id,
                balance=0,
                low_balance_at=low_balance_at,
                last_seq=0,
                opened_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["account_id"])
            .returning(UnitWalletRow.account_id)
        )
        if inserted is not None:
            self._stored[account_id] = (0, low_balance_at, 0)
            return self.uow.track(fresh, self)  # the grant's entry and event are saved on commit
        return await self.get(account_id, for_update=True)

    async def get(self, account_id: str, *, for_update: bool = False) -> Wallet | None:
        row = await self.one(select(UnitWalletRow).where(UnitWalletRow.account_id == account_id), for_update=for_update)
        if row is None:
            return None
        wallet = Wallet(
            account_id=row.account_id,
            balance=row.balance,
            low_balance_at=row.low_balance_at,
            last_seq=row.last_seq,
            opened_at=row.opened_at,
        )
        self._stored[account_id] = _state(wallet)
        return self.uow.track(wallet, self)

    async def save(self, wallet: Wallet) -> None:
        if self._stored.get(wallet.account_id) == _state(wallet) and not wallet.new_entries:
            return
        self._stored[wallet.account_id] = _state(wallet)
        await self.session.execute(
            update(UnitWalletRow)
            .where(UnitWalletRow.account_id == wallet.account_id)
            .values(
                balance=wallet.balance,
                low_balance_at=wallet.low_balance_at,
                last_seq=wallet.last_seq,
                updated_at=self.uow.now,
            )
        )
        for entry in wallet.new_entries:
            self.session.add(
                UnitLedgerRow(
                    **{f: getattr(entry, f) for f in _ENTRY_FIELDS},
                    kind=entry.kind.value,
                    source=entry.source.value if entry.source else None,
                )
            )
        wallet.new_entries.clear()  # stored: saved again (a second commit) they would be rows twice

    # -- the ledger ------------------------------------------------------------------------------
    async def entry_for_usage(self, account_id: str, usage_id: str) -> LedgerEntry | None:
        row = await self.session.scalar(
            select(UnitLedgerRow).where(UnitLedgerRow.account_id == account_id, UnitLedgerRow.usage_id == usage_id)
        )
        return None if row is None else entry_of(row)

    async def consumed_between(self, account_id: str, start: datetime, end: datetime) -> int:
        """Units consumed (a positive number) by entries made in [start, end)."""
        total = await self.session.scalar(
            select(func.coalesce(func.sum(UnitLedgerRow.units), 0)).where(
                UnitLedgerRow.account_id == account_id,
                UnitLedgerRow.kind == EntryKind.CONSUMED.value,
                UnitLedgerRow.at >= start,
                UnitLedgerRow.at < end,
            )
        )
        return -int(total)

    async def ledger(
        self,
        account_id: str,
        *,
        kind: EntryKind | None,
        start: datetime | None,
        end: datetime | None,
        page: PageRequest,
    ) -> Slice[LedgerEntry]:
        """Newest first; of one kind, made in [start, end) when given."""
        stmt = select(UnitLedgerRow).where(UnitLedgerRow.account_id == account_id).order_by(UnitLedgerRow.seq.desc())
        if kind is not None:
            stmt = stmt.where(UnitLedgerRow.kind == kind.value)
        if start is not None:
            stmt = stmt.where(UnitLedgerRow.at >= start)
        if end is not None:
            stmt = stmt.where(UnitLedgerRow.at < end)
        rows, total = await fetch_page(self.session, stmt, page)
        return Slice([entry_of(r) for r in rows], total, page.limit, page.offset)


def _state(wallet: Wallet) -> tuple[int, int, int]:
    return wallet.balance, wallet.low_balance_at, wallet.last_seq


class UnitPackageRepository(SqlRepository):
    """Billing's copy of catalog's unit packages."""

    async def get(self, item_id: uuid.UUID) -> UnitPackage | None:
        row = await self.session.get(UnitPackageRow, item_id)
        return None if row is None else _package(row)

    async def many(self, item_ids: list[uuid.UUID]) -> dict[uuid.UUID, UnitPackage]:
        rows = await self.session.scalars(select(UnitPackageRow).where(UnitPackageRow.item_id.in_(set(item_ids))))
        return {row.item_id: _package(row) for row in rows}

    async def put(self, package: UnitPackage) -> bool:
        """Keep this telling of a package unless a newer revision is kept already; True if kept."""
        values = {**asdict(package), "updated_at": self.uow.now}
        stmt = insert(UnitPackageRow).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["item_id"],
            set_={k: stmt.excluded[k] for k in values if k != "item_id"},
            where=UnitPackageRow.revision < stmt.excluded.revision,
        )
        kept = await self.session.scalar(stmt.returning(UnitPackageRow.item_id))
        return kept is not None

    async def retire(self, item_id: uuid.UUID, revision: int) -> bool:
        """No longer sold (from this revision on); True if a package was retired."""
        done = await self.session.scalar(
            update(UnitPackageRow)
            .where(UnitPackageRow.item_id == item_id, UnitPackageRow.revision <= revision)
            .values(retired=True, revision=revision, updated_at=self.uow.now)
            .returning(UnitPackageRow.item_id)
        )
        return done is not None


def _package(row: UnitPackageRow) -> UnitPackage:
    return UnitPackage(
        item_id=row.item_id,
        sku=row.sku,
        name=row.name,
        units=row.units,
        price=row.price,
        currency=row.currency,
        revision=row.revision,
        retired=row.retired,
    )


def _lines_json(lines: tuple[PurchaseLine, ...]) -> list[dict]:
    return [
        {**asdict(line), "item_id": str(line.item_id), "unit_price": str(line.unit_price), "amount": str(line.amount)}
        for line in lines
    ]


def _purchase(row: UnitPurchaseRow) -> UnitPurchase:
    return UnitPurchase(
        purchase_id=row.purchase_id,
        account_id=row.account_id,
        source=PurchaseSource(row.source),
        lines=tuple(
            PurchaseLine(
                **{
                    **line,
                    "item_id": uuid.UUID(line["item_id"]),
                    "unit_price": Decimal(line["unit_price"]),
                    "amount": Decimal(line["amount"]),
                }
            )
            for line in row.lines
        ),
        currency=row.currency,
        created_at=row.created_at,
        by=row.by,
        status=PurchaseStatus(row.status),
        reason=row.reason,
        invoice_id=row.invoice_id,
        invoice_number=row.invoice_number,
        card_brand=row.card_brand,
        card_last4=row.card_last4,
        ended_at=row.ended_at,
        attempt=row.attempt,
        bill_to=BillTo(**row.bill_to) if row.bill_to else None,
        entry_id=row.entry_id,
        balance_after=row.balance_after,
    )


_PURCHASE_STATE = (
    "status",
    "reason",
    "invoice_id",
    "invoice_number",
    "card_brand",
    "card_last4",
    "entry_id",
    "balance_after",
    "ended_at",
)


class UnitPurchaseRepository(SqlRepository):
    """Unit purchases: what a unit of work loads or adds is tracked and saved on commit."""

    async def get(self, purchase_id: uuid.UUID, *, for_update: bool = False) -> UnitPurchase | None:
        row = await self.one(
            select(UnitPurchaseRow).where(UnitPurchaseRow.purchase_id == purchase_id), for_update=for_update
        )
        return None if row is None else self.uow.track(_purchase(row), self)

    def add(self, purchase: UnitPurchase) -> UnitPurchase:
        return self.uow.track(purchase, self)

    async def save(self, purchase: UnitPurchase) -> None:
        state = {f: getattr(purchase, f) for f in _PURCHASE_STATE} | {"status": purchase.status.value}
        row = await self.session.get(UnitPurchaseRow, purchase.purchase_id)
        if row is not None:
            for name, value in state.items():
                setattr(row, name, value)
            row.updated_at = self.uow.now
            return
        self.session.add(
            UnitPurchaseRow(
                purchase_id=purchase.purchase_id,
                account_id=purchase.account_id,
                source=purchase.source.value,
                lines=_lines_json(purchase.lines),
                units=purchase.units,
                total=purchase.total,
                currency=purchase.currency,
                attempt=purchase.attempt,
                bill_to=asdict(purchase.bill_to) if purchase.bill_to else None,
                by=purchase.by,
                created_at=purchase.created_at,
                updated_at=self.uow.now,
                **state,
            )
        )
        await self.session.flush()

    async def page(
        self,
        *,
        account_id: str | None,
        source: PurchaseSource | None,
        status: PurchaseStatus | None,
        page: PageRequest,
    ) -> Slice[UnitPurchase]:
        """Newest first."""
        stmt = select(UnitPurchaseRow).order_by(UnitPurchaseRow.created_at.desc(), UnitPurchaseRow.purchase_id)
        if account_id is not None:
            stmt = stmt.where(UnitPurchaseRow.account_id == account_id)
        if source is not None:
            stmt = stmt.where(UnitPurchaseRow.source == source.value)
        if status is not None:
            stmt = stmt.where(UnitPurchaseRow.status == status.value)
        rows, total = await fetch_page(self.session, stmt, page)
        return Slice([_purchase(r) for r in rows], total, page.limit, page.offset)

    # -- for the automatic plan -----------------------------------------------------------------
    async def pending_plan(self, account_id: str) -> bool:
        """Has the account a plan purchase not charged (or not recorded) yet?"""
        found = await self.session.scalar(
            select(UnitPurchaseRow.purchase_id)
            .where(
                UnitPurchaseRow.account_id == account_id,
                UnitPurchaseRow.source == PurchaseSource.PLAN.value,
                UnitPurchaseRow.status == PurchaseStatus.PENDING.value,
            )
            .limit(1)
        )
        return found is not None

    async def next_pending_plan(self) -> UnitPurchase | None:
        """The oldest pending plan purchase that no other transaction holds, locked (FOR UPDATE SKIP
        LOCKED: parallel chargers never take the same one)."""
        row = await self.session.scalar(
            select(UnitPurchaseRow)
            .where(UnitPurchaseRow.source == PurchaseSource.PLAN.value, UnitPurchaseRow.status == "pending")
            .order_by(UnitPurchaseRow.created_at, UnitPurchaseRow.purchase_id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        return None if row is None else self.uow.track(_purchase(row), self)

    async def plan_spent(self, account_id: str, currency: str, start: datetime, end: datetime) -> Decimal:
        """What completed plan purchases in `currency` charged, ended in [start, end)."""
        total = await self.session.scalar(
            select(func.coalesce(func.sum(UnitPurchaseRow.total), 0)).where(
                UnitPurchaseRow.account_id == account_id,
                UnitPurchaseRow.source == PurchaseSource.PLAN.value,
                UnitPurchaseRow.status == PurchaseStatus.COMPLETED.value,
                UnitPurchaseRow.currency == currency,
                UnitPurchaseRow.ended_at >= start,
                UnitPurchaseRow.ended_at < end,
            )
        )
        return Decimal(total)
