"""The client area's orders, read: a customer its own account's, an admin every account's (or
`account_id`'s); another account's order answers 404 like a missing one. Admins hold an order's
checkout and release it (`orders.domain.b2b_orders`), each a history row."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from orders.domain import b2b_orders
from orders.domain.orders import Order, Status
from portal_runtime.auth import Principal
from portal_runtime.clock import Clock, SystemClock
from portal_runtime.errors import NotFound
from portal_runtime.paging import PageRequest, Slice
from portal_runtime.uow import UnitsOfWork


@dataclass(frozen=True)
class OrderView:
    order: Order
    invoice_id: uuid.UUID | None  # None until billing issued the order's invoice


class OrderService:
    def __init__(self, uow: UnitsOfWork, clock: Clock | None = None) -> None:
        self.uow = uow
        self.clock = clock or SystemClock()

    async def list(
        self, actor: Principal, page: PageRequest, *, status: Status | None = None, account_id: str | None = None
    ) -> Slice[OrderView]:
        scope = actor.scope(account_id)
        if scope.empty:
            return Slice.empty(page)
        async with self.uow() as uow:
            found = await uow.orders.page(scope, page, status=status)
            invoices = await uow.invoices.of_orders(o.id for o in found.items)
        views = [OrderView(o, invoices[o.id][-1].invoice_id if invoices[o.id] else None) for o in found.items]
        return Slice(views, found.total, found.limit, found.offset)

    async def get(self, actor: Principal, order_id: uuid.UUID) -> OrderView:
        async with self.uow() as uow:
            order = await uow.orders.get(order_id)
            if order is None or not actor.owns(order.account_id):
                raise NotFound(f"no order {order_id}", field="order_id")
            invoices = (await uow.invoices.of_orders([order.id]))[order.id]
        return OrderView(order, invoices[-1].invoice_id if invoices else None)

    async def hold(self, admin: Principal, order_id: uuid.UUID, note: str | None = None) -> OrderView:
        return await self._checkout(admin, order_id, b2b_orders.hold, note)

    async def release(self, admin: Principal, order_id: uuid.UUID, note: str | None = None) -> OrderView:
        return await self._checkout(admin, order_id, b2b_orders.release, note)

    async def _checkout(self, admin: Principal, order_id: uuid.UUID, move, note: str | None) -> OrderView:
        async with self.uow() as uow:
            order = await uow.orders.get(order_id, for_update=True)
            if order is None:
                raise NotFound(f"no order {order_id}", field="order_id")
            move(order, by=admin.actor, now=self.clock.now(), note=note)
            await uow.commit()
            invoices = (await uow.invoices.of_orders([order.id]))[order.id]
        return OrderView(order, invoices[-1].invoice_id if invoices else None)
