"""Loading and storing orders' aggregates and read models, inside a unit of work (which tracks
what a repository loads and adds, and has it save them on commit)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError

from orders.adapters.order_manager_repository import ShipmentRepository, TermsRepository
from orders.adapters.tables import (
    CartLineRow,
    CartRow,
    OfferedItemRow,
    OrderCounterRow,
    OrderHistoryRow,
    OrderInvoiceRow,
    OrderLineRow,
    OrderRow,
    ProfileRow,
    RequestHistoryRow,
    RequestLineRow,
    RequestRow,
    ServiceReminderRow,
    SubscriptionHistoryRow,
    SubscriptionRow,
)
from orders.domain import b2b_orders, offers, orders, requests, subscriptions
from orders.domain.carts import Cart, CartLine
from orders.domain.lines import LineKind, OrderLine, canonical_rate
from orders.domain.offers import Offer
from orders.domain.orders import Order
from orders.domain.pricing import PricedLine
from orders.domain.profiles import Profile
from orders.domain.requests import Line, ServiceRequest
from orders.domain.subscriptions import Subscription
from portal_runtime.auth import AccountScope
from portal_runtime.errors import Conflict
from portal_runtime.idempotency import IdempotencyKeys
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
    "max_per_parent",
    "featured",
    "tax_rate",
)
_SUB = (
    "id",
    "account_id",
    "request_id",
    "order_id",
    "parent_id",
    "domain",
    "cycle",
    "cancel_at_period_end",
    "suspend_reason",
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


class _AsRead:
    """Each loaded aggregate object's fields as read (by the object: one row may be loaded twice in
    a unit of work), so that save writes only what the use case changed, never a value it read back
    over what another transaction committed since. The row save finds is read again (the session's
    identity map holds unchanged rows weakly): an aggregate loaded without a lock and written whole
    undid a change committed meanwhile (an order's shipment, a service's suspension, a profile's
    new address)."""

    def __init__(self, fields: tuple[str, ...]) -> None:
        self.fields = fields
        self._read: dict[int, tuple[object, dict[str, object]]] = {}  # the object kept: its id stays its own

    def loaded(self, aggregate: object) -> None:
        self._read[id(aggregate)] = (aggregate, {f: getattr(aggregate, f) for f in self.fields})

    def write(self, row: object, aggregate: object, *, new: bool) -> None:
        """Set on `row` the fields changed since the load (every one for a new row or one not loaded)."""
        _, read = (None, None) if new else self._read.get(id(aggregate), (None, None))
        for f in self.fields:
            value = getattr(aggregate, f)
            if read is None or value != read[f]:
                setattr(row, f, value)
        self.loaded(aggregate)


def _offer(row: OfferedItemRow) -> Offer:
    return Offer(
        **{f: getattr(row, f) for f in _OFFER if f not in ("status", "tax_rate")},
        status=offers.Status(row.status),
        prices=tuple((p["cycle"], Decimal(p["price"])) for p in row.prices or ()),
        parents=tuple(uuid.UUID(p) for p in row.parents or ()),
        tax_rate=canonical_rate(row.tax_rate),
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

    async def by_skus(self, skus: Iterable[str]) -> dict[str, Offer]:
        """The copies with these SKUs (channel orders name items by SKU); an offered one wins over a retired one."""
        wanted = list(set(skus))
        if not wanted:
            return {}
        rows = await self.session.scalars(select(OfferedItemRow).where(OfferedItemRow.sku.in_(wanted)))
        found: dict[str, Offer] = {}
        for offer in (_offer(r) for r in rows):
            if offer.sku not in found or offer.is_offered:
                found[offer.sku] = offer
        return found

    async def add_ons_for(self, item_id: uuid.UUID) -> list[Offer]:
        """The offered add-ons that may be added to a service of item `item_id`, by name."""
        rows = await self.session.scalars(
            select(OfferedItemRow)
            .where(
                OfferedItemRow.kind == "add_on",
                OfferedItemRow.status == offers.Status.OFFERED,
                OfferedItemRow.parents.contains([str(item_id)]),
            )
            .order_by(OfferedItemRow.name, OfferedItemRow.item_id)
        )
        return [_offer(r) for r in rows]

    async def featured(self) -> list[Offer]:
        """The offered services and add-ons an admin features, by name."""
        rows = await self.session.scalars(
            select(OfferedItemRow)
            .where(
                OfferedItemRow.featured.is_not(None),
                OfferedItemRow.status == offers.Status.OFFERED,
                OfferedItemRow.kind.in_(["service", "add_on"]),
            )
            .order_by(OfferedItemRow.name, OfferedItemRow.item_id)
        )
        return [_offer(r) for r in rows]

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
        row.featured = dict(offer.featured) if offer.featured else None
        row.updated_at = self.uow.now


class ProfileRepository:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session
        # a support request reads the sender's address without a lock (`SupportService._sender`)
        self._read = _AsRead(("email", "language", "updated_at"))

    async def get(self, account_id: str, *, for_update: bool = False) -> Profile | None:
        stmt = select(ProfileRow).where(ProfileRow.account_id == account_id)
        row = await self.session.scalar(stmt.with_for_update() if for_update else stmt)
        if row is None:
            return None
        profile = Profile(row.account_id, row.email, row.language, row.updated_at)
        self._read.loaded(profile)
        return self.uow.track(profile, self)

    def add(self, profile: Profile) -> Profile:
        return self.uow.track(profile, self)

    async def save(self, profile: Profile) -> None:
        row = await self.session.get(ProfileRow, profile.account_id)
        new = row is None
        if new:
            row = ProfileRow(account_id=profile.account_id)
            self.session.add(row)
        self._read.write(row, profile, new=new)


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


def _subscription(row: SubscriptionRow) -> Subscription:
    return Subscription(**{**{f: getattr(row, f) for f in _SUB}, "status": subscriptions.Status(row.status)})


class SubscriptionRepository:
    """Services as aggregates. A loaded one carries no history (`history` lists what it records
    from then on, appended on save); `history()` reads the stored rows."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session
        self._history = _History(self.session, SubscriptionHistoryRow, "subscription_id")
        # the cart reads the services a line names without a lock (`CartService.add_add_on`, `add_renewal`)
        self._read = _AsRead(_SUB)

    def add(self, subscription: Subscription) -> Subscription:
        return self.uow.track(subscription, self)

    async def save(self, subscription: Subscription) -> None:
        row = await self.session.get(SubscriptionRow, subscription.id)
        new = row is None
        if new:
            row = SubscriptionRow(id=subscription.id)
            self.session.add(row)
        self._read.write(row, subscription, new=new)
        await self.session.flush()
        self._history.append(subscription.id, subscription.history)

    async def _load(self, stmt, for_update: bool) -> list[Subscription]:
        rows = await self.session.scalars(stmt.with_for_update() if for_update else stmt)
        found = []
        for row in rows:
            self._history.loaded(row.id, 0)
            subscription = _subscription(row)
            self._read.loaded(subscription)
            found.append(self.uow.track(subscription, self))
        return found

    async def get(self, subscription_id: uuid.UUID, *, for_update: bool = False) -> Subscription | None:
        found = await self._load(select(SubscriptionRow).where(SubscriptionRow.id == subscription_id), for_update)
        return found[0] if found else None

    async def family(self, subscription_id: uuid.UUID, *, for_update: bool = False) -> list[Subscription]:
        """The service first, then its add-ons (any status); [] when there is no such service."""
        stmt = (
            select(SubscriptionRow)
            .where(or_(SubscriptionRow.id == subscription_id, SubscriptionRow.parent_id == subscription_id))
            .order_by(SubscriptionRow.parent_id.is_not(None), SubscriptionRow.created_at, SubscriptionRow.id)
        )
        found = await self._load(stmt, for_update)
        return found if found and found[0].id == subscription_id else []

    async def of_account(self, account_id: str, *, for_update: bool = False) -> dict[uuid.UUID, Subscription]:
        """Every service of the account, by id (a cart checks lines against all of them)."""
        stmt = select(SubscriptionRow).where(SubscriptionRow.account_id == account_id).order_by(SubscriptionRow.id)
        return {s.id: s for s in await self._load(stmt, for_update)}

    async def many(self, ids: Iterable[uuid.UUID], *, for_update: bool = False) -> dict[uuid.UUID, Subscription]:
        ids = list(set(ids))
        if not ids:
            return {}
        stmt = select(SubscriptionRow).where(SubscriptionRow.id.in_(ids)).order_by(SubscriptionRow.id)
        return {s.id: s for s in await self._load(stmt, for_update)}

    async def due(self, on_or_before: date, *, for_update: bool = False) -> list[Subscription]:
        """The live services due by `on_or_before` (for the jobs: renewals, period ends)."""
        stmt = (
            select(SubscriptionRow)
            .where(
                SubscriptionRow.status.in_([str(s) for s in subscriptions.LIVE]),
                SubscriptionRow.next_due_on <= on_or_before,
            )
            .order_by(SubscriptionRow.account_id, SubscriptionRow.next_due_on, SubscriptionRow.id)
        )
        return await self._load(stmt, for_update)

    def _listed(self, scope: AccountScope, status: subscriptions.Status | None, parents_only: bool):
        stmt = select(SubscriptionRow)
        if scope.account_id is not None:
            stmt = stmt.where(SubscriptionRow.account_id == scope.account_id)
        if status is not None:
            stmt = stmt.where(SubscriptionRow.status == status)
        if parents_only:
            stmt = stmt.where(SubscriptionRow.parent_id.is_(None))
        return stmt

    async def page(
        self,
        scope: AccountScope,
        page: PageRequest,
        *,
        status: subscriptions.Status | None = None,
        parents_only: bool = False,
    ) -> Slice[Subscription]:
        """A page of services (read only), in the order they began; `parents_only`: no add-ons."""
        stmt = self._listed(scope, status, parents_only).order_by(
            SubscriptionRow.activated_on, SubscriptionRow.name, SubscriptionRow.id
        )
        rows, total = await fetch_page(self.session, stmt, page)
        return Slice([_subscription(r) for r in rows], total, page.limit, page.offset)

    async def add_ons_of(self, parent_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[Subscription]]:
        """The add-ons of these parents (read only), by parent, in the order they began."""
        ids = list(set(parent_ids))
        found: dict[uuid.UUID, list[Subscription]] = {i: [] for i in ids}
        if ids:
            rows = await self.session.scalars(
                select(SubscriptionRow)
                .where(SubscriptionRow.parent_id.in_(ids))
                .order_by(SubscriptionRow.created_at, SubscriptionRow.id)
            )
            for row in rows:
                found[row.parent_id].append(_subscription(row))
        return found

    async def counts(self, scope: AccountScope) -> dict[str, int]:
        """How many parent services there are in each status (every status named, 0 included)."""
        stmt = self._listed(scope, None, True).with_only_columns(SubscriptionRow.status, func.count())
        counted = dict((await self.session.execute(stmt.group_by(SubscriptionRow.status))).all())
        return {str(s): counted.get(str(s), 0) for s in subscriptions.Status}

    async def history(self, subscription_id: uuid.UUID) -> list[Transition]:
        rows = await self.session.scalars(
            select(SubscriptionHistoryRow)
            .where(SubscriptionHistoryRow.subscription_id == subscription_id)
            .order_by(SubscriptionHistoryRow.id)
        )
        return [_transition(r, subscriptions.Status) for r in rows]

    async def reminded(self, subscription_ids: Iterable[uuid.UUID]) -> set[tuple[uuid.UUID, date]]:
        """(subscription_id, due_on) of the overdue reminders sent for these services."""
        ids = list(set(subscription_ids))
        if not ids:
            return set()
        rows = await self.session.execute(
            select(ServiceReminderRow.subscription_id, ServiceReminderRow.due_on).where(
                ServiceReminderRow.subscription_id.in_(ids)
            )
        )
        return {(r.subscription_id, r.due_on) for r in rows}

    async def remember_reminder(self, subscription_id: uuid.UUID, due_on: date) -> bool:
        """Record the reminder for (service, due date); False when it was recorded already."""
        done = await self.session.scalar(
            insert(ServiceReminderRow)
            .values(subscription_id=subscription_id, due_on=due_on, reminded_at=self.uow.now)
            .on_conflict_do_nothing()
            .returning(ServiceReminderRow.due_on)
        )
        return done is not None


