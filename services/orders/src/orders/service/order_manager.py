"""The order manager (admins): its views of the orders (all, unpaid as of a date, ready to ship,
shipped, cancelled) with filters and paging, one order as admins see it (private note, shipments,
how long unpaid), an admin's cancellation with its settlement, and the orders' notes.

    class OrderManagerViews:
        async def list(self, admin: Principal, query: ViewQuery, page: PageRequest) -> Slice[AdminOrderView]

(orders' printing calls it to print a whole view.) `unpaid` as of `as_of`: placed by then, not
cancelled, and not paid in full by then (an order shipped on payment terms and not yet paid is in it,
and in `shipped`); `ready_to_ship`: not cancelled, checkout completed, something awaited, and paid
in full or the account has payment terms now."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, tzinfo

from orders.adapters.order_manager_repository import OrderViewsQuery, ViewFilter
from orders.domain import shipments as shipping
from orders.domain.b2b_orders import PaymentStatus
from orders.domain.orders import Order, Status
from orders.domain.shipments import Shipment
from portal_runtime.auth import Principal
from portal_runtime.clock import Clock, SystemClock, business_date
from portal_runtime.errors import InvalidInput, NotFound
from portal_runtime.paging import PageRequest, Slice
from portal_runtime.uow import UnitsOfWork

VIEWS = ("all", "unpaid", "ready_to_ship", "shipped", "cancelled")
PORTAL = "portal"  # the channel filter of orders placed in the portal (no channel)


@dataclass(frozen=True)
class ViewQuery:
    """A view with its filters: `placed_from`/`placed_to` inclusive on the business date placed,
    `older_than_days` (placed_on ≤ as_of − N), `as_of` (None: today's business date)."""

    view: str = "all"
    account_id: str | None = None
    channel: str | None = None  # "portal": placed in the portal
    placed_from: date | None = None
    placed_to: date | None = None
    older_than_days: int | None = None
    as_of: date | None = None


@dataclass(frozen=True)
class AdminOrderView:
    """An order as the order manager shows it: the order (private note included), its invoice (None
    until billing issued it), its shipments in sequence, and the days unpaid as of the view's date
    (None when paid by then, or cancelled)."""

    order: Order
    invoice_id: uuid.UUID | None
    shipments: tuple[Shipment, ...]
    unpaid_days: int | None


class OrderManagerViews:
    def __init__(self, uow: UnitsOfWork, clock: Clock | None, tz: tzinfo) -> None:
        self.uow = uow
        self.clock = clock or SystemClock()
        self.tz = tz

    def today(self) -> date:
        return business_date(self.clock.now(), self.tz)

    def _filter(self, admin: Principal, query: ViewQuery) -> ViewFilter:
        if query.view not in VIEWS:
            raise InvalidInput(f"view is one of {', '.join(VIEWS)}", field="view")
        if query.placed_from and query.placed_to and query.placed_from > query.placed_to:
            raise InvalidInput("placed_from is on or before placed_to", field="placed_from")
        if query.older_than_days is not None and query.older_than_days < 0:
            raise InvalidInput("older_than_days is 0 or more", field="older_than_days")
        return ViewFilter(
            view=query.view,
            as_of=query.as_of or self.today(),
            timezone=getattr(self.tz, "key", "UTC"),
            account_id=admin.scope(query.account_id).account_id,
            channel=query.channel,
            placed_from=query.placed_from,
            placed_to=query.placed_to,
            older_than_days=query.older_than_days,
        )

    async def list(self, admin: Principal, query: ViewQuery, page: PageRequest) -> Slice[AdminOrderView]:
        """A page of the view (newest first: placed_at desc, id). 422 naming `view`, `placed_from`
        (after placed_to) or `older_than_days` (negative)."""
        f = self._filter(admin, query)
        if admin.scope(query.account_id).empty:
            return Slice.empty(page)
        async with self.uow() as uow:
            found = await OrderViewsQuery(uow).page(f, page)
            views = await _views(uow, list(found.items), f.as_of, self.tz)
        return Slice(views, found.total, found.limit, found.offset)

    async def get(self, admin: Principal, order_id: uuid.UUID, as_of: date | None = None) -> AdminOrderView:
        async with self.uow() as uow:
            order = await uow.orders.get(order_id)
            if order is None or not admin.owns(order.account_id):
                raise NotFound(f"no order {order_id}", field="order_id")
            return (await _views(uow, [order], as_of or self.today(), self.tz))[0]


def unpaid_days(order: Order, as_of: date, tz: tzinfo) -> int | None:
    """as_of − placed_on while the order is unpaid as of `as_of` (the views' rule), else None."""
    if order.status == Status.CANCELLED or order.placed_on > as_of:
        return None
    paid = order.payment_status == PaymentStatus.CLEARED and order.payment_at is not None
    if paid and business_date(order.payment_at, tz) <= as_of:
        return None
    return (as_of - order.placed_on).days


async def _views(uow, orders: list[Order], as_of: date, tz: tzinfo) -> list[AdminOrderView]:
    invoices = await uow.invoices.of_orders(o.id for o in orders)
    shipments = await uow.shipments.of_orders(o.id for o in orders)
    return [
        AdminOrderView(
            order,
            invoices[order.id][-1].invoice_id if invoices[order.id] else None,
            tuple(shipments[order.id]),
            unpaid_days(order, as_of, tz),
        )
        for order in orders
    ]


class OrderManager:
    """An admin's commands on an order: cancel with a reason (and a settlement when money was paid),
    and its notes."""

    def __init__(self, uow: UnitsOfWork, clock: Clock | None, tz: tzinfo) -> None:
        self.uow = uow
        self.clock = clock or SystemClock()
        self.tz = tz

    async def cancel(
        self, admin: Principal, order_id: uuid.UUID, reason: str, settlement: str | None = None
    ) -> AdminOrderView:
        """OrderCancelled (reason admin, `reason` as its note, the settlement); its pending shipments
        are cancelled with it. 409 once anything shipped or when cancelled already; 422 `reason`
        (empty, over 500), `settlement` (missing for an order with money paid on it)."""
        text = (reason or "").strip()
        if not 1 <= len(text) <= 500:
            raise InvalidInput("reason has 1 to 500 characters", field="reason")
        now = self.clock.now()
        async with self.uow() as uow:
            order = await _locked(uow, order_id)
            shipments = await uow.shipments.of_order(order.id)
            order.cancel("admin", by=admin.actor, now=now, note=text, settlement=settlement)
            shipping.cancelled(shipments, by=admin.actor, now=now)
            shipping.refresh(order, shipments, by=admin.actor, now=now)
            await uow.commit()
            return (await _views(uow, [order], business_date(now, self.tz), self.tz))[0]

    async def set_notes(self, admin: Principal, order_id: uuid.UUID, **notes: str | None) -> AdminOrderView:
        """Set `public_note` and/or `private_note` (None clears; a key not given keeps the note)."""
        now = self.clock.now()
        async with self.uow() as uow:
            order = await _locked(uow, order_id)
            order.set_notes(by=admin.actor, now=now, **notes)
            await uow.commit()
            return (await _views(uow, [order], business_date(now, self.tz), self.tz))[0]


async def _locked(uow, order_id: uuid.UUID) -> Order:
    order = await uow.orders.get(order_id, for_update=True)
    if order is None:
        raise NotFound(f"no order {order_id}", field="order_id")
    return order
