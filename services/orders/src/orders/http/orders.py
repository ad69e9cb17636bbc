"""HTTP: the client area's orders (a customer its own; admins every account's, or `account_id`'s)."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter

from orders.domain.orders import Status
from orders.http.models import OrderOut, OrderStatus
from orders.service.orders import OrderService
from portal_runtime.auth import Principal
from portal_runtime.paging import Page, PageRequest

Req = Request[Principal, object, object]


class OrderController(Controller):
    path = "/v1/orders"
    tags = ["orders"]

    @get("/", summary="The caller's orders, newest first, filtered by status (admins: every account's)")
    async def list_orders(
        self,
        request: Req,
        client_orders: NamedDependency[OrderService],
        page: NamedDependency[PageRequest],
        status: Annotated[OrderStatus | None, QueryParameter(description="only orders in this status")] = None,
        account_id: FromQuery[str | None] = None,
    ) -> Page[OrderOut]:
        found = await client_orders.list(
            request.user, page, status=Status(status) if status else None, account_id=account_id
        )
        return found.map(OrderOut.of)

    @get("/{order_id:uuid}", summary="One order with its lines, invoice and history (owner or admin)")
    async def get_order(
        self, order_id: FromPath[uuid.UUID], request: Req, client_orders: NamedDependency[OrderService]
    ) -> OrderOut:
        return OrderOut.of(await client_orders.get(request.user, order_id))