# -- the client area: carts, orders, their invoices ------------------------------------------
_CART_LINE = (
    "line_id",
    "item_id",
    "cycle",
    "currency",
    "subscription_id",
    "parent_subscription_id",
    "domain",
    "quantity",
)
_ORDER_STATUSES = ("checkout_at", "payment_at", "shipping_at")
_ORDER_MANAGER = ("payment_terms_days", "public_note", "private_note", "awaiting_quantity")
# what a use case may change on a stored order (save writes those it changed since the load)
_ORDER_MUTABLE = (
    "status",
    "cancel_reason",
    "checkout_status",
    "payment_status",
    "shipping_status",
    *_ORDER_STATUSES,
    *_ORDER_MANAGER,
)
_ORDER_ORIGIN = ("placed_by", "quote_id", "reordered_from", "channel", "channel_order_id", "customer_reference")
_ORDER_LINE = (
    "line_id",
    "item_id",
    "sku",
    "name",
    "cycle",
    "quantity",
    "unit_price",
    "amount",
    "currency",
    "subscription_id",
    "parent_subscription_id",
    "domain",
    "period_start",
    "period_end",
    "tax_rate",
)


class CartRepository:
    """One cart per account (the unique account_id); `open` makes it if needed and locks it."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    async def get(self, account_id: str, *, for_update: bool = False) -> Cart | None:
        stmt = select(CartRow).where(CartRow.account_id == account_id)
        row = await self.session.scalar(stmt.with_for_update() if for_update else stmt)
        if row is None:
            return None
        lines = await self.session.scalars(
            select(CartLineRow).where(CartLineRow.cart_id == row.id).order_by(CartLineRow.position)
        )
        cart = Cart(
            id=row.id,
            account_id=row.account_id,
            created_at=row.created_at,
            updated_at=row.updated_at,
            reordered_from=row.reordered_from,
            lines=[
                CartLine(**{f: getattr(r, f) for f in _CART_LINE}, kind=LineKind(r.kind), period_start=r.period_start)
                for r in lines
            ],
        )
        return self.uow.track(cart, self)

    async def open(self, account_id: str, *, now: datetime) -> Cart:
        """The account's cart, locked until commit: made now when it has none (two requests at
        once make one, the second waiting for the first)."""
        fresh = Cart.open(account_id, now=now)
        await self.session.execute(
            insert(CartRow)
            .values(id=fresh.id, account_id=account_id, created_at=now, updated_at=now)
            .on_conflict_do_nothing(index_elements=["account_id"])
        )
        return await self.get(account_id, for_update=True)

    async def save(self, cart: Cart) -> None:
        row = await self.session.get(CartRow, cart.id)
        if row is None:
            row = CartRow(id=cart.id, account_id=cart.account_id, created_at=cart.created_at)
            self.session.add(row)
        row.updated_at, row.reordered_from = cart.updated_at, cart.reordered_from
        await self.session.flush()
        await self.session.execute(delete(CartLineRow).where(CartLineRow.cart_id == cart.id))
        self.session.add_all(
            CartLineRow(
                **{f: getattr(line, f) for f in _CART_LINE},
                cart_id=cart.id,
                position=position,
                kind=line.kind,
                period_start=line.period_start,
            )
            for position, line in enumerate(cart.lines)
        )
        await self.session.flush()


class PeriodOrdered(Conflict):
    """The unique index on renewal lines refused a second live order for a service's period."""

    def __init__(self) -> None:
        super().__init__("a service's period on this order is already on another order: pay that invoice")


