"""HTTP: parse, authorise, call the service, answer."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from pydantic import BaseModel, ConfigDict, Field, model_validator

from portal_runtime.auth import Principal, admin_only
from portal_runtime.lifecycle import Transition
from portal_runtime.openapi import problems
from portal_runtime.paging import Page, PageRequest
from returns.domain.rma import GoodsReceipt, ReceiptRequest, Resolution, ReturnLine, Rma, Status
from returns.service.returns import Approve, RequestReturn, ReturnsService

Reason = Annotated[str, Field(min_length=1, max_length=1000)]
Note = Annotated[str | None, Field(max_length=2000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LineIn(Strict):
    """An invoice line to return, named by its `line_id` (billing's invoice line id); `sku`, the
    line's description, is still accepted instead (as clients sent it before line ids)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={  # one of them names the line
            "anyOf": [
                {"required": ["line_id"], "properties": {"line_id": {"type": "string"}}},
                {"required": ["sku"], "properties": {"sku": {"type": "string"}}},
            ]
        },
    )

    line_id: Annotated[uuid.UUID | None, Field(description="the invoice line's id")] = None
    sku: Annotated[
        str | None,
        Field(min_length=1, max_length=500, description="the invoice line's description (instead of line_id)"),
    ] = None
    quantity: Annotated[int, Field(ge=1, le=1_000_000)]
    reason: Reason

    @model_validator(mode="after")
    def _names_a_line(self) -> LineIn:
        if self.line_id is None and self.sku is None:
            raise ValueError("name the invoice line by line_id (or sku, its description)")
        return self


class ReturnIn(Strict):
    invoice_number: Annotated[str, Field(min_length=1, max_length=100)]
    problem: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=2000,
            description="what is wrong with the goods (left out: the lines' reasons, joined)",
        ),
    ] = None
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=200)]


class RejectIn(Strict):
    reason: Reason


class ApproveIn(Strict):
    resolution: Annotated[
        Resolution, Field(description="what will be done: refund (default), credit, replace, repair")
    ] = Resolution.REFUND
    expected_on: Annotated[
        date | None,
        Field(description="the expected completion date, not before today (default: in RETURNS_EXPECTED_DAYS)"),
    ] = None
    note: Note = None


class ExpectedDateIn(Strict):
    expected_on: Annotated[date, Field(description="the new expected completion date, not before today")]
    note: Note = None


class ReceiptLineIn(Strict):
    """A line that arrived, named by the invoice line's `line_id` (or `sku`, its description)."""

    model_config = LineIn.model_config

    line_id: Annotated[uuid.UUID | None, Field(description="the invoice line's id")] = None
    sku: Annotated[str | None, Field(min_length=1, max_length=500, description="the invoice line's description")] = None
    quantity: Annotated[int, Field(ge=1, le=1_000_000)]

    @model_validator(mode="after")
    def _names_a_line(self) -> ReceiptLineIn:
        if self.line_id is None and self.sku is None:
            raise ValueError("name the invoice line by line_id (or sku, its description)")
        return self


class ReceiptIn(Strict):
    lines: Annotated[list[ReceiptLineIn], Field(min_length=1, max_length=200)]
    note: Note = None


class NoteIn(Strict):
    note: Note = None


class ReceiptLineOut(BaseModel):
    line_id: uuid.UUID | None  # the invoice line's id
    description: str
    quantity: int


class ReceiptOut(BaseModel):
    receipt_id: uuid.UUID
    number: str
    rma_id: uuid.UUID
    rma_number: str
    account_id: str
    invoice_number: str
    lines: list[ReceiptLineOut]
    note: str | None
    received_at: datetime
    received_by: str

    @classmethod
    def of(cls, receipt: GoodsReceipt) -> ReceiptOut:
        return cls(
            receipt_id=receipt.id,
            number=receipt.number,
            rma_id=receipt.rma_id,
            rma_number=receipt.rma_number,
            account_id=receipt.account_id,
            invoice_number=receipt.invoice_number,
            lines=[
                ReceiptLineOut(line_id=x.line_id, description=x.description, quantity=x.quantity) for x in receipt.lines
            ],
            note=receipt.note,
            received_at=receipt.received_at,
            received_by=receipt.received_by,
        )


