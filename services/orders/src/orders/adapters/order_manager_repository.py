"""Loading and storing the order manager's state inside orders' unit of work: an order's shipments
(`uow.shipments`), the accounts' payment terms (`uow.terms`), and the views' query over the orders
table (`OrderViewsQuery`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Date, and_, cast, func, not_, or_, select
from sqlalchemy.dialects.postgresql import insert

from orders.adapters.order_manager_tables import AccountTermsRow, ShipmentLineRow, ShipmentRow, ShipmentTrackingRow
from orders.adapters.tables import OrderRow
from orders.domain.b2b_orders import CheckoutStatus, PaymentStatus, ShippingStatus
from orders.domain.orders import Order, Status
from orders.domain.shipments import Shipment, ShipmentLine, ShipmentStatus, Tracking, TrackingCorrection
from portal_runtime.paging import PageRequest, Slice, fetch_page
from portal_runtime.uow import UnitOfWork

_SHIPMENT = (
    "id",
    "order_id",
    "seq",
    "number",
    "recorded_at",
    "recorded_by",
    "shipped_at",
    "shipped_by",
    "cancelled_at",
)


class ShipmentRepository:
    """Shipments as aggregates (their lines fixed when recorded; corrections appended on save)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session
        self._corrections: dict[uuid.UUID, int] = {}

    def add(self, shipment: Shipment) -> Shipment:
        return self.uow.track(shipment, self)

    async def of_order(self, order_id: uuid.UUID) -> list[Shipment]:
        """The order's shipments, in their sequence (read under the order row's lock to change them)."""
        return (await self.of_orders([order_id]))[order_id]

    async def of_orders(self, order_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[Shipment]]:
        ids = list(set(order_ids))
        found: dict[uuid.UUID, list[Shipment]] = {i: [] for i in ids}
        if not ids:
            return found
        rows = list(
            await self.session.scalars(
                select(ShipmentRow).where(ShipmentRow.order_id.in_(ids)).order_by(ShipmentRow.order_id, ShipmentRow.seq)
            )
        )
        shipment_ids = [r.id for r in rows]
        lines: dict[uuid.UUID, list[ShipmentLine]] = {i: [] for i in shipment_ids}
        corrections: dict[uuid.UUID, list[TrackingCorrection]] = {i: [] for i in shipment_ids}
        if shipment_ids:
            for r in await self.session.scalars(
                select(ShipmentLineRow)
                .where(ShipmentLineRow.shipment_id.in_(shipment_ids))
                .order_by(ShipmentLineRow.position)
            ):
                lines[r.shipment_id].append(ShipmentLine(r.line_id, r.quantity))
            for r in await self.session.scalars(
                select(ShipmentTrackingRow)
                .where(ShipmentTrackingRow.shipment_id.in_(shipment_ids))
                .order_by(ShipmentTrackingRow.id)
            ):
                corrections[r.shipment_id].append(
                    TrackingCorrection(
                        at=r.at,
                        by=r.by,
                        old=Tracking(r.old_carrier, r.old_tracking_number, r.old_tracking_url),
                        new=Tracking(r.new_carrier, r.new_tracking_number, r.new_tracking_url),
                    )
                )
        for r in rows:
            self._corrections[r.id] = len(corrections[r.id])
            tracking = Tracking(r.carrier, r.tracking_number, r.tracking_url) if r.carrier else None
            shipment = Shipment(
                **{f: getattr(r, f) for f in _SHIPMENT},
                status=ShipmentStatus(r.status),
                lines=tuple(lines[r.id]),
                tracking=tracking,
                corrections=corrections[r.id],
            )
            found[r.order_id].append(self.uow.track(shipment, self))
        return found

    async def save(self, shipment: Shipment) -> None:
        row = await self.session.get(ShipmentRow, shipment.id)
        new = row is None
        if new:
            row = ShipmentRow(**{f: getattr(shipment, f) for f in _SHIPMENT})
            self.session.add(row)
        row.status, row.shipped_at, row.shipped_by = shipment.status, shipment.shipped_at, shipment.shipped_by
        row.cancelled_at = shipment.cancelled_at
        t = shipment.tracking
        row.carrier, row.tracking_number, row.tracking_url = (
            (t.carrier, t.tracking_number, t.tracking_url) if t else (None, None, None)
        )
        await self.session.flush()
        if new:
            self.session.add_all(
                ShipmentLineRow(shipment_id=shipment.id, line_id=line.line_id, position=i, quantity=line.quantity)
                for i, line in enumerate(shipment.lines)
            )
        for c in shipment.corrections[self._corrections.get(shipment.id, 0) :]:
            self.session.add(
                ShipmentTrackingRow(
                    shipment_id=shipment.id,
                    at=c.at,
                    by=c.by,
                    old_carrier=c.old.carrier,
                    old_tracking_number=c.old.tracking_number,
                    old_tracking_url=c.old.tracking_url,
                    new_carrier=c.new.carrier,
                    new_tracking_number=c.new.tracking_number,
                    new_tracking_url=c.new.tracking_url,
                )
            )
        self._corrections[shipment.id] = len(shipment.corrections)
        await self.session.flush()


