"""HTTP: a customer's service requests (another account's answer 404)."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, Request, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from orders.http.models import (
    AnswerIn,
    NewRequestIn,
    QuantityIn,
    RequestHeaderOut,
    RequestOut,
    RequestPage,
    TransitionOut,
)
from orders.service.requests import RequestService
from portal_runtime.auth import Principal
from portal_runtime.web import correlation_id

Req = Request[Principal, object, object]


class RequestController(Controller):
    path = "/v1/requests"
    tags = ["requests"]

    @post("/", summary="Start a draft request, optionally with lines")
    async def create(
        self, request: Req, requests: NamedDependency[RequestService], data: JSONBody[NewRequestIn | None] = None
    ) -> RequestOut:
        lines = [(line.item_id, line.quantity) for line in (data.lines if data else [])]
        return RequestOut.of(await requests.create(request.user, lines, correlation_id=correlation_id(request)))

    @get("/", summary="The caller's requests: status and dates")
    async def list_own(
        self,
        request: Req,
        requests: NamedDependency[RequestService],
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        offset: Annotated[int, QueryParameter(ge=0)] = 0,
    ) -> RequestPage:
        items, total = await requests.list_own(request.user, limit=limit, offset=offset)
        return RequestPage(items=[RequestHeaderOut.of(h) for h in items], total=total, limit=limit, offset=offset)

    @get("/{request_id:uuid}", summary="One request with its lines and total (owner or admin)")
    async def read(
        self, request_id: FromPath[uuid.UUID], request: Req, requests: NamedDependency[RequestService]
    ) -> RequestOut:
        return RequestOut.of(await requests.get(request.user, request_id))

    @get("/{request_id:uuid}/history", summary="The request's transitions (owner or admin)")
    async def history(
        self, request_id: FromPath[uuid.UUID], request: Req, requests: NamedDependency[RequestService]
    ) -> list[TransitionOut]:
        return [TransitionOut.of(t) for t in await requests.history(request.user, request_id)]

    @put("/{request_id:uuid}/lines/{item_id:uuid}", summary="Add a line or change its quantity (draft)")
    async def set_line(
        self,
        request_id: FromPath[uuid.UUID],
        item_id: FromPath[uuid.UUID],
        data: JSONBody[QuantityIn],
        request: Req,
        requests: NamedDependency[RequestService],
    ) -> RequestOut:
        view = await requests.set_line(
            request.user, request_id, item_id, data.quantity, correlation_id=correlation_id(request)
        )
        return RequestOut.of(view)

    @delete("/{request_id:uuid}/lines/{item_id:uuid}", status_code=200, summary="Remove a line (draft)")
    async def remove_line(
        self,
        request_id: FromPath[uuid.UUID],
        item_id: FromPath[uuid.UUID],
        request: Req,
        requests: NamedDependency[RequestService],
    ) -> RequestOut:
        view = await requests.remove_line(request.user, request_id, item_id, correlation_id=correlation_id(request))
        return RequestOut.of(view)

    @delete("/{request_id:uuid}", status_code=200, summary="Discard a draft")
    async def discard(
        self, request_id: FromPath[uuid.UUID], request: Req, requests: NamedDependency[RequestService]
    ) -> RequestOut:
        return RequestOut.of(await requests.discard(request.user, request_id, correlation_id=correlation_id(request)))

    @post("/{request_id:uuid}/submit", status_code=200, summary="Submit a draft for review")
    async def submit(
        self, request_id: FromPath[uuid.UUID], request: Req, requests: NamedDependency[RequestService]
    ) -> RequestOut:
        return RequestOut.of(await requests.submit(request.user, request_id, correlation_id=correlation_id(request)))

    @post("/{request_id:uuid}/answer", status_code=200, summary="Answer the reviewer's question")
    async def answer(
        self,
        request_id: FromPath[uuid.UUID],
        data: JSONBody[AnswerIn],
        request: Req,
        requests: NamedDependency[RequestService],
    ) -> RequestOut:
        view = await requests.answer(request.user, request_id, data.answer, correlation_id=correlation_id(request))
        return RequestOut.of(view)
