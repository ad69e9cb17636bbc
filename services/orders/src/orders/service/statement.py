"""The order statement of an account: each order in progress (goods, not cancelled, not fully
shipped), newest first, with its goods lines: ordered, shipped (shipped shipments only) and awaiting
(ordered − shipped: a pending shipment is still awaited from the customer's side)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from orders.adapters.order_manager_repository import OrderViewsQuery
from orders.domain import shipments as shipping
from orders.domain.orders import Order
from portal_runtime.auth import Principal
from portal_runtime.errors import InvalidInput
from portal_runtime.uow import UnitsOfWork


@dataclass(frozen=True)
class StatementLine:
    line_id: uuid.UUID
    item_id: uuid.UUID
    sku: str | None
    name: str
    ordered: int
    shipped: int
    awaiting: int


@dataclass(frozen=True)
class StatementOrder:
    order: Order
    lines: tuple[StatementLine, ...]


@dataclass(frozen=True)
class Statement:
    account_id: str
    orders: tuple[StatementOrder, ...]


class StatementService:
    def __init__(self, uow: UnitsOfWork) -> None:
        self.uow = uow

    async def statement(self, actor: Principal, account_id: str | None = None) -> Statement:
        """A customer's own account's (another `account_id` shows nothing); an admin names the
        account (422 `account_id` without)."""
        if actor.is_admin and not account_id:
            raise InvalidInput("an admin names the account of the statement", field="account_id")
        scope = actor.scope(account_id)
        if scope.empty:
            return Statement(account_id or actor.account_id, ())
        account = scope.account_id or actor.account_id
        async with self.uow() as uow:
            orders = await OrderViewsQuery(uow).in_progress(account)
            shipments = await uow.shipments.of_orders(o.id for o in orders)
        found = []
        for order in orders:
            done = shipping.shipped(shipments[order.id])
            lines = tuple(
                StatementLine(
                    line_id=line.line_id,
                    item_id=line.item_id,
                    sku=line.sku,
                    name=line.name,
                    ordered=line.quantity,
                    shipped=done.get(line.line_id, 0),
                    awaiting=line.quantity - done.get(line.line_id, 0),
                )
                for line in shipping.goods(order)
            )
            found.append(StatementOrder(order, lines))
        return Statement(account, tuple(found))
