"""HTTP: the order manager. Admins: the order views with filters and paging, one order as admins
see it, an admin's cancellation, notes, shipments (record, ship a pending one, correct tracking) and
accounts' payment terms. Customers: the order statement and their own order's shipments."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter, QueryParameter

from orders.http.order_manager_models import (
    AdminOrderOut,
    CancelIn,
    NotesIn,
    ShipmentIn,
    ShipmentOut,
    StatementOut,
    TermsIn,
    TermsOut,
    TrackingIn,
)
from orders.service import shipments as shipments_service
from orders.service.order_manager import OrderManager, OrderManagerViews, ViewQuery
from orders.service.shipments import ShipmentService
from orders.service.statement import StatementService
from orders.service.terms import TermsService
from portal_runtime.auth import Principal, admin_only
from portal_runtime.errors import InvalidInput
from portal_runtime.openapi import problems
from portal_runtime.paging import Page, PageRequest

Req = Request[Principal, object, object]
AccountId = Annotated[str, Parameter(min_length=1, max_length=200, description="the account")]
NO_ORDER = "No such order, or another account's"
View = Literal["all", "unpaid", "ready_to_ship", "shipped", "cancelled"]
# A whole number of days as digits (an `int | None` query parameter would take "null", and lose its minimum 0).
OLDER_THAN = QueryParameter(
    pattern=r"^[0-9]{1,5}$", description="placed at least this many days before as_of (0 to 99999)"
)
SHIPPING_409 = (
    "The order may not ship (`current_status`): its payment status while unpaid and the account has no payment "
    "terms, on_hold, or cancelled"
)


def _tracking(data) -> shipments_service.TrackingIn:
    return shipments_service.TrackingIn(data.carrier, data.tracking_number, data.tracking_url)


class AdminOrderManagerController(Controller):
    path = "/v1/admin/orders"
    tags = ["orders (admin)"]
    guards = [admin_only]

    @get(
        "/",
        summary="The order manager's views: all, unpaid (as of a date), ready_to_ship, shipped, cancelled; filtered "
        "by account, channel (`portal`: placed in the portal) and the business date placed; newest first",
        responses=problems({422: "placed_from after placed_to (`placed_from`)"}),
    )
    async def list_admin_orders(
        self,
        request: Req,
        order_views: NamedDependency[OrderManagerViews],
        page: NamedDependency[PageRequest],
        view: Annotated[View, QueryParameter(description="which view")] = "all",
        account_id: FromQuery[str | None] = None,
        channel: Annotated[
            str | None, QueryParameter(max_length=100, description="an order's channel; portal: no channel")
        ] = None,
        placed_from: Annotated[date | None, QueryParameter(description="placed on or after (business date)")] = None,
        placed_to: Annotated[date | None, QueryParameter(description="placed on or before (business date)")] = None,
        older_than_days: Annotated[str | None, OLDER_THAN] = None,
        as_of: Annotated[date | None, QueryParameter(description="the date the views are of; default today")] = None,
    ) -> Page[AdminOrderOut]:
        query = ViewQuery(
            view=view,
            account_id=account_id,
            channel=channel,
            placed_from=placed_from,
            placed_to=placed_to,
            older_than_days=int(older_than_days) if older_than_days is not None else None,
            as_of=as_of,
        )
        found = await order_views.list(request.user, query, page)
        return found.map(AdminOrderOut.of_admin)

    @get(
        "/{order_id:uuid}",
        summary="One order as admins see it: private note, shipments, days unpaid (as of `as_of`, default today)",
    )
    async def get_admin_order(
        self,
        order_id: FromPath[uuid.UUID],
        request: Req,
        order_views: NamedDependency[OrderManagerViews],
        as_of: Annotated[date | None, QueryParameter(description="for unpaid_days; default today")] = None,
    ) -> AdminOrderOut:
        return AdminOrderOut.of_admin(await order_views.get(request.user, order_id, as_of))

    @post(
        "/{order_id:uuid}/cancel",
        status_code=200,
        summary="Cancel an order with a reason (OrderCancelled, reason admin); its pending shipments with it. An "
        "order with money paid on it names the settlement: billing refunds or credits it",
        responses=problems(
            {
                404: "No such order",
                409: "Something shipped (`current_status` the shipping status), or cancelled already",
                422: "A settlement is required: money was paid on the order (`settlement`)",
            }
        ),
    )
    async def cancel_admin_order(
        self,
        order_id: FromPath[uuid.UUID],
        data: JSONBody[CancelIn],
        request: Req,
        order_manager: NamedDependency[OrderManager],
    ) -> AdminOrderOut:
        return AdminOrderOut.of_admin(await order_manager.cancel(request.user, order_id, data.reason, data.settlement))

    @put(
        "/{order_id:uuid}/notes",
        summary="Set the order's public note (the customer reads it) and private note (admins only); a key not "
        "sent keeps its note, null clears it",
        responses=problems({404: "No such order"}),
    )
    async def set_order_notes(
        self,
        order_id: FromPath[uuid.UUID],
        data: JSONBody[NotesIn],
        request: Req,
        order_manager: NamedDependency[OrderManager],
    ) -> AdminOrderOut:
        notes = {name: getattr(data, name) for name in data.model_fields_set}
        return AdminOrderOut.of_admin(await order_manager.set_notes(request.user, order_id, **notes))

    @post(
        "/{order_id:uuid}/shipments",
        status_code=201,
        summary="Record a shipment of goods lines: shipped at once with carrier and tracking number (OrderShipped), "
        "else pending. Each line at most what it still awaits (ordered less shipped less pending shipments)",
        responses=problems(
            {
                404: "No such order",
                409: SHIPPING_409,
                422: "A line not of the order's goods (`lines[i].line_id`), more than awaited (`lines[i].quantity`, "
                "with `awaiting`), or carrier without tracking_number or the reverse",
            }
        ),
    )
    async def record_shipment(
        self,
        order_id: FromPath[uuid.UUID],
        data: JSONBody[ShipmentIn],
        request: Req,
        shipments: NamedDependency[ShipmentService],
    ) -> ShipmentOut:
        if (data.carrier is None) != (data.tracking_number is None):
            missing = "tracking_number" if data.tracking_number is None else "carrier"
            raise InvalidInput("carrier and tracking_number come both or neither", field=missing)
        if data.tracking_url is not None and data.carrier is None:
            raise InvalidInput("a tracking_url comes with carrier and tracking_number", field="tracking_url")
        tracking = _tracking(data) if data.carrier is not None else None
        lines = [(line.line_id, line.quantity) for line in data.lines]
        _, shipment = await shipments.record(request.user, order_id, lines, tracking)
        return ShipmentOut.of(shipment)

    @post(
        "/{order_id:uuid}/shipments/{shipment_id:uuid}/ship",
        status_code=200,
        summary="A pending shipment leaves with its carrier and tracking number (OrderShipped)",
        responses=problems({404: "No such order or shipment", 409: f"The shipment is not pending; or: {SHIPPING_409}"}),
    )
    async def ship_shipment(
        self,
        order_id: FromPath[uuid.UUID],
        shipment_id: FromPath[uuid.UUID],
        data: JSONBody[TrackingIn],
        request: Req,
        shipments: NamedDependency[ShipmentService],
    ) -> ShipmentOut:
        _, shipment = await shipments.ship(request.user, order_id, shipment_id, _tracking(data))
        return ShipmentOut.of(shipment)

    @put(
        "/{order_id:uuid}/shipments/{shipment_id:uuid}/tracking",
        summary="Correct a shipped shipment's carrier and tracking number (ShipmentTrackingCorrected; what shipped "
        "never changes; the correction is kept in its tracking_history)",
        responses=problems({404: "No such order or shipment", 409: "The shipment is not shipped (`current_status`)"}),
    )
    async def correct_shipment_tracking(
        self,
        order_id: FromPath[uuid.UUID],
        shipment_id: FromPath[uuid.UUID],
        data: JSONBody[TrackingIn],
        request: Req,
        shipments: NamedDependency[ShipmentService],
    ) -> ShipmentOut:
        _, shipment = await shipments.correct_tracking(request.user, order_id, shipment_id, _tracking(data))
        return ShipmentOut.of(shipment)

    @get(
        "/{order_id:uuid}/shipments", summary="The order's shipments, in sequence", responses=problems({404: NO_ORDER})
    )
    async def list_admin_order_shipments(
        self, order_id: FromPath[uuid.UUID], request: Req, shipments: NamedDependency[ShipmentService]
    ) -> list[ShipmentOut]:
        found = await shipments.of_order(request.user, order_id)
        return [ShipmentOut.of(s) for s in found.shipments]


class AccountTermsController(Controller):
    path = "/v1/admin/accounts/{account_id:str}/payment-terms"
    tags = ["orders (admin)"]
    guards = [admin_only]

    @get("/", summary="The account's payment terms (days net; null: none, shipping waits for payment)")
    async def get_payment_terms(
        self, account_id: AccountId, request: Req, terms: NamedDependency[TermsService]
    ) -> TermsOut:
        return TermsOut.of(await terms.get(request.user, account_id))

    @put(
        "/",
        summary="Give the account payment terms (1..365 days net) or none (null): orders placed from now on carry "
        "them (billing's due date), and its unpaid orders may ship while it has terms",
        responses=problems({422: "payment_terms_days out of 1..365"}),
    )
    async def put_payment_terms(
        self, account_id: AccountId, data: JSONBody[TermsIn], request: Req, terms: NamedDependency[TermsService]
    ) -> TermsOut:
        return TermsOut.of(await terms.put(request.user, account_id, data.payment_terms_days))


class CustomerOrderManagerController(Controller):
    path = "/v1/orders"
    tags = ["orders"]

    @get(
        "/statement",
        summary="The order statement: each order in progress (goods, not cancelled, not fully shipped), newest "
        "first, with its goods lines ordered, shipped and awaiting (admins: `account_id` required)",
        responses=problems({422: "An admin names the account (`account_id`)"}),
    )
    async def get_order_statement(
        self,
        request: Req,
        statements: NamedDependency[StatementService],
        account_id: Annotated[str | None, QueryParameter(max_length=200, description="admins: the account")] = None,
    ) -> StatementOut:
        return StatementOut.of(await statements.statement(request.user, account_id))

    @get(
        "/{order_id:uuid}/shipments",
        summary="The order's shipments (owner or admin)",
        responses=problems({404: NO_ORDER}),
    )
    async def list_order_shipments(
        self, order_id: FromPath[uuid.UUID], request: Req, shipments: NamedDependency[ShipmentService]
    ) -> list[ShipmentOut]:
        found = await shipments.of_order(request.user, order_id)
        return [ShipmentOut.of(s) for s in found.shipments]
