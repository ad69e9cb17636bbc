"""HTTP: quotes. Admins prepare (draft), revise and send them for any account; the account's
customer lists and reads its quotes (not drafts; another account's answer 404), accepts one (the
answer is its one order, however often it accepts) or rejects it."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from orders.domain.quotes import Status
from orders.http.models import OrderOut
from orders.http.quote_models import QuoteIn, QuoteOut, QuoteStatus, RejectIn
from orders.service.orders import OrderService
from orders.service.quotes import QuoteService
from portal_runtime.auth import Principal, admin_only
from portal_runtime.openapi import problem_spec, problems
from portal_runtime.paging import Page, PageRequest

Req = Request[Principal, object, object]
UNKNOWN = {404: "No such quote (or another account's; a draft, for a customer)"}
LINES = {
    404: "No such quote",
    422: "A line is refused (`field`, e.g. `lines[1].unit_price`): a retired item, a cycle it is not sold in, "
    "no price; `valid_until` before today; more than one currency",
}
NOT_OFFERED_YET = problem_spec(
    "The quote is not a draft (`current_status`), or an item is unknown to orders (`not-offered-yet`; also the "
    "answer for an item the account may not see): an item created a moment ago is known after `Retry-After`",
    headers={"Retry-After": "on `not-offered-yet`: seconds after which the same request may succeed"},
)


class AdminQuoteController(Controller):
    path = "/v1/admin/quotes"
    tags = ["quotes (admin)"]
    guards = [admin_only]

    @post(
        "/",
        summary="Prepare a quote (draft) for an account: lines priced by the server (the given unit_price, or "
        "the catalog's), one currency, valid until a day",
        responses={**problems(LINES), 409: NOT_OFFERED_YET},
    )
    async def prepare_quote(
        self, data: JSONBody[QuoteIn], request: Req, quotes: NamedDependency[QuoteService]
    ) -> QuoteOut:
        return QuoteOut.of(await quotes.prepare(request.user, data.draft()))

    @put(
        "/{quote_id:uuid}",
        summary="Replace a draft's lines, validity and note (its account stays)",
        responses={**problems(LINES), 409: NOT_OFFERED_YET},
    )
    async def revise_quote(
        self,
        quote_id: FromPath[uuid.UUID],
        data: JSONBody[QuoteIn],
        request: Req,
        quotes: NamedDependency[QuoteService],
    ) -> QuoteOut:
        return QuoteOut.of(await quotes.revise(request.user, quote_id, data.draft()))

    @post(
        "/{quote_id:uuid}/send",
        status_code=200,
        summary="Send a draft to its account (QuoteSent: emailed)",
        responses=problems(
            {
                **UNKNOWN,
                409: "Not a draft (`current_status`), or an item is no longer offered to the account (`field`)",
                422: "Its valid_until has passed: revise it first",
            }
        ),
    )
    async def send_quote(
        self, quote_id: FromPath[uuid.UUID], request: Req, quotes: NamedDependency[QuoteService]
    ) -> QuoteOut:
        return QuoteOut.of(await quotes.send(request.user, quote_id))

    @get("/", summary="Quotes of every account (or account_id's), newest first, drafts too")
    async def list_all_quotes(
        self,
        request: Req,
        quotes: NamedDependency[QuoteService],
        page: NamedDependency[PageRequest],
        status: FromQuery[QuoteStatus | None] = None,
        account_id: FromQuery[str | None] = None,
    ) -> Page[QuoteOut]:
        found = await quotes.list(request.user, page, status=Status(status) if status else None, account_id=account_id)
        return found.map(QuoteOut.of)

    @get("/{quote_id:uuid}", summary="One quote with its lines and history", responses=problems(UNKNOWN))
    async def get_any_quote(
        self, quote_id: FromPath[uuid.UUID], request: Req, quotes: NamedDependency[QuoteService]
    ) -> QuoteOut:
        return QuoteOut.of(await quotes.get(request.user, quote_id))


class QuoteController(Controller):
    path = "/v1/quotes"
    tags = ["quotes"]

    @get("/", summary="The account's quotes (sent, accepted, rejected, expired), newest first")
    async def list_quotes(
        self,
        request: Req,
        quotes: NamedDependency[QuoteService],
        page: NamedDependency[PageRequest],
        status: FromQuery[QuoteStatus | None] = None,
    ) -> Page[QuoteOut]:
        found = await quotes.list(request.user, page, status=Status(status) if status else None)
        return found.map(QuoteOut.of)

    @get(
        "/{quote_id:uuid}",
        summary="One of the account's quotes with its lines and history",
        responses=problems(UNKNOWN),
    )
    async def get_quote(
        self, quote_id: FromPath[uuid.UUID], request: Req, quotes: NamedDependency[QuoteService]
    ) -> QuoteOut:
        return QuoteOut.of(await quotes.get(request.user, quote_id))

    @post(
        "/{quote_id:uuid}/accept",
        status_code=200,
        summary="Accept the quote: answers its ONE order at the quote's prices (accepting again answers the same "
        "order); it may be accepted on its valid_until day",
        responses=problems(
            {
                **UNKNOWN,
                409: "Rejected or expired (`current_status`), or an item is no longer offered to the account "
                "(`field`, `item_id`)",
            }
        ),
    )
    async def accept_quote(
        self,
        quote_id: FromPath[uuid.UUID],
        request: Req,
        quotes: NamedDependency[QuoteService],
        client_orders: NamedDependency[OrderService],
    ) -> OrderOut:
        order_id = await quotes.accept(request.user, quote_id)
        return OrderOut.of(await client_orders.get(request.user, order_id))

    @post(
        "/{quote_id:uuid}/reject",
        status_code=200,
        summary="Reject the quote, with an optional reason",
        responses=problems({**UNKNOWN, 409: "Not a sent quote (`current_status`)"}),
    )
    async def reject_quote(
        self,
        quote_id: FromPath[uuid.UUID],
        request: Req,
        quotes: NamedDependency[QuoteService],
        data: JSONBody[RejectIn | None] = None,
    ) -> QuoteOut:
        return QuoteOut.of(await quotes.reject(request.user, quote_id, data.reason if data else None))
