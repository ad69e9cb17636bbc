"""HTTP: an order's thread between the business and the customer. A customer reads and writes on
its own account's orders (another account's: 404, as an unknown one); an admin on any order, for
the business. Each post is emailed to the other side (OrderMessagePosted)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from pydantic import BaseModel, Field

from orders.domain.messages import BODY_LENGTH, OrderMessage
from orders.http.models import Strict
from orders.service.messages import MessageService
from portal_runtime.auth import Principal, admin_only
from portal_runtime.openapi import problems
from portal_runtime.paging import Page, PageRequest

Req = Request[Principal, object, object]
NO_ORDER = {404: "No such order, or another account's"}
POSTED = problems({**NO_ORDER, 422: f"`body` empty or longer than {BODY_LENGTH} characters once stripped"})


class OrderMessageIn(Strict):
    body: str = Field(description=f"the message: 1 to {BODY_LENGTH} characters once stripped of surrounding blanks")


class OrderMessageOut(BaseModel):
    message_id: uuid.UUID
    order_id: uuid.UUID
    account_id: str
    side: Literal["business", "customer"] = Field(description="business: an admin wrote it; customer: the account")
    author: str = Field(description="who wrote it: account/user")
    author_name: str | None = Field(description="the portal user's name; none for the business side")
    body: str
    posted_at: datetime

    @classmethod
    def of(cls, m: OrderMessage) -> OrderMessageOut:
        return cls(
            message_id=m.id,
            order_id=m.order_id,
            account_id=m.account_id,
            side=m.side,
            author=m.author,
            author_name=m.author_name,
            body=m.body,
            posted_at=m.posted_at,
        )


class OrderMessageController(Controller):
    path = "/v1/orders"
    tags = ["orders"]

    @get(
        "/{order_id:uuid}/messages",
        summary="The order's thread with the business, oldest first (owner or admin)",
        responses=problems(NO_ORDER),
    )
    async def list_order_messages(
        self,
        order_id: FromPath[uuid.UUID],
        request: Req,
        order_messages: NamedDependency[MessageService],
        page: NamedDependency[PageRequest],
    ) -> Page[OrderMessageOut]:
        return (await order_messages.thread(request.user, order_id, page)).map(OrderMessageOut.of)

    @post(
        "/{order_id:uuid}/messages",
        summary="Write to the business about the order (OrderMessagePosted: the business is emailed)",
        responses=POSTED,
    )
    async def post_order_message(
        self,
        order_id: FromPath[uuid.UUID],
        data: JSONBody[OrderMessageIn],
        request: Req,
        order_messages: NamedDependency[MessageService],
    ) -> OrderMessageOut:
        return OrderMessageOut.of(await order_messages.post(request.user, order_id, data.body))


class AdminOrderMessageController(Controller):
    path = "/v1/admin/orders"
    tags = ["orders (admin)"]
    guards = [admin_only]

    @get(
        "/{order_id:uuid}/messages",
        summary="An order's thread with its customer, oldest first",
        responses=problems({404: "No such order"}),
    )
    async def list_admin_order_messages(
        self,
        order_id: FromPath[uuid.UUID],
        request: Req,
        order_messages: NamedDependency[MessageService],
        page: NamedDependency[PageRequest],
    ) -> Page[OrderMessageOut]:
        return (await order_messages.thread(request.user, order_id, page)).map(OrderMessageOut.of)

    @post(
        "/{order_id:uuid}/messages",
        summary="Write to the order's customer for the business (OrderMessagePosted: the account's users are emailed)",
        responses=problems({404: "No such order", 422: f"`body` empty or longer than {BODY_LENGTH} characters"}),
    )
    async def post_admin_order_message(
        self,
        order_id: FromPath[uuid.UUID],
        data: JSONBody[OrderMessageIn],
        request: Req,
        order_messages: NamedDependency[MessageService],
    ) -> OrderMessageOut:
        return OrderMessageOut.of(await order_messages.post(request.user, order_id, data.body))
