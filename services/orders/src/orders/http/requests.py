"""HTTP: a customer's service requests (another account's answer 404)."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from orders.http.models import AnswerIn, NewRequestIn, QuantityIn, RequestHeaderOut, RequestOut, TransitionOut
from orders.service.requests import RequestFilter, RequestService
from portal_runtime.auth import Principal
from portal_runtime.openapi import problem_spec, problems
from portal_runtime.paging import Page, PageRequest

Req = Request[Principal, object, object]

NOT_A_DRAFT = {409: "The request is not a draft (`current_status`): its lines no longer change"}
# An item created a moment ago is unknown to orders until its copy of the catalog has it.
NOT_OFFERED_YET = problem_spec(
    "The request is not a draft (`current_status`), or an item is not offered yet (`not-offered-yet`): "
    "orders' copy of the catalog does not know it, as for an item created a moment ago (its copy arrives "
    "about 0.2 s later); the same request may succeed after `Retry-After` seconds. A retired item is a 422",
    headers={"Retry-After": "on `not-offered-yet`: seconds after which the same request may succeed"},
)


class RequestController(Controller):
    path = "/v1/requests"
    tags = ["requests"]

    @post("/", summary="Start a draft request, optionally with lines", responses={409: NOT_OFFERED_YET})
    async def create_request(
        self,
        request: Req,
        service_requests: NamedDependency[RequestService],
        data: JSONBody[NewRequestIn | None] = None,
    ) -> RequestOut:
        lines = [(line.item_id, line.quantity) for line in (data.lines if data else [])]
        return RequestOut.of(await service_requests.create(request.user, lines))

    @get("/", summary="The caller's requests: status and dates (admins: every account's, or account_id's)")
    async def list_requests(
        self,
        request: Req,
        service_requests: NamedDependency[RequestService],
        page: NamedDependency[PageRequest],
        account_id: FromQuery[str | None] = None,
    ) -> Page[RequestHeaderOut]:
        found = await service_requests.list(request.user, RequestFilter(account_id=account_id), page)
        return found.map(RequestHeaderOut.of)

    @get("/{request_id:uuid}", summary="One request with its lines and total (owner or admin)")
    async def get_request(
        self, request_id: FromPath[uuid.UUID], request: Req, service_requests: NamedDependency[RequestService]
    ) -> RequestOut:
        return RequestOut.of(await service_requests.get(request.user, request_id))

    @get("/{request_id:uuid}/history", summary="The request's transitions, oldest first (owner or admin)")
    async def get_request_history(
        self,
        request_id: FromPath[uuid.UUID],
        request: Req,
        service_requests: NamedDependency[RequestService],
        page: NamedDependency[PageRequest],
    ) -> Page[TransitionOut]:
        found = await service_requests.history(request.user, request_id, page)
        return found.map(TransitionOut.of)

    @put(
        "/{request_id:uuid}/lines/{item_id:uuid}",
        summary="Add a line or change its quantity (draft)",
        responses={409: NOT_OFFERED_YET},
    )
    async def set_request_line(
        self,
        request_id: FromPath[uuid.UUID],
        item_id: FromPath[uuid.UUID],
        data: JSONBody[QuantityIn],
        request: Req,
        service_requests: NamedDependency[RequestService],
    ) -> RequestOut:
        return RequestOut.of(await service_requests.set_line(request.user, request_id, item_id, data.quantity))

    @delete(
        "/{request_id:uuid}/lines/{item_id:uuid}",
        status_code=200,
        summary="Remove a line (draft)",
        responses=problems(NOT_A_DRAFT),
    )
    async def remove_request_line(
        self,
        request_id: FromPath[uuid.UUID],
        item_id: FromPath[uuid.UUID],
        request: Req,
        service_requests: NamedDependency[RequestService],
    ) -> RequestOut:
        return RequestOut.of(await service_requests.remove_line(request.user, request_id, item_id))

    @delete(
        "/{request_id:uuid}",
        status_code=200,
        summary="Discard a draft",
        responses=problems({409: "The request is not a draft (`current_status`)"}),
    )
    async def discard_request(
        self, request_id: FromPath[uuid.UUID], request: Req, service_requests: NamedDependency[RequestService]
    ) -> RequestOut:
        return RequestOut.of(await service_requests.discard(request.user, request_id))

    @post(
        "/{request_id:uuid}/submit",
        status_code=200,
        summary="Submit a draft for review",
        responses=problems(
            {
                409: "The request is not a draft (`current_status`), or the draft cannot be submitted as it is: "
                "it has no lines, or a line is no longer offered (`field`, `item_id`)"
            }
        ),
    )
    async def submit_request(
        self, request_id: FromPath[uuid.UUID], request: Req, service_requests: NamedDependency[RequestService]
    ) -> RequestOut:
        return RequestOut.of(await service_requests.submit(request.user, request_id))

    @post(
        "/{request_id:uuid}/answer",
        status_code=200,
        summary="Answer the reviewer's question",
        responses=problems({409: "No question is waiting for an answer (`current_status`)"}),
    )
    async def answer_question(
        self,
        request_id: FromPath[uuid.UUID],
        data: JSONBody[AnswerIn],
        request: Req,
        service_requests: NamedDependency[RequestService],
    ) -> RequestOut:
        return RequestOut.of(await service_requests.answer(request.user, request_id, data.answer))
