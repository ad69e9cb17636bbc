"""HTTP: parse, authorise, call the service, answer."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from pydantic import BaseModel, ConfigDict, Field

from portal_runtime.auth import Principal, admin_only
from portal_runtime.web import correlation_id
from returns.domain.rma import ReturnLine, Rma, Transition
from returns.service.returns import RequestReturn, ReturnsService

Status = Literal["requested", "approved", "rejected", "received"]
Reason = Annotated[str, Field(min_length=1, max_length=1000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LineIn(Strict):
    sku: Annotated[str, Field(min_length=1, max_length=500, description="the invoice line's description")]
    quantity: Annotated[int, Field(ge=1, le=1_000_000)]
    reason: Reason


class ReturnIn(Strict):
    invoice_number: Annotated[str, Field(min_length=1, max_length=100)]
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=200)]


class RejectIn(Strict):
    reason: Reason


class LineOut(BaseModel):
    sku: str
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
            lines=[LineOut(sku=line.sku, quantity=line.quantity, reason=line.reason) for line in rma.lines],
            reject_reason=rma.reject_reason,
            requested_at=rma.requested_at,
            updated_at=rma.updated_at,
        )


class HistoryOut(BaseModel):
    from_status: str | None
    to_status: str
    by: str
    at: datetime
    reason: str | None


class ReturnDetail(ReturnOut):
    history: list[HistoryOut]

    @classmethod
    def with_history(cls, rma: Rma, history: list[Transition]) -> ReturnDetail:
        return cls(
            **ReturnOut.of(rma).model_dump(),
            history=[
                HistoryOut(from_status=t.from_status, to_status=t.to_status, by=t.by, at=t.at, reason=t.reason)
                for t in history
            ],
        )


class ReturnPage(BaseModel):
    items: list[ReturnOut]
    total: int
    limit: int
    offset: int


class ReturnController(Controller):
    path = "/v1/returns"
    tags = ["returns"]

    @post("/", summary="Request a return of goods from one of your invoices")
    async def request_return(
        self,
        data: JSONBody[ReturnIn],
        request: Request[Principal, object, object],
        rmas: NamedDependency[ReturnsService],
    ) -> ReturnOut:
        cmd = RequestReturn(
            invoice_number=data.invoice_number,
            lines=[ReturnLine(sku=line.sku, quantity=line.quantity, reason=line.reason) for line in data.lines],
        )
        rma = await rmas.request_return(request.user.account_id, cmd, correlation_id=correlation_id(request))
        return ReturnOut.of(rma)

    @get("/", summary="List returns: customers see their own; admins all, filtered by status and account")
    async def list_returns(
        self,
        request: Request[Principal, object, object],
        rmas: NamedDependency[ReturnsService],
        status: FromQuery[Status | None] = None,
        account: Annotated[str | None, QueryParameter(max_length=200)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        offset: Annotated[int, QueryParameter(ge=0)] = 0,
    ) -> ReturnPage:
        if not request.user.is_admin:
            account = request.user.account_id
        items, total = await rmas.list_returns(account_id=account, status=status, limit=limit, offset=offset)
        return ReturnPage(items=[ReturnOut.of(r) for r in items], total=total, limit=limit, offset=offset)

    @get("/{rma_id:uuid}", summary="Read one return with its history")
    async def read(
        self,
        rma_id: FromPath[uuid.UUID],
        request: Request[Principal, object, object],
        rmas: NamedDependency[ReturnsService],
    ) -> ReturnDetail:
        viewer = None if request.user.is_admin else request.user.account_id
        return ReturnDetail.with_history(*await rmas.get_return(rma_id, account_id=viewer))


class AdminReturnController(Controller):
    path = "/v1/admin/returns"
    tags = ["returns (admin)"]
    guards = [admin_only]

    @post("/{rma_id:uuid}/approve", status_code=200, summary="Approve a requested return (admin)")
    async def approve(
        self,
        rma_id: FromPath[uuid.UUID],
        request: Request[Principal, object, object],
        rmas: NamedDependency[ReturnsService],
    ) -> ReturnOut:
        rma = await rmas.approve(rma_id, by=request.user.account_id, correlation_id=correlation_id(request))
        return ReturnOut.of(rma)

    @post("/{rma_id:uuid}/reject", status_code=200, summary="Reject a requested return, saying why (admin)")
    async def reject(
        self,
        rma_id: FromPath[uuid.UUID],
        data: JSONBody[RejectIn],
        request: Request[Principal, object, object],
        rmas: NamedDependency[ReturnsService],
    ) -> ReturnOut:
        rma = await rmas.reject(rma_id, data.reason, by=request.user.account_id, correlation_id=correlation_id(request))
        return ReturnOut.of(rma)

    @post("/{rma_id:uuid}/receive", status_code=200, summary="Record that an approved return's goods arrived (admin)")
    async def receive(
        self,
        rma_id: FromPath[uuid.UUID],
        request: Request[Principal, object, object],
        rmas: NamedDependency[ReturnsService],
    ) -> ReturnOut:
        rma = await rmas.receive(rma_id, by=request.user.account_id, correlation_id=correlation_id(request))
        return ReturnOut.of(rma)