class OrderRepository:
    """Orders with their lines and history. A renewal line claims (subscription_id, period_start)
    while its order is not cancelled (`claimed_period`, unique): `save` raises PeriodOrdered when
    another order holds the claim, however the two orders came to be."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session
        self._history = _History(self.session, OrderHistoryRow, "order_id")
        # an order loaded without a lock and saved whole undid a shipment committed meanwhile
        # (InvoiceIssued's link_invoice; the walkthrough's flaky section 6)
        self._read = _AsRead(_ORDER_MUTABLE)

    async def next_number(self, year: int) -> str:
        """`ORD-2026-000001`: the next of `year`'s gapless series (the counter stays locked until
        commit; a rollback gives the number back)."""
        await self.session.execute(insert(OrderCounterRow).values(year=year, last_number=0).on_conflict_do_nothing())
        counter = await self.session.scalar(
            select(OrderCounterRow).where(OrderCounterRow.year == year).with_for_update()
        )
        counter.last_number += 1
        await self.session.flush()
        return f"ORD-{year:04d}-{counter.last_number:06d}"

    def add(self, order: Order) -> Order:
        return self.uow.track(order, self)

    async def save(self, order: Order) -> None:
        row = await self.session.get(OrderRow, order.id)
        new = row is None
        if new:
            row = OrderRow(
                **{
                    f: getattr(order, f)
                    for f in ("id", "number", "account_id", "source", "currency", "total", "placed_at", "placed_on")
                },
                **{f: getattr(order, f) for f in _ORDER_ORIGIN},
                due_on=order.due_on,
            )
            self.session.add(row)
        self._read.write(row, order, new=new)
        await self.session.flush()  # the order before its lines and history (no ORM relationship orders them)
        live = order.status != orders.Status.CANCELLED
        if new:
            self.session.add_all(
                OrderLineRow(
                    **{f: getattr(line, f) for f in _ORDER_LINE},
                    order_id=order.id,
                    position=position,
                    kind=line.kind,
                    claimed_period=line.period_start if line.kind == LineKind.RENEWAL and live else None,
                )
                for position, line in enumerate(order.lines)
            )
        elif not live:
            await self.session.execute(
                update(OrderLineRow).where(OrderLineRow.order_id == order.id).values(claimed_period=None)
            )
        self._history.append(order.id, order.history)
        try:
            await self.session.flush()
        except IntegrityError as exc:
            if "uq_order_lines_renewal_claim" in str(exc.orig):
                raise PeriodOrdered() from exc
            raise

    async def of_rows(self, rows: list[OrderRow]) -> list[Order]:
        """The orders of these rows (read by another repository's query, e.g. the order manager's views)."""
        return await self._orders(rows)

    async def _orders(self, rows: list[OrderRow], for_update: bool = False) -> list[Order]:
        ids = [r.id for r in rows]
        if not ids:
            return []
        lines: dict[uuid.UUID, list[OrderLine]] = {i: [] for i in ids}
        for r in await self.session.scalars(
            select(OrderLineRow).where(OrderLineRow.order_id.in_(ids)).order_by(OrderLineRow.position)
        ):
            line = OrderLine(**{f: getattr(r, f) for f in _ORDER_LINE}, kind=LineKind(r.kind))
            lines[r.order_id].append(replace(line, tax_rate=canonical_rate(line.tax_rate)))
        history: dict[uuid.UUID, list[Transition]] = {i: [] for i in ids}
        for r in await self.session.scalars(
            select(OrderHistoryRow).where(OrderHistoryRow.order_id.in_(ids)).order_by(OrderHistoryRow.id)
        ):
            history[r.order_id].append(_transition(r, orders.Status))
        found = []
        for r in rows:
            self._history.loaded(r.id, len(history[r.id]))
            order = Order(
                id=r.id,
                number=r.number,
                account_id=r.account_id,
                source=orders.Source(r.source),
                currency=r.currency,
                lines=tuple(lines[r.id]),
                total=r.total,
                status=orders.Status(r.status),
                placed_at=r.placed_at,
                placed_on=r.placed_on,
                due_on=r.due_on,
                cancel_reason=r.cancel_reason,
                **{f: getattr(r, f) for f in _ORDER_ORIGIN},
                checkout_status=b2b_orders.CheckoutStatus(r.checkout_status),
                payment_status=b2b_orders.PaymentStatus(r.payment_status),
                shipping_status=b2b_orders.ShippingStatus(r.shipping_status),
                **{f: getattr(r, f) for f in _ORDER_STATUSES},
                **{f: getattr(r, f) for f in _ORDER_MANAGER},
                history=history[r.id],
            )
            self._read.loaded(order)
            found.append(self.uow.track(order, self))
        return found

    async def get(self, order_id: uuid.UUID, *, for_update: bool = False) -> Order | None:
        stmt = select(OrderRow).where(OrderRow.id == order_id)
        row = await self.session.scalar(stmt.with_for_update() if for_update else stmt)
        found = await self._orders([row] if row else [])
        return found[0] if found else None

    async def add_channel_order(self, make: Callable[[str], Order], year: int) -> Order | None:
        """A channel's order made by `make(number)` and saved in a savepoint with its number; None
        (nothing kept, the number given back) when the unique index finds the channel's order placed
        already (another delivery of it, at the same moment)."""
        try:
            async with self.session.begin_nested():
                order = make(await self.next_number(year))
                await self.save(order)
        except IntegrityError as exc:
            if "uq_orders_channel_order" not in str(exc.orig):
                raise
            return None
        return self.add(order)

    async def of_channel(self, channel: str, channel_order_id: str) -> Order | None:
        """The order placed for a channel's order (one per pair: the unique index)."""
        row = await self.session.scalar(
            select(OrderRow).where(OrderRow.channel == channel, OrderRow.channel_order_id == channel_order_id)
        )
        found = await self._orders([row] if row else [])
        return found[0] if found else None

    async def page(
        self, scope: AccountScope, page: PageRequest, *, status: orders.Status | None = None
    ) -> Slice[Order]:
        stmt = select(OrderRow).order_by(OrderRow.placed_at.desc(), OrderRow.number.desc())
        if scope.account_id is not None:
            stmt = stmt.where(OrderRow.account_id == scope.account_id)
        if status is not None:
            stmt = stmt.where(OrderRow.status == status)
        rows, total = await fetch_page(self.session, stmt, page)
        return Slice(await self._orders(rows), total, page.limit, page.offset)

    async def placed(self, *, source: orders.Source | None = None, for_update: bool = False) -> list[Order]:
        """The orders still placed (unpaid), oldest first (for the jobs)."""
        stmt = select(OrderRow).where(OrderRow.status == orders.Status.PLACED)
        if source is not None:
            stmt = stmt.where(OrderRow.source == source)
        stmt = stmt.order_by(OrderRow.placed_at, OrderRow.id)
        rows = list(await self.session.scalars(stmt.with_for_update() if for_update else stmt))
        return await self._orders(rows)

    async def ordered_periods(self, subscription_ids: Iterable[uuid.UUID]) -> set[tuple[uuid.UUID, date]]:
        """(subscription_id, period_start) of these services' periods on a live order (the claims)."""
        ids = list(set(subscription_ids))
        if not ids:
            return set()
        rows = await self.session.execute(
            select(OrderLineRow.subscription_id, OrderLineRow.claimed_period).where(
                OrderLineRow.subscription_id.in_(ids), OrderLineRow.claimed_period.is_not(None)
            )
        )
        return {(r.subscription_id, r.claimed_period) for r in rows}

    async def of_service(self, subscription_id: uuid.UUID) -> list[uuid.UUID]:
        """The orders with a line for this service (that bought or renewed it), oldest first."""
        rows = await self.session.scalars(
            select(OrderRow.id)
            .join(OrderLineRow, OrderLineRow.order_id == OrderRow.id)
            .where(OrderLineRow.subscription_id == subscription_id)
            .group_by(OrderRow.id)
            .order_by(func.min(OrderRow.placed_at), OrderRow.id)
        )
        return list(rows)


