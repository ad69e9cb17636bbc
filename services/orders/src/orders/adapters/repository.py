"""Loading and storing orders' aggregates and read models, inside a unit of work (which tracks
what a repository loads and adds, and has it save them on commit)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, select

from orders.adapters.tables import (
    OfferedItemRow,
    ProfileRow,
    RequestHistoryRow,
    RequestLineRow,
    RequestRow,
    SubscriptionHistoryRow,
    SubscriptionRow,
)
from orders.domain import offers, requests, subscriptions
from orders.domain.offers import Offer
from orders.domain.pricing import PricedLine
from orders.domain.profiles import Profile
from orders.domain.requests import Line, ServiceRequest
from orders.domain.subscriptions import Subscription
from portal_runtime.auth import AccountScope
from portal_runtime.lifecycle import Transition
from portal_runtime.paging import PageRequest, Slice, fetch_page
from portal_runtime.uow import UnitOfWork, repository

_OFFER = (
    "item_id",
    "revision",
    "status",
    "sku",
    "name",
    "description",
    "price",
    "currency",
    "billing",
    "billing_period_months",
    "kind",
    "units",
)
_SUB = (
    "id",
    "account_id",
    "request_id",
    "item_id",
    "name",
    "quantity",
    "unit_price",
    "currency",
    "billing",
    "billing_period_months",
    "status",
    "created_at",
    "activated_on",
    "anchor_on",
    "next_due_on",
)


def _offer(row: OfferedItemRow) -> Offer:
    return Offer(
        **{f: getattr(row, f) for f in _OFFER if f != "status"},
        status=offers.Status(row.status),
        prices=tuple((p["cycle"], Decimal(p["price"])) for p in row.prices or ()),
        parents=tuple(uuid.UUID(p) for p in row.parents or ()),
    )


class OfferRepository:
    """The local copy of catalog's items (values, not aggregates: a new revision replaces one)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    async def get(self, item_id: uuid.UUID, *, for_update: bool = False) -> Offer | None:
        stmt = select(OfferedItemRow).where(OfferedItemRow.item_id == item_id)
        row = await self.session.scalar(stmt.with_for_update() if for_update else stmt)
        return _offer(row) if row else None

    async def many(self, item_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Offer]:
        ids = list(set(item_ids))
        if not ids:
            return {}
        rows = await self.session.scalars(select(OfferedItemRow).where(OfferedItemRow.item_id.in_(ids)))
        return {r.item_id: _offer(r) for r in rows}

    def put(self, offer: Offer) -> Offer:
        """Store `offer` as the copy of its item on commit."""
        return self.uow.track(offer, self)

    async def save(self, offer: Offer) -> None:
        row = await self.session.get(OfferedItemRow, offer.item_id)
        if row is None:
            row = OfferedItemRow()
            self.session.add(row)
        for f in _OFFER:
            setattr(row, f, getattr(offer, f))
        row.description = offer.description or ""
        row.prices = [{"cycle": cycle, "price": str(price)} for cycle, price in offer.prices]
        row.parents = [str(p) for p in offer.parents]
        row.updated_at = self.uow.now


class ProfileRepository:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    async def get(self, account_id: str, *, for_update: bool = False) -> Profile | None:
        stmt = select(ProfileRow).where(ProfileRow.account_id == account_id)
        row = await self.session.scalar(stmt.with_for_update() if for_update else stmt)
        if row is None:
            return None
        return self.uow.track(Profile(row.account_id, row.email, row.language, row.updated_at), self)

    def add(self, profile: Profile) -> Profile:
        return self.uow.track(profile, self)

    async def save(self, profile: Profile) -> None:
        row = await self.session.get(ProfileRow, profile.account_id)
        if row is None:
            row = ProfileRow(account_id=profile.account_id)
            self.session.add(row)
        row.email, row.language, row.updated_at = profile.email, profile.language, profile.updated_at


@dataclass(frozen=True)
class RequestHeader:
    """A request as lists show it: status, dates, and the total once submitted."""

    id: uuid.UUID
    account_id: str
    status: str
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    total: Decimal | None
    currency: str | None


def _header(row: RequestRow) -> RequestHeader:
    return RequestHeader(
        row.id, row.account_id, row.status, row.created_at, row.updated_at, row.submitted_at, row.total, row.currency
    )


def _line(row: RequestLineRow) -> Line:
    frozen = None
    if row.unit_price is not None:
        frozen = PricedLine(
            row.item_id, row.quantity, row.name, row.unit_price, row.currency, row.billing, row.billing_period_months
        )
    return Line(row.item_id, row.quantity, frozen)


def _transition(row: RequestHistoryRow | SubscriptionHistoryRow, status: type) -> Transition:
    return Transition(
        at=row.at,
        by=row.by,
        from_status=None if row.from_status is None else status(row.from_status),
        to_status=status(row.to_status),
        note=row.note,
    )


class _History:
    """Appends an aggregate's history rows: those it recorded since it was loaded (or all, if new)."""

    def __init__(self, session, row: type, key: str) -> None:
        self.session, self.row, self.key = session, row, key
        self.stored: dict[uuid.UUID, int] = {}

    def loaded(self, aggregate_id: uuid.UUID, count: int) -> None:
        self.stored[aggregate_id] = count

    def append(self, aggregate_id: uuid.UUID, history: list[Transition]) -> None:
        for step in history[self.stored.get(aggregate_id, 0) :]:
            self.session.add(
                self.row(
                    **{self.key: aggregate_id},
                    at=step.at,
                    by=step.by,
                    from_status=step.from_status,
                    to_status=step.to_status,
                    note=step.note,
                )
            )
        self.stored[aggregate_id] = len(history)


