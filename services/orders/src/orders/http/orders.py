"""HTTP: the client area's orders (a customer its own; admins every account's, or `account_id`'s),
a reorder of one into the cart, and the admins' hold and release of an order's checkout."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import Body, FromPath, FromQuery, QueryParameter

from orders.domain.orders import Status
from orders.http.b2b_orders_models import HoldIn, ReorderOut
from orders.http.models import OrderOut, OrderStatus
from orders.service.orders import OrderService
from orders.service.reorder import ReorderService
from portal_runtime.auth import Principal, admin_only
from portal_runtime.openapi import problems
from portal_runtime.paging import Page, PageRequest

Req = Request[Principal, object, object]
NO_ORDER = "No such order, or another account's"


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

    @get("/{order_id:uuid}", summary="One order with its lines, statuses, invoice and history (owner or admin)")
    async def get_order(
        self, order_id: FromPath[uuid.UUID], request: Req, client_orders: NamedDependency[OrderService]
    ) -> OrderOut:
        return OrderOut.of(await client_orders.get(request.user, order_id))

    @post(
        "/{order_id:uuid}/reorder",
        status_code=200,
        summary="Put the order's goods and new services into the cart again, at today's prices; answers the cart "
        "and the lines skipped (invisible, retired, not_offered). The order placed from that cart is a reorder",
        responses=problems({404: NO_ORDER}),
    )
    async def reorder_order(
        self, order_id: FromPath[uuid.UUID], request: Req, reorders: NamedDependency[ReorderService]
    ) -> ReorderOut:
        return ReorderOut.of(await reorders.reorder(request.user, order_id))


Note = Annotated[HoldIn | None, Body(description="optional: a note for the history row")]


class AdminOrderController(Controller):
    path = "/v1/admin/orders"
    tags = ["orders (admin)"]
    guards = [admin_only]

    @post(
        "/{order_id:uuid}/hold",
        status_code=200,
        summary="Put an order's checkout on hold (admin; a history row)",
        responses=problems({404: "No such order", 409: "On hold already, or cancelled (`current_status`)"}),
    )
    async def hold_order(
        self,
        order_id: FromPath[uuid.UUID],
        request: Req,
        client_orders: NamedDependency[OrderService],
        data: Note = None,
    ) -> OrderOut:
        return OrderOut.of(await client_orders.hold(request.user, order_id, data.note if data else None))

    @post(
        "/{order_id:uuid}/release",
        status_code=200,
        summary="Release a held order's checkout (admin; a history row)",
        responses=problems({404: "No such order", 409: "Not on hold, or cancelled (`current_status`)"}),
    )
    async def release_order(
        self,
        order_id: FromPath[uuid.UUID],
        request: Req,
        client_orders: NamedDependency[OrderService],
        data: Note = None,
    ) -> OrderOut:
        return OrderOut.of(await client_orders.release(request.user, order_id, data.note if data else None))