@dataclass(frozen=True)
class InvoiceLink:
    """Billing's invoice of an order, as orders heard of it."""

    invoice_id: uuid.UUID
    order_id: uuid.UUID
    number: str
    status: str  # issued | partially_paid | paid | voided
    total: Decimal
    currency: str
    due_on: date
    issued_at: datetime


_LINK = ("invoice_id", "order_id", "number", "status", "total", "currency", "due_on", "issued_at")


class InvoiceLinkRepository:
    """The order ↔ invoice link (a read model billing's events keep: no aggregate)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    async def link(self, link: InvoiceLink) -> bool:
        """Keep the link; False when this invoice was linked already (an event seen again)."""
        done = await self.session.scalar(
            insert(OrderInvoiceRow)
            .values(**{f: getattr(link, f) for f in _LINK})
            .on_conflict_do_nothing()
            .returning(OrderInvoiceRow.invoice_id)
        )
        return done is not None

    async def get(self, invoice_id: uuid.UUID) -> InvoiceLink | None:
        row = await self.session.get(OrderInvoiceRow, invoice_id)
        return InvoiceLink(**{f: getattr(row, f) for f in _LINK}) if row else None

    async def set_status(self, invoice_id: uuid.UUID, status: str) -> None:
        await self.session.execute(
            update(OrderInvoiceRow).where(OrderInvoiceRow.invoice_id == invoice_id).values(status=status)
        )

    async def of_orders(self, order_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[InvoiceLink]]:
        """Each order's invoices, oldest first."""
        ids = list(set(order_ids))
        found: dict[uuid.UUID, list[InvoiceLink]] = {i: [] for i in ids}
        if ids:
            rows = await self.session.scalars(
                select(OrderInvoiceRow)
                .where(OrderInvoiceRow.order_id.in_(ids))
                .order_by(OrderInvoiceRow.issued_at, OrderInvoiceRow.invoice_id)
            )
            for row in rows:
                found[row.order_id].append(InvoiceLink(**{f: getattr(row, f) for f in _LINK}))
        return found


class VisibilityRepository:
    """Orders' visibility check (`orders.service.visibility.Visibility`) in the unit of work's session."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.session = uow.session

    async def hidden(self, account_id: str, item_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        """The given items `account_id` may NOT see (an empty set: all visible)."""
        from orders.service.visibility import Visibility

        return await Visibility().check(self.session, account_id, item_ids)


class OrdersUnitOfWork(UnitOfWork):
    offers = repository(OfferRepository)
    profiles = repository(ProfileRepository)
    requests = repository(RequestRepository)
    subscriptions = repository(SubscriptionRepository)
    carts = repository(CartRepository)
    orders = repository(OrderRepository)
    invoices = repository(InvoiceLinkRepository)
    visibility = repository(VisibilityRepository)
    idempotency = repository(IdempotencyKeys)
    shipments = repository(ShipmentRepository)  # the order manager's (orders.adapters.order_manager_repository)
    terms = repository(TermsRepository)

    def _stage(self, event):
        """Orders' own documents (a quote sent, a goods issue) are written with the event telling them."""
        from orders.adapters.document_tables import DocumentRow
        from orders.service.documents import documents_of, row_of

        for document in documents_of(event):
            self.session.add(DocumentRow(**row_of(document)))
        return super()._stage(event)