class LineOut(BaseModel):
    line_id: uuid.UUID | None  # None for a line of an invoice returns knows without line ids
    sku: str  # the invoice line's description
    quantity: int
    reason: str
    received: int = Field(description="how many of it goods receipts recorded so far")


class HistoryOut(BaseModel):
    from_status: str | None
    to_status: str
    by: str
    at: datetime
    note: str | None
    reason: str | None = Field(description="the same as note (its earlier name)")

    @classmethod
    def of(cls, step: Transition) -> HistoryOut:
        return cls(
            from_status=step.from_status,
            to_status=step.to_status,
            by=step.by,
            at=step.at,
            note=step.note,
            reason=step.note,
        )


class ReturnOut(BaseModel):
    id: uuid.UUID
    number: str | None = Field(description="RMA-2026-000001")
    account_id: str
    invoice_id: uuid.UUID | None
    invoice_number: str
    problem: str | None
    status: str
    resolution: str | None = Field(description="once approved: refund, credit, replace or repair")
    expected_on: date | None = Field(description="once approved: the expected completion date")
    lines: list[LineOut]
    reject_reason: str | None
    requested_at: datetime
    updated_at: datetime
    receipts: list[ReceiptOut]
    history: list[HistoryOut]

    @classmethod
    def of(cls, rma: Rma) -> ReturnOut:
        return cls(
            id=rma.id,
            number=rma.number,
            account_id=rma.account_id,
            invoice_id=rma.invoice_id,
            invoice_number=rma.invoice_number,
            problem=rma.problem,
            status=rma.status,
            resolution=rma.resolution,
            expected_on=rma.expected_on,
            lines=[
                LineOut(
                    line_id=line.line_id,
                    sku=line.sku,
                    quantity=line.quantity,
                    reason=line.reason,
                    received=line.received,
                )
                for line in rma.lines
            ],
            reject_reason=rma.reject_reason,
            requested_at=rma.requested_at,
            updated_at=rma.updated_at,
            receipts=[ReceiptOut.of(r) for r in rma.receipts],
            history=[HistoryOut.of(step) for step in rma.history],
        )


class ReturnController(Controller):
    path = "/v1/returns"
    tags = ["returns"]

    @post(
        "/",
        summary="Request a return of goods from one of your invoices",
        responses=problems(
            {
                422: "No invoice of yours by that number, or a line it does not have, or more than it invoiced "
                "(and shipped, for goods; less what other returns not rejected hold: `available`), naming the `field`"
            }
        ),
    )
    async def request_return(
        self,
        data: JSONBody[ReturnIn],
        request: Request[Principal, object, object],
        rmas: NamedDependency[ReturnsService],
    ) -> ReturnOut:
        cmd = RequestReturn(
            invoice_number=data.invoice_number,
            problem=data.problem,
            lines=[
                ReturnLine(sku=line.sku or "", quantity=line.quantity, reason=line.reason, line_id=line.line_id)
                for line in data.lines
            ],
        )
        return ReturnOut.of(await rmas.request_return(request.user, cmd))

    @get("/", summary="List returns: customers see their own; admins all, filtered by status and account_id")
    async def list_returns(
        self,
        request: Request[Principal, object, object],
        rmas: NamedDependency[ReturnsService],
        page: NamedDependency[PageRequest],
        status: FromQuery[Status | None] = None,
        account_id: Annotated[str | None, QueryParameter(max_length=200)] = None,
    ) -> Page[ReturnOut]:
        found = await rmas.list_returns(request.user, account_id=account_id, status=status, page=page)
        return found.map(ReturnOut.of)

    @get("/{rma_id:uuid}", summary="Read one return with its goods receipts and history")
    async def get_return(
        self,
        rma_id: FromPath[uuid.UUID],
        request: Request[Principal, object, object],
        rmas: NamedDependency[ReturnsService],
    ) -> ReturnOut:
        return ReturnOut.of(await rmas.get_return(rma_id, request.user))


