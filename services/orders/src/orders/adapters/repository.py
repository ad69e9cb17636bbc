"""Loading and storing orders' aggregates and read models."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from orders.adapters.tables import (
    OfferedItemRow,
    ProfileRow,
    RequestHistoryRow,
    RequestLineRow,
    RequestRow,
    SubscriptionRow,
)
from orders.domain.offers import Offer
from orders.domain.pricing import PricedLine
from orders.domain.profiles import Profile
from orders.domain.requests import Line, ServiceRequest, Transition
from orders.domain.subscriptions import Subscription

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
)
_SUB = tuple(Subscription.__dataclass_fields__)


class OfferRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, item_id: uuid.UUID, *, for_update: bool = False) -> Offer | None:
        stmt = select(OfferedItemRow).where(OfferedItemRow.item_id == item_id)
        row = await self.session.scalar(stmt.with_for_update() if for_update else stmt)
        return Offer(**{f: getattr(row, f) for f in _OFFER}) if row else None

    async def many(self, item_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Offer]:
        ids = list(set(item_ids))
        if not ids:
            return {}
        rows = await self.session.scalars(select(OfferedItemRow).where(OfferedItemRow.item_id.in_(ids)))
        return {r.item_id: Offer(**{f: getattr(r, f) for f in _OFFER}) for r in rows}

    async def save(self, offer: Offer, now: datetime) -> None:
        row = await self.session.get(OfferedItemRow, offer.item_id)
        if row is None:
            row = OfferedItemRow()
            self.session.add(row)
        for f in _OFFER:
            setattr(row, f, getattr(offer, f))
        row.description = offer.description or ""
        row.updated_at = now


class ProfileRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, account_id: str, *, for_update: bool = False) -> Profile | None:
        stmt = select(ProfileRow).where(ProfileRow.account_id == account_id)
        row = await self.session.scalar(stmt.with_for_update() if for_update else stmt)
        return Profile(row.account_id, row.email, row.language, row.updated_at) if row else None

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


class RequestRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, request_id: uuid.UUID, *, for_update: bool = False) -> ServiceRequest | None:
        stmt = select(RequestRow).where(RequestRow.id == request_id)
        row = await self.session.scalar(stmt.with_for_update() if for_update else stmt)
        if row is None:
            return None
        lines = await self.session.scalars(
            select(RequestLineRow).where(RequestLineRow.request_id == request_id).order_by(RequestLineRow.position)
        )
        return ServiceRequest(
            id=row.id,
            account_id=row.account_id,
            status=row.status,
            created_at=row.created_at,
            updated_at=row.updated_at,
            submitted_at=row.submitted_at,
            lines=[_line(r) for r in lines],
        )

    async def save(self, request: ServiceRequest) -> None:
        row = await self.session.get(RequestRow, request.id)
        if row is None:
            row = RequestRow(id=request.id, account_id=request.account_id, created_at=request.created_at)
            self.session.add(row)
        row.status, row.updated_at, row.submitted_at = request.status, request.updated_at, request.submitted_at
        summary = request.summary({}) if request.total is not None else None
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
        for step in request.new_history:
            self.session.add(
                RequestHistoryRow(
                    request_id=request.id,
                    at=step.at,
                    by=step.by,
                    from_status=step.from_status,
                    to_status=step.to_status,
                    note=step.note,
                )
            )
        request.new_history.clear()
        await self.session.flush()

    async def history(self, request_id: uuid.UUID) -> list[Transition]:
        rows = await self.session.scalars(
            select(RequestHistoryRow).where(RequestHistoryRow.request_id == request_id).order_by(RequestHistoryRow.id)
        )
        return [Transition(r.at, r.by, r.from_status, r.to_status, r.note) for r in rows]

    async def page(
        self,
        *,
        account_id: str | None = None,
        status: str | None = None,
        submitted_from: datetime | None = None,
        submitted_to: datetime | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[RequestHeader], int]:
        stmt = select(RequestRow)
        if account_id is not None:
            stmt = stmt.where(RequestRow.account_id == account_id)
        if status is not None:
            stmt = stmt.where(RequestRow.status == status)
        if submitted_from is not None:
            stmt = stmt.where(RequestRow.submitted_at >= submitted_from)
        if submitted_to is not None:
            stmt = stmt.where(RequestRow.submitted_at <= submitted_to)
        total = await self.session.scalar(select(func.count()).select_from(stmt.subquery()))
        rows = await self.session.scalars(
            stmt.order_by(RequestRow.created_at.desc(), RequestRow.id).limit(limit).offset(offset)
        )
        return [_header(r) for r in rows], total or 0


class SubscriptionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_all(self, subscriptions: Iterable[Subscription]) -> None:
        self.session.add_all([SubscriptionRow(**{f: getattr(s, f) for f in _SUB}) for s in subscriptions])

    async def for_account(self, account_id: str) -> list[Subscription]:
        rows = await self.session.scalars(
            select(SubscriptionRow)
            .where(SubscriptionRow.account_id == account_id)
            .order_by(SubscriptionRow.activated_on, SubscriptionRow.name, SubscriptionRow.id)
        )
        return [Subscription(**{f: getattr(r, f) for f in _SUB}) for r in rows]

    async def for_request(self, request_id: uuid.UUID) -> list[Subscription]:
        rows = await self.session.scalars(select(SubscriptionRow).where(SubscriptionRow.request_id == request_id))
        return [Subscription(**{f: getattr(r, f) for f in _SUB}) for r in rows]
