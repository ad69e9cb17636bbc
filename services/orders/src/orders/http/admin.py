"""HTTP: the admins' review of service requests."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import ValidationException
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from orders.domain.requests import Status
from orders.http.models import QuestionIn, ReasonIn, RequestHeaderOut, RequestOut
from orders.service.requests import RequestFilter, RequestService
from portal_runtime.auth import Principal, admin_only
from portal_runtime.openapi import problems
from portal_runtime.paging import Page, PageRequest

Req = Request[Principal, object, object]


# A time as RFC 3339 writes it (what `format: date-time` means); Litestar's own datetime would
# also take a number as a Unix time, which the document does not offer.
Moment = Annotated[str | None, QueryParameter(format="date-time", description="e.g. 2026-03-01T00:00:00Z")]
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _moment(name: str, raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        if not _RFC3339.match(raw):
            raise ValueError(raw)
        return datetime.fromisoformat(raw.upper().replace("Z", "+00:00"))
    except ValueError:
        message = "a date-time with its offset, e.g. 2026-03-01T00:00:00Z"
        raise ValidationException(
            f"{name} is not a date-time", extra=[{"key": name, "message": message, "source": "query"}]
        ) from None


class AdminRequestController(Controller):
    path = "/v1/admin/requests"
    tags = ["requests (admin)"]
    guards = [admin_only]

    @get("/", summary="Requests of every account, filtered and paginated (admin)")
    async def list_all_requests(
        self,
        request: Req,
        service_requests: NamedDependency[RequestService],
        page: NamedDependency[PageRequest],
        status: FromQuery[Status | None] = None,
        account_id: FromQuery[str | None] = None,
        submitted_from: Moment = None,
        submitted_to: Moment = None,
    ) -> Page[RequestHeaderOut]:
        f = RequestFilter(
            status=status,
            account_id=account_id,
            submitted_from=_moment("submitted_from", submitted_from),
            submitted_to=_moment("submitted_to", submitted_to),
        )
        found = await service_requests.list(request.user, f, page)
        return found.map(RequestHeaderOut.of)

    @post(
        "/{request_id:uuid}/approve",
        status_code=200,
        summary="Approve a submitted request (admin)",
        responses=problems({409: "The request is not submitted (`current_status`)"}),
    )
    async def approve_request(
        self, request_id: FromPath[uuid.UUID], request: Req, service_requests: NamedDependency[RequestService]
    ) -> RequestOut:
        return RequestOut.of(await service_requests.approve(request.user, request_id))

    @post(
        "/{request_id:uuid}/reject",
        status_code=200,
        summary="Reject a request in review or waiting for an answer, with a reason (admin)",
        responses=problems({409: "The request is neither submitted nor waiting for an answer (`current_status`)"}),
    )
    async def reject_request(
        self,
        request_id: FromPath[uuid.UUID],
        data: JSONBody[ReasonIn],
        request: Req,
        service_requests: NamedDependency[RequestService],
    ) -> RequestOut:
        return RequestOut.of(await service_requests.reject(request.user, request_id, data.reason))

    @post(
        "/{request_id:uuid}/ask",
        status_code=200,
        summary="Ask the customer for information (admin)",
        responses=problems({409: "The request is not submitted (`current_status`)"}),
    )
    async def ask_question(
        self,
        request_id: FromPath[uuid.UUID],
        data: JSONBody[QuestionIn],
        request: Req,
        service_requests: NamedDependency[RequestService],
    ) -> RequestOut:
        return RequestOut.of(await service_requests.ask(request.user, request_id, data.question))