class TermsRepository:
    """Each account's payment terms (a value per account: no aggregate)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    async def days(self, account_id: str) -> int | None:
        """The account's payment terms in days; None: none (shipping waits for payment)."""
        return await self.session.scalar(
            select(AccountTermsRow.payment_terms_days).where(AccountTermsRow.account_id == account_id)
        )

    async def put(self, account_id: str, days: int | None, *, by: str, at: datetime) -> None:
        await self.session.execute(
            insert(AccountTermsRow)
            .values(account_id=account_id, payment_terms_days=days, changed_at=at, changed_by=by)
            .on_conflict_do_update(
                index_elements=["account_id"], set_={"payment_terms_days": days, "changed_at": at, "changed_by": by}
            )
        )


# -- the views ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ViewFilter:
    """What the views' query selects (`orders.service.order_manager.ViewQuery`, resolved: `as_of`
    set, the business timezone's name for payment dates)."""

    view: str
    as_of: date
    timezone: str
    account_id: str | None = None
    channel: str | None = None
    placed_from: date | None = None
    placed_to: date | None = None
    older_than_days: int | None = None


def _has_terms():
    return (
        select(AccountTermsRow.account_id)
        .where(AccountTermsRow.account_id == OrderRow.account_id, AccountTermsRow.payment_terms_days.is_not(None))
        .exists()
    )


def unpaid_condition(as_of: date, timezone: str):
    """Placed by `as_of`, not cancelled, and not paid in full by then (payment_at's business date)."""
    paid_by_then = and_(
        OrderRow.payment_status == PaymentStatus.CLEARED,
        OrderRow.payment_at.is_not(None),
        cast(func.timezone(timezone, OrderRow.payment_at), Date) <= as_of,
    )
    return and_(OrderRow.placed_on <= as_of, OrderRow.status != Status.CANCELLED, not_(paid_by_then))


class OrderViewsQuery:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    async def page(self, f: ViewFilter, page: PageRequest) -> Slice[Order]:
        """A page of the view's orders, newest first (placed_at desc, id)."""
        stmt = select(OrderRow)
        if f.view == "unpaid":
            stmt = stmt.where(unpaid_condition(f.as_of, f.timezone))
        elif f.view == "ready_to_ship":
            stmt = stmt.where(
                OrderRow.status != Status.CANCELLED,
                OrderRow.checkout_status == CheckoutStatus.COMPLETED,
                OrderRow.awaiting_quantity > 0,
                or_(OrderRow.payment_status == PaymentStatus.CLEARED, _has_terms()),
            )
        elif f.view == "shipped":
            stmt = stmt.where(OrderRow.shipping_status.in_([ShippingStatus.PARTIALLY_SHIPPED, ShippingStatus.SHIPPED]))
        elif f.view == "cancelled":
            stmt = stmt.where(OrderRow.status == Status.CANCELLED)
        if f.account_id is not None:
            stmt = stmt.where(OrderRow.account_id == f.account_id)
        if f.channel == "portal":
            stmt = stmt.where(OrderRow.channel.is_(None))
        elif f.channel is not None:
            stmt = stmt.where(OrderRow.channel == f.channel)
        if f.placed_from is not None:
            stmt = stmt.where(OrderRow.placed_on >= f.placed_from)
        if f.placed_to is not None:
            stmt = stmt.where(OrderRow.placed_on <= f.placed_to)
        if f.older_than_days is not None:
            stmt = stmt.where(OrderRow.placed_on <= f.as_of - timedelta(days=f.older_than_days))
        stmt = stmt.order_by(OrderRow.placed_at.desc(), OrderRow.id)
        rows, total = await fetch_page(self.session, stmt, page)
        return Slice(await self.uow.orders.of_rows(rows), total, page.limit, page.offset)

    async def in_progress(self, account_id: str) -> list[Order]:
        """The account's orders with goods not cancelled and not fully shipped, newest first (the statement)."""
        rows = list(
            await self.session.scalars(
                select(OrderRow)
                .where(
                    OrderRow.account_id == account_id,
                    OrderRow.status != Status.CANCELLED,
                    OrderRow.shipping_status.in_(
                        [ShippingStatus.UNSHIPPED, ShippingStatus.PENDING_SHIPMENT, ShippingStatus.PARTIALLY_SHIPPED]
                    ),
                )
                .order_by(OrderRow.placed_at.desc(), OrderRow.id)
            )
        )
        return await self.uow.orders.of_rows(rows)
