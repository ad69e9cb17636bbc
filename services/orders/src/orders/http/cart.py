"""HTTP: the client area's cart and its checkout. A customer acts on its own account's cart; an
admin on `account_id`'s. Checkout takes an Idempotency-Key as the payment paths do: the same key
answers the same order, byte for byte."""

from __future__ import annotations

import json
import uuid
from typing import Annotated

from litestar import Controller, MediaType, Request, Response, delete, get, post, put
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter

from orders.domain.orders import Order
from orders.http.b2b_orders_models import QuantityLineIn
from orders.http.models import AddOnLineIn, CartLineIn, CartOut, GoodLineIn, NewServiceLineIn, OrderOut
from orders.http.requests import NOT_OFFERED_YET
from orders.service.cart import CartService
from orders.service.orders import OrderView
from portal_runtime.auth import Principal
from portal_runtime.idempotency import HEADER, Answer
from portal_runtime.openapi import problem_spec, problems
from portal_runtime.problems import MEDIA_TYPE as PROBLEM_MEDIA_TYPE

Req = Request[Principal, object, object]
AccountId = Annotated[str | None, QueryParameter(description="admins: the account whose cart it is (default: own)")]

IDEMPOTENCY_KEY = HeaderParameter(
    name=HEADER,
    required=True,
    min_length=1,
    max_length=200,
    pattern=r"^[!-~]([ -~]*[!-~])?$",  # printable ASCII, no space at either end
    description="one key per checkout: the same key answers the same order again and places nothing more",
)
ANOTHER_ACCOUNT = "A customer naming another account (`account_id`)"
LINE_REFUSED = (
    "Refused by a rule, naming the `field`: a retired item or one of another kind (`item_id`), a cycle it is not "
    "offered in (`cycle`, with `cycles`), an add-on for a service that is not active, not of a product it is "
    "offered for, or has it `max_per_parent` times (`parent_subscription_id`), a renewal of a one-time or ended "
    "service, or before its window opens (`subscription_id`, with `window_opens_on`), a line in another currency"
)
PLACED = ResponseSpec(
    data_container=OrderOut,
    description="The order placed (or, for a key used before, the same order again)",
    generate_examples=False,
)


def render(order: Order) -> Answer:
    """The answer to a checkout, as first given and as replayed for its Idempotency-Key."""
    return Answer(201, OrderOut.of(OrderView(order, None)).model_dump(mode="json"))


def respond(answer: Answer) -> Response[bytes]:
    """The same bytes for the first answer and every replay of it (the stored JSON keeps its order)."""
    content = json.dumps(answer.body, separators=(",", ":"), ensure_ascii=False).encode()
    media_type = PROBLEM_MEDIA_TYPE if answer.status_code >= 400 else MediaType.JSON
    return Response(content=content, status_code=answer.status_code, media_type=media_type)


class CartController(Controller):
    path = "/v1/cart"
    tags = ["cart"]

    @get(
        "/",
        summary="The caller's open cart, priced as of today (an empty cart when it has none)",
        responses=problems({404: ANOTHER_ACCOUNT}),
    )
    async def get_cart(self, request: Req, cart: NamedDependency[CartService], account_id: AccountId = None) -> CartOut:
        return CartOut.of(await cart.get(request.user, account_id))

    @post(
        "/lines",
        summary="Add a line: a new service, a renewal of one of the account's services, an add-on for one, or goods "
        "(the same good again adds to its quantity)",
        responses={
            409: NOT_OFFERED_YET,
            **problems(
                {
                    404: "No such service or parent service, or another account's; or a customer named another "
                    "account (`account_id`)",
                    422: LINE_REFUSED,
                }
            ),
        },
    )
    async def add_cart_line(
        self,
        data: JSONBody[CartLineIn],
        request: Req,
        cart: NamedDependency[CartService],
        account_id: AccountId = None,
    ) -> CartOut:
        line = data.root
        if isinstance(line, NewServiceLineIn):
            view = await cart.add_service(request.user, line.item_id, line.cycle, line.domain, account_id)
        elif isinstance(line, GoodLineIn):
            view = await cart.add_good(request.user, line.item_id, line.quantity, account_id)
        elif isinstance(line, AddOnLineIn):
            view = await cart.add_add_on(
                request.user, line.item_id, line.cycle, line.parent_subscription_id, account_id
            )
        else:
            view = await cart.add_renewal(request.user, line.subscription_id, account_id)
        return CartOut.of(view)

    @put(
        "/lines/{line_id:uuid}",
        summary="Change a line of goods' quantity (1-10000)",
        responses=problems(
            {
                404: "The cart has no such line, or a customer named another account (`account_id`)",
                422: "A quantity out of range, or a line of a service (`quantity`)",
            }
        ),
    )
    async def set_cart_line_quantity(
        self,
        line_id: FromPath[uuid.UUID],
        data: JSONBody[QuantityLineIn],
        request: Req,
        cart: NamedDependency[CartService],
        account_id: AccountId = None,
    ) -> CartOut:
        return CartOut.of(await cart.set_quantity(request.user, line_id, data.quantity, account_id))

    @delete(
        "/lines/{line_id:uuid}",
        status_code=200,
        summary="Remove a line from the cart",
        responses=problems({404: "The cart has no such line, or a customer named another account (`account_id`)"}),
    )
    async def remove_cart_line(
        self,
        line_id: FromPath[uuid.UUID],
        request: Req,
        cart: NamedDependency[CartService],
        account_id: AccountId = None,
    ) -> CartOut:
        return CartOut.of(await cart.remove_line(request.user, line_id, account_id))

    @post(
        "/checkout",
        summary="Place the cart as an order, priced again now (billing invoices it; payment fulfils it)",
        responses={
            201: PLACED,
            409: problem_spec(
                "A request with this Idempotency-Key is still being answered, a line's item is not offered yet "
                "(`not-offered-yet`), or a service's period on the cart is on another order already"
            ),
            **problems(
                {
                    404: ANOTHER_ACCOUNT,
                    422: "An empty cart (`lines`), a line refused now (naming its `field`, as when added), or an "
                    "Idempotency-Key used before for another account's cart",
                }
            ),
        },
    )
    async def check_out_cart(
        self,
        request: Req,
        cart: NamedDependency[CartService],
        key: Annotated[str, IDEMPOTENCY_KEY],
        account_id: AccountId = None,
    ) -> Response[bytes]:
        return respond(await cart.checkout(request.user, key.strip(), render, account_id))
