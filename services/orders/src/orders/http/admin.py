"""HTTP: the admins' review of service requests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from orders.domain.requests import Status
from orders.http.models import QuestionIn, ReasonIn, RequestHeaderOut, RequestOut
from orders.service.requests import RequestFilter, RequestService
from portal_runtime.auth import Principal, admin_only
from portal_runtime.paging import Page, PageRequest

Req = Request[Principal, object, object]


def _aware(at: datetime | None) -> datetime | None:
    """A time without a zone is taken as UTC."""
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


class AdminRequestController(Controller):
    path = "/v1/admin/requests"
    tags = ["admin"]
    guards = [admin_only]

    @get("/", summary="Requests of every account, filtered and paginated (admin)")
    async def list_all(
        self,
        request: Req,
        service_requests: NamedDependency[RequestService],
        page: NamedDependency[PageRequest],
        status: FromQuery[Status | None] = None,
        account_id: FromQuery[str | None] = None,
        submitted_from: FromQuery[datetime | None] = None,
        submitted_to: FromQuery[datetime | None] = None,
    ) -> Page[RequestHeaderOut]:
        f = RequestFilter(
            status=status,
            account_id=account_id,
            submitted_from=_aware(submitted_from),
            submitted_to=_aware(submitted_to),
        )
        found = await service_requests.list(request.user, f, page)
        return found.map(RequestHeaderOut.of)

    @post("/{request_id:uuid}/approve", status_code=200, summary="Approve a submitted request (admin)")
    async def approve(
        self, request_id: FromPath[uuid.UUID], request: Req, service_requests: NamedDependency[RequestService]
    ) -> RequestOut:
        return RequestOut.of(await service_requests.approve(request.user, request_id))

    @post(
        "/{request_id:uuid}/reject",
        status_code=200,
        summary="Reject a request in review or waiting for an answer, with a reason (admin)",
    )
    async def reject(
        self,
        request_id: FromPath[uuid.UUID],
        data: JSONBody[ReasonIn],
        request: Req,
        service_requests: NamedDependency[RequestService],
    ) -> RequestOut:
        return RequestOut.of(await service_requests.reject(request.user, request_id, data.reason))

    @post("/{request_id:uuid}/ask", status_code=200, summary="Ask the customer for information (admin)")
    async def ask(
        self,
        request_id: FromPath[uuid.UUID],
        data: JSONBody[QuestionIn],
        request: Req,
        service_requests: NamedDependency[RequestService],
    ) -> RequestOut:
        return RequestOut.of(await service_requests.ask(request.user, request_id, data.question))
