"""HTTP: a customer's service requests (another account's answer 404)."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from orders.http.models import AnswerIn, NewRequestIn, QuantityIn, RequestHeaderOut, RequestOut, TransitionOut
from orders.service.requests import RequestFilter, RequestService
from portal_runtime.auth import Principal
from portal_runtime.paging import Page, PageRequest

Req = Request[Principal, object, object]


class RequestController(Controller):
    path = "/v1/requests"
    tags = ["requests"]

    @post("/", summary="Start a draft request, optionally with lines")
    async def create(
        self,
        request: Req,
        service_requests: NamedDependency[RequestService],
        data: JSONBody[NewRequestIn | None] = None,
    ) -> RequestOut:
        lines = [(line.item_id, line.quantity) for line in (data.lines if data else [])]
        return RequestOut.of(await service_requests.create(request.user, lines))

    @get("/", summary="The caller's requests: status and dates (admins: every account's, or account_id's)")
    async def list_own(
        self,
        request: Req,
        service_requests: NamedDependency[RequestService],
        page: NamedDependency[PageRequest],
        account_id: FromQuery[str | None] = None,
    ) -> Page[RequestHeaderOut]:
        found = await service_requests.list(request.user, RequestFilter(account_id=account_id), page)
        return found.map(RequestHeaderOut.of)

    @get("/{request_id:uuid}", summary="One request with its lines and total (owner or admin)")
    async def read(
        self, request_id: FromPath[uuid.UUID], request: Req, service_requests: NamedDependency[RequestService]
    ) -> RequestOut:
        return RequestOut.of(await service_requests.get(request.user, request_id))

    @get("/{request_id:uuid}/history", summary="The request's transitions, oldest first (owner or admin)")
    async def history(
        self,
        request_id: FromPath[uuid.UUID],
        request: Req,
        service_requests: NamedDependency[RequestService],
        page: NamedDependency[PageRequest],
    ) -> Page[TransitionOut]:
        found = await service_requests.history(request.user, request_id, page)
        return found.map(TransitionOut.of)

    @put("/{request_id:uuid}/lines/{item_id:uuid}", summary="Add a line or change its quantity (draft)")
    async def set_line(
        self,
        request_id: FromPath[uuid.UUID],
        item_id: FromPath[uuid.UUID],
        data: JSONBody[QuantityIn],
        request: Req,
        service_requests: NamedDependency[RequestService],
    ) -> RequestOut:
        return RequestOut.of(await service_requests.set_line(request.user, request_id, item_id, data.quantity))

    @delete("/{request_id:uuid}/lines/{item_id:uuid}", status_code=200, summary="Remove a line (draft)")
    async def remove_line(
        self,
        request_id: FromPath[uuid.UUID],
        item_id: FromPath[uuid.UUID],
        request: Req,
        service_requests: NamedDependency[RequestService],
    ) -> RequestOut:
        return RequestOut.of(await service_requests.remove_line(request.user, request_id, item_id))

    @delete("/{request_id:uuid}", status_code=200, summary="Discard a draft")
    async def discard(
        self, request_id: FromPath[uuid.UUID], request: Req, service_requests: NamedDependency[RequestService]
    ) -> RequestOut:
        return RequestOut.of(await service_requests.discard(request.user, request_id))

    @post("/{request_id:uuid}/submit", status_code=200, summary="Submit a draft for review")
    async def submit(
        self, request_id: FromPath[uuid.UUID], request: Req, service_requests: NamedDependency[RequestService]
    ) -> RequestOut:
        return RequestOut.of(await service_requests.submit(request.user, request_id))

    @post("/{request_id:uuid}/answer", status_code=200, summary="Answer the reviewer's question")
    async def answer(
        self,
        request_id: FromPath[uuid.UUID],
        data: JSONBody[AnswerIn],
        request: Req,
        service_requests: NamedDependency[RequestService],
    ) -> RequestOut:
        return RequestOut.of(await service_requests.answer(request.user, request_id, data.answer))
