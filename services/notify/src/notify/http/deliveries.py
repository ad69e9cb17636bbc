"""HTTP: parse, authorise, call the service, answer. Customers see their own deliveries only (the
use cases scope by the caller)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter
from pydantic import BaseModel, Field

from notify.domain.deliveries import Delivery, Status
from notify.service.deliveries import DeliveryService
from portal_runtime.auth import Principal, admin_only
from portal_runtime.openapi import problems
from portal_runtime.paging import Page, PageRequest


class DeliveryOut(BaseModel):
    id: uuid.UUID
    account_id: str
    template: str
    cause_event_id: uuid.UUID
    audience: str = Field(
        description="`account`, `billing_contact` (an automatic unit plan's contact), `user` (a user of the account), "
        "or `business` (the business's own address: a customer's message in an order's thread; admins only)"
    )
    status: str
    attempts: int
    recipient: str | None
    language: str | None
    subject: str | None
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    sent_at: datetime | None
    failed_at: datetime | None

    @classmethod
    def of(cls, delivery: Delivery) -> DeliveryOut:
        return cls(**{f: getattr(delivery, f) for f in cls.model_fields})


class DeliveryDetail(DeliveryOut):
    text: str | None
    html: str | None


class DeliveryController(Controller):
    path = "/v1/deliveries"
    tags = ["deliveries"]

    @get("/", summary="List deliveries, newest first: admins all (filter by account_id, status); customers their own")
    async def list_deliveries(
        self,
        request: Request[Principal, object, object],
        deliveries: NamedDependency[DeliveryService],
        page: NamedDependency[PageRequest],
        account_id: Annotated[str | None, QueryParameter(min_length=1, max_length=200)] = None,
        status: FromQuery[Status | None] = None,
    ) -> Page[DeliveryOut]:
        found = await deliveries.list_deliveries(request.user, account_id=account_id, status=status, page=page)
        return found.map(DeliveryOut.of)

    @get("/{delivery_id:uuid}", summary="Read one delivery, with its rendered text and HTML")
    async def get_delivery(
        self,
        delivery_id: FromPath[uuid.UUID],
        request: Request[Principal, object, object],
        deliveries: NamedDependency[DeliveryService],
    ) -> DeliveryDetail:
        delivery = await deliveries.get_delivery(request.user, delivery_id)
        return DeliveryDetail(**DeliveryOut.of(delivery).model_dump(), text=delivery.text, html=delivery.html)


class AdminDeliveryController(Controller):
    path = "/v1/admin/deliveries"
    tags = ["deliveries (admin)"]
    guards = [admin_only]

    @post(
        "/{delivery_id:uuid}/retry",
        status_code=200,
        summary="Send a failed delivery again: failed → pending, a fresh round of attempts (admin)",
        responses=problems({409: "The delivery has not failed (`current_status`)"}),
    )
    async def retry_delivery(
        self, delivery_id: FromPath[uuid.UUID], deliveries: NamedDependency[DeliveryService]
    ) -> DeliveryOut:
        return DeliveryOut.of(await deliveries.retry(delivery_id))