class RequestRepository:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session
        self._history = _History(self.session, RequestHistoryRow, "request_id")

    async def get(self, request_id: uuid.UUID, *, for_update: bool = False) -> ServiceRequest | None:
        stmt = select(RequestRow).where(RequestRow.id == request_id)
        row = await self.session.scalar(stmt.with_for_update() if for_update else stmt)
        if row is None:
            return None
        lines = await self.session.scalars(
            select(RequestLineRow).where(RequestLineRow.request_id == request_id).order_by(RequestLineRow.position)
        )
        history = [_transition(r, requests.Status) for r in await self.session.scalars(self._history_of(request_id))]
        self._history.loaded(request_id, len(history))
        request = ServiceRequest(
            id=row.id,
            account_id=row.account_id,
            status=requests.Status(row.status),
            created_at=row.created_at,
            updated_at=row.updated_at,
            submitted_at=row.submitted_at,
            lines=[_line(r) for r in lines],
            history=history,
        )
        return self.uow.track(request, self)

    def add(self, request: ServiceRequest) -> ServiceRequest:
        return self.uow.track(request, self)

    async def save(self, request: ServiceRequest) -> None:
        row = await self.session.get(RequestRow, request.id)
        if row is None:
            row = RequestRow(id=request.id, account_id=request.account_id, created_at=request.created_at)
            self.session.add(row)
        row.status, row.updated_at, row.submitted_at = request.status, request.updated_at, request.submitted_at
        summary = request.summary({}) if request.priced else None
        row.total, row.currency = (summary.total, summary.currency) if summary else (None, None)
        await self.session.flush()
        await self.session.execute(delete(RequestLineRow).where(RequestLineRow.request_id == request.id))
        for position, line in enumerate(request.lines):
            f = line.frozen
            self.session.add(
                RequestLineRow(
                    request_id=request.id,
                    item_id=line.item_id,
                    position=position,
                    quantity=line.quantity,
                    name=f and f.name,
                    unit_price=f and f.unit_price,
                    currency=f and f.currency,
                    billing=f and f.billing,
                    billing_period_months=f and f.billing_period_months,
                )
            )
        self._history.append(request.id, request.history)
        await self.session.flush()

    async def history(self, request_id: uuid.UUID, page: PageRequest) -> Slice[Transition]:
        rows, total = await fetch_page(self.session, self._history_of(request_id), page)
        return Slice([_transition(r, requests.Status) for r in rows], total, page.limit, page.offset)

    @staticmethod
    def _history_of(request_id: uuid.UUID):
        return (
            select(RequestHistoryRow).where(RequestHistoryRow.request_id == request_id).order_by(RequestHistoryRow.id)
        )

    async def page(
        self,
        scope: AccountScope,
        page: PageRequest,
        *,
        status: requests.Status | None = None,
        submitted_from: datetime | None = None,
        submitted_to: datetime | None = None,
    ) -> Slice[RequestHeader]:
        stmt = select(RequestRow).order_by(RequestRow.created_at.desc(), RequestRow.id)
        if scope.account_id is not None:
            stmt = stmt.where(RequestRow.account_id == scope.account_id)
        if status is not None:
            stmt = stmt.where(RequestRow.status == status)
        if submitted_from is not None:
            stmt = stmt.where(RequestRow.submitted_at >= submitted_from)
        if submitted_to is not None:
            stmt = stmt.where(RequestRow.submitted_at <= submitted_to)
        rows, total = await fetch_page(self.session, stmt, page)
        return Slice([_header(r) for r in rows], total, page.limit, page.offset)


class SubscriptionRepository:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session
        self._history = _History(self.session, SubscriptionHistoryRow, "subscription_id")

    def add(self, subscription: Subscription) -> Subscription:
        return self.uow.track(subscription, self)

    async def save(self, subscription: Subscription) -> None:
        row = await self.session.get(SubscriptionRow, subscription.id)
        if row is None:
            row = SubscriptionRow(id=subscription.id)
            self.session.add(row)
        for f in _SUB:
            setattr(row, f, getattr(subscription, f))
        await self.session.flush()
        self._history.append(subscription.id, subscription.history)

    async def page(self, scope: AccountScope, page: PageRequest) -> Slice[Subscription]:
        stmt = select(SubscriptionRow).order_by(SubscriptionRow.activated_on, SubscriptionRow.name, SubscriptionRow.id)
        if scope.account_id is not None:
            stmt = stmt.where(SubscriptionRow.account_id == scope.account_id)
        rows, total = await fetch_page(self.session, stmt, page)
        found = [
            Subscription(**{**{f: getattr(r, f) for f in _SUB}, "status": subscriptions.Status(r.status)}) for r in rows
        ]
        return Slice(found, total, page.limit, page.offset)


class OrdersUnitOfWork(UnitOfWork):
    offers = repository(OfferRepository)
    profiles = repository(ProfileRepository)
    requests = repository(RequestRepository)
    subscriptions = repository(SubscriptionRepository)