class AdminReturnController(Controller):
    path = "/v1/admin/returns"
    tags = ["returns (admin)"]
    guards = [admin_only]

    @post(
        "/{rma_id:uuid}/approve",
        status_code=200,
        summary="Approve a requested return with a resolution and an expected completion date (admin)",
        responses=problems({409: "The return is not requested (`current_status`)", 422: "expected_on is before today"}),
    )
    async def approve_return(
        self,
        rma_id: FromPath[uuid.UUID],
        request: Request[Principal, object, object],
        rmas: NamedDependency[ReturnsService],
        data: JSONBody[ApproveIn | None] = None,
    ) -> ReturnOut:
        data = data or ApproveIn()
        cmd = Approve(resolution=data.resolution, expected_on=data.expected_on, note=data.note)
        return ReturnOut.of(await rmas.approve(rma_id, request.user, cmd))

    @post(
        "/{rma_id:uuid}/reject",
        status_code=200,
        summary="Reject a requested return, saying why (admin)",
        responses=problems({409: "The return is not requested (`current_status`)"}),
    )
    async def reject_return(
        self,
        rma_id: FromPath[uuid.UUID],
        data: JSONBody[RejectIn],
        request: Request[Principal, object, object],
        rmas: NamedDependency[ReturnsService],
    ) -> ReturnOut:
        return ReturnOut.of(await rmas.reject(rma_id, data.reason, request.user))

    @post(
        "/{rma_id:uuid}/receive",
        status_code=200,
        summary="Record that all of an approved return's goods still to come arrived: one goods receipt (admin)",
        responses=problems({409: "The return is not approved or partly received (`current_status`)"}),
    )
    async def receive_return(
        self,
        rma_id: FromPath[uuid.UUID],
        request: Request[Principal, object, object],
        rmas: NamedDependency[ReturnsService],
    ) -> ReturnOut:
        return ReturnOut.of(await rmas.receive(rma_id, request.user))

    @post(
        "/{rma_id:uuid}/receipts",
        status_code=201,
        summary="Record a goods receipt: what arrived of an approved return, in part or all (admin)",
        responses=problems(
            {
                409: "The return is not approved or partly received (`current_status`)",
                422: "A line the return does not have (`lines[i].line_id`), or more than approved less received "
                "(`lines[i].quantity`, with `remaining`)",
            }
        ),
    )
    async def record_goods_receipt(
        self,
        rma_id: FromPath[uuid.UUID],
        data: JSONBody[ReceiptIn],
        request: Request[Principal, object, object],
        rmas: NamedDependency[ReturnsService],
    ) -> ReceiptOut:
        lines = [ReceiptRequest(quantity=x.quantity, line_id=x.line_id, sku=x.sku) for x in data.lines]
        _, receipt = await rmas.record_receipt(rma_id, lines, request.user, note=data.note)
        return ReceiptOut.of(receipt)

    @put(
        "/{rma_id:uuid}/expected-date",
        status_code=200,
        summary="Change an approved return's expected completion date (admin)",
        responses=problems(
            {
                409: "The return is not approved or partly received (`current_status`)",
                422: "expected_on is before today, or the date it already has",
            }
        ),
    )
    async def change_return_expected_date(
        self,
        rma_id: FromPath[uuid.UUID],
        data: JSONBody[ExpectedDateIn],
        request: Request[Principal, object, object],
        rmas: NamedDependency[ReturnsService],
    ) -> ReturnOut:
        return ReturnOut.of(await rmas.change_expected_date(rma_id, data.expected_on, request.user, note=data.note))

    @post(
        "/{rma_id:uuid}/complete",
        status_code=200,
        summary="Complete a received return (admin)",
        responses=problems({409: "The return is not received (`current_status`)"}),
    )
    async def complete_return(
        self,
        rma_id: FromPath[uuid.UUID],
        request: Request[Principal, object, object],
        rmas: NamedDependency[ReturnsService],
        data: JSONBody[NoteIn | None] = None,
    ) -> ReturnOut:
        return ReturnOut.of(await rmas.complete(rma_id, request.user, note=data.note if data else None))

    @post(
        "/{rma_id:uuid}/close",
        status_code=200,
        summary="Close a completed or rejected return (admin)",
        responses=problems({409: "The return is not completed or rejected (`current_status`)"}),
    )
    async def close_return(
        self,
        rma_id: FromPath[uuid.UUID],
        request: Request[Principal, object, object],
        rmas: NamedDependency[ReturnsService],
        data: JSONBody[NoteIn | None] = None,
    ) -> ReturnOut:
        return ReturnOut.of(await rmas.close(rma_id, request.user, note=data.note if data else None))
