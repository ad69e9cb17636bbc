"""HTTP: parse, authorise, call the service, answer."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from pydantic import BaseModel, ConfigDict, Field, model_validator

from portal_runtime.auth import Principal, admin_only
from portal_runtime.lifecycle import Transition
from portal_runtime.openapi import problems
from portal_runtime.paging import Page, PageRequest
from returns.domain.rma import ReturnLine, Rma, Status
from returns.service.returns import RequestReturn, ReturnsService

Reason = Annotated[str, Field(min_length=1, max_length=1000)]


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
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=200)]


class RejectIn(Strict):
    reason: Reason


class LineOut(BaseModel):
    line_id: uuid.UUID | None  # None for a line of an invoice returns knows without line ids
    sku: str  # the invoice line's description
    quantity: int
    reason: str


class ReturnOut(BaseModel):
    id: uuid.UUID
    account_id: str
    invoice_number: str
    status: str
    lines: list[LineOut]
    reject_reason: str | None
    requested_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, rma: Rma) -> ReturnOut:
        return cls(
            id=rma.id,
            account_id=rma.account_id,
            invoice_number=rma.invoice_number,
            status=rma.status,
            lines=[
                LineOut(line_id=line.line_id, sku=line.sku, quantity=line.quantity, reason=line.reason)
                for line in rma.lines
            ],
            reject_reason=rma.reject_reason,
            requested_at=rma.requested_at,
            updated_at=rma.updated_at,
        )


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


class ReturnDetail(ReturnOut):
    history: list[HistoryOut]

    @classmethod
    def of(cls, rma: Rma) -> ReturnDetail:
        return cls(**ReturnOut.of(rma).model_dump(), history=[HistoryOut.of(step) for step in rma.history])


class ReturnController(Controller):
    path = "/v1/returns"
    tags = ["returns"]

    @post(
        "/",
        summary="Request a return of goods from one of your invoices",
        responses=problems(
            {
                422: "No invoice of yours by that number, or a line it does not have, or more than it invoiced "
                "(less what earlier returns hold), naming the `field`"
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

    @get("/{rma_id:uuid}", summary="Read one return with its history")
    async def get_return(
        self,
        rma_id: FromPath[uuid.UUID],
        request: Request[Principal, object, object],
        rmas: NamedDependency[ReturnsService],
    ) -> ReturnDetail:
        return ReturnDetail.of(await rmas.get_return(rma_id, request.user))


class AdminReturnController(Controller):
    path = "/v1/admin/returns"
    tags = ["returns (admin)"]
    guards = [admin_only]

    @post(
        "/{rma_id:uuid}/approve",
        status_code=200,
        summary="Approve a requested return (admin)",
        responses=problems({409: "The return is not requested (`current_status`)"}),
    )
    async def approve_return(
        self,
        rma_id: FromPath[uuid.UUID],
        request: Request[Principal, object, object],
        rmas: NamedDependency[ReturnsService],
    ) -> ReturnOut:
        return ReturnOut.of(await rmas.approve(rma_id, request.user))

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
        summary="Record that an approved return's goods arrived (admin)",
        responses=problems({409: "The return is not approved (`current_status`)"}),
    )
    async def receive_return(
        self,
        rma_id: FromPath[uuid.UUID],
        request: Request[Principal, object, object],
        rmas: NamedDependency[ReturnsService],
    ) -> ReturnOut:
        return ReturnOut.of(await rmas.receive(rma_id, request.user))
