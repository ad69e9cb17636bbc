"""HTTP: printed invoices (PDF). The invoice of an order (its owner or an admin; another
account's order is 404; 409 until billing has issued it), and one PDF of the invoices of one page
of an order manager's view (admins: the view's filters and paging; the orders without an invoice
are left out; 409 when none has one)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from orders.service.order_manager import ViewQuery
from orders.service.printing import Printed, PrintingService
from portal_runtime.auth import Principal, admin_only
from portal_runtime.openapi import problems
from portal_runtime.paging import PageRequest

Req = Request[Principal, object, object]
PDF = "application/pdf"
NOT_ISSUED = "Billing has not issued the order's invoice yet"
View = Literal["all", "unpaid", "ready_to_ship", "shipped", "cancelled"]


def pdf(printed: Printed) -> Response[bytes]:
    return Response(
        printed.content,
        media_type=PDF,
        headers={
            "Content-Disposition": f'attachment; filename="{printed.filename}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


class InvoicePrintController(Controller):
    path = "/v1/orders"
    tags = ["orders"]

    @get(
        "/{order_id:uuid}/invoice.pdf",
        summary="The order's invoice as a PDF: lines, taxes, totals, how to pay, the order's public note "
        "(owner or admin)",
        media_type=PDF,
        response_description="the invoice (`Content-Disposition: attachment`)",
        responses=problems({404: "No such order, or another account's", 409: NOT_ISSUED}),
    )
    async def download_order_invoice(
        self, order_id: FromPath[uuid.UUID], request: Req, printing: NamedDependency[PrintingService]
    ) -> Response[bytes]:
        return pdf(await printing.order_invoice(request.user, order_id))


class AdminInvoicePrintController(Controller):
    path = "/v1/admin/orders"
    tags = ["orders (admin)"]
    guards = [admin_only]

    @get(
        "/{order_id:uuid}/invoice.pdf",
        summary="An order's invoice as a PDF",
        media_type=PDF,
        response_description="the invoice (`Content-Disposition: attachment`)",
        responses=problems({404: "No such order", 409: NOT_ISSUED}),
    )
    async def download_admin_order_invoice(
        self, order_id: FromPath[uuid.UUID], request: Req, printing: NamedDependency[PrintingService]
    ) -> Response[bytes]:
        return pdf(await printing.order_invoice(request.user, order_id))

    @get(
        "/invoices.pdf",
        summary="Print a page of a view: one PDF, one invoice per order of the page that has one, in the view's "
        "order (the same view, filters and paging as GET /v1/admin/orders)",
        media_type=PDF,
        response_description="the invoices (`Content-Disposition: attachment`)",
        responses=problems(
            {
                409: "No order of this page of the view has an invoice yet",
                422: "`placed_from` after `placed_to`",
            }
        ),
    )
    async def print_view_invoices(
        self,
        request: Req,
        printing: NamedDependency[PrintingService],
        page: NamedDependency[PageRequest],
        view: Annotated[View, QueryParameter(description="which orders (default all)")] = "all",
        account_id: Annotated[str | None, QueryParameter(description="one account's orders")] = None,
        channel: Annotated[
            str | None, QueryParameter(description="one sales channel's orders; `portal`: placed in the portal")
        ] = None,
        placed_from: Annotated[date | None, QueryParameter(description="placed on or after (business date)")] = None,
        placed_to: Annotated[date | None, QueryParameter(description="placed on or before (business date)")] = None,
        older_than_days: Annotated[
            int | None, QueryParameter(ge=0, le=36500, description="placed at least this many days before as_of")
        ] = None,
        as_of: Annotated[date | None, QueryParameter(description="the view's date (default today)")] = None,
    ) -> Response[bytes]:
        query = ViewQuery(
            view=view,
            account_id=account_id,
            channel=channel,
            placed_from=placed_from,
            placed_to=placed_to,
            older_than_days=older_than_days,
            as_of=as_of,
        )
        return pdf(await printing.view_invoices(request.user, query, page))
