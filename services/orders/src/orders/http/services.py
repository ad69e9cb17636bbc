"""HTTP: the client area's services (parents with their add-ons), a service's page, the client's
cancellation at period end, the admins' moves, and the featured items of the banner."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from orders.domain.subscriptions import Status
from orders.http.models import (
    FeaturedItemOut,
    FeaturedItemsOut,
    OfferedAddOnOut,
    OfferedAddOnsOut,
    ServiceCountsOut,
    ServiceListOut,
    ServiceOut,
    ServicePageOut,
    ServiceStatus,
    SuspensionIn,
)
from orders.service.featured import FeaturedService
from orders.service.services import ServiceService
from portal_runtime.auth import Principal, admin_only
from portal_runtime.openapi import problems
from portal_runtime.paging import Page, PageRequest

Req = Request[Principal, object, object]
MOVE_REFUSED = "The service's status has no such move (`current_status`)"


class FeaturedController(Controller):
    path = "/v1/featured-items"
    tags = ["services"]

    @get("/", summary="The featured items the caller can buy, with the text in its account's language")
    async def list_featured_items(self, request: Req, featured: NamedDependency[FeaturedService]) -> FeaturedItemsOut:
        return FeaturedItemsOut(items=[FeaturedItemOut.of(i) for i in await featured.list(request.user)])


class ServiceController(Controller):
    path = "/v1/services"
    tags = ["services"]

    @get("/", summary="The caller's services with their add-ons, filtered by status (admins: every account's)")
    async def list_services(
        self,
        request: Req,
        services: NamedDependency[ServiceService],
        page: NamedDependency[PageRequest],
        status: Annotated[ServiceStatus | None, QueryParameter(description="only services in this status")] = None,
        account_id: FromQuery[str | None] = None,
    ) -> Page[ServiceOut]:
        found = await services.list(
            request.user, page, status=Status(status) if status else None, account_id=account_id
        )
        return found.map(ServiceOut.of)

    @get("/counts", summary="How many services (add-ons not counted) the caller has in each status")
    async def count_services(
        self, request: Req, services: NamedDependency[ServiceService], account_id: FromQuery[str | None] = None
    ) -> ServiceCountsOut:
        counts = await services.counts(request.user, account_id)
        return ServiceCountsOut(counts=counts, total=sum(counts.values()))

    @get("/renewable", summary="The caller's services the cart renews early today (inside their window)")
    async def list_renewable_services(self, request: Req, services: NamedDependency[ServiceService]) -> ServiceListOut:
        return ServiceListOut(items=[ServiceOut.of(v) for v in await services.renewable(request.user)])

    @get(
        "/{subscription_id:uuid}",
        summary="One service: its add-ons, history, invoices, orders and renewal window (owner or admin)",
    )
    async def get_service(
        self, subscription_id: FromPath[uuid.UUID], request: Req, services: NamedDependency[ServiceService]
    ) -> ServicePageOut:
        return ServicePageOut.of(await services.get(request.user, subscription_id))

    @get("/{subscription_id:uuid}/add-ons", summary="The add-ons offered for the service's product")
    async def list_service_add_ons(
        self, subscription_id: FromPath[uuid.UUID], request: Req, services: NamedDependency[ServiceService]
    ) -> OfferedAddOnsOut:
        found = await services.add_ons_offered(request.user, subscription_id)
        return OfferedAddOnsOut(items=[OfferedAddOnOut.of(o) for o in found])

    @post(
        "/{subscription_id:uuid}/cancellation",
        status_code=200,
        summary="Cancel at the end of the period: no renewal; the service ends on its due date (`ends_on`)",
        responses=problems({409: "A one-time service, or one that has ended (`current_status`)"}),
    )
    async def cancel_service_at_period_end(
        self, subscription_id: FromPath[uuid.UUID], request: Req, services: NamedDependency[ServiceService]
    ) -> ServiceOut:
        return ServiceOut.of(await services.cancel_at_period_end(request.user, subscription_id))


class AdminServiceController(Controller):
    path = "/v1/admin/services"
    tags = ["services (admin)"]
    guards = [admin_only]

    @post(
        "/{subscription_id:uuid}/cancel",
        status_code=200,
        summary="Cancel a service at once, with its add-ons (admin)",
        responses=problems({409: MOVE_REFUSED}),
    )
    async def cancel_service(
        self, subscription_id: FromPath[uuid.UUID], request: Req, services: NamedDependency[ServiceService]
    ) -> ServiceOut:
        return ServiceOut.of(await services.cancel_now(request.user, subscription_id))

    @post(
        "/{subscription_id:uuid}/suspend",
        status_code=200,
        summary="Suspend a service and its active add-ons for a reason; a payment does not lift it (admin)",
        responses=problems({409: MOVE_REFUSED, 422: 'The reason is "overdue", the overdue job\'s own (`reason`)'}),
    )
    async def suspend_service(
        self,
        subscription_id: FromPath[uuid.UUID],
        data: JSONBody[SuspensionIn],
        request: Req,
        services: NamedDependency[ServiceService],
    ) -> ServiceOut:
        return ServiceOut.of(await services.suspend(request.user, subscription_id, data.reason))

    @post(
        "/{subscription_id:uuid}/reactivate",
        status_code=200,
        summary="Lift a suspension, with the add-ons suspended with it (admin)",
        responses=problems({409: MOVE_REFUSED}),
    )
    async def reactivate_service(
        self, subscription_id: FromPath[uuid.UUID], request: Req, services: NamedDependency[ServiceService]
    ) -> ServiceOut:
        return ServiceOut.of(await services.reactivate(request.user, subscription_id))
