"""HTTP: support requests (a customer user sends and replies; admins list, answer and close) and
the company's contact details (a customer its own account's; an admin any account's)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from babel import Locale
from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from pydantic import BaseModel, Field

from orders.domain.support import MESSAGE_LENGTH, SUBJECT_LENGTH, Status, SupportRequest
from orders.http.models import Strict, TransitionOut
from orders.service.company import CompanyDetails, CompanyService
from orders.service.support import SupportService
from portal_runtime.auth import Principal, admin_only
from portal_runtime.openapi import problems
from portal_runtime.paging import Page, PageRequest

Req = Request[Principal, object, object]
SupportStatus = Literal["open", "answered", "closed"]
UNKNOWN = {404: "No such support request (or another account's)"}
CLOSED = {409: "The request is closed (`current_status`)"}


class SupportRequestIn(Strict):
    subject: str = Field(min_length=1, max_length=SUBJECT_LENGTH, pattern=r"\S")
    message: str = Field(min_length=1, max_length=MESSAGE_LENGTH, pattern=r"\S")
    order_id: uuid.UUID | None = Field(default=None, description="one of the caller's own orders it is about")


class MessageIn(Strict):
    message: str = Field(min_length=1, max_length=MESSAGE_LENGTH, pattern=r"\S")


class CloseIn(Strict):
    note: str | None = Field(default=None, max_length=1000)


class MessageOut(BaseModel):
    side: Literal["customer", "business"]
    by: str
    text: str
    at: datetime


class SenderOut(BaseModel):
    login: str
    name: str
    email: str
    language: str


class SupportRequestOut(BaseModel):
    request_id: uuid.UUID
    number: str = Field(description="SR-000001: what the customer quotes")
    account_id: str
    status: SupportStatus
    subject: str
    order_id: uuid.UUID | None
    sender: SenderOut
    created_at: datetime
    updated_at: datetime
    messages: list[MessageOut] = Field(description="oldest first; empty in lists")
    history: list[TransitionOut] = Field(description="empty in lists")

    @classmethod
    def of(cls, r: SupportRequest) -> SupportRequestOut:
        return cls(
            request_id=r.id,
            number=r.number,
            account_id=r.account_id,
            status=r.status,
            subject=r.subject,
            order_id=r.order_id,
            sender=SenderOut(
                login=r.sender.login, name=r.sender.name, email=r.sender.email, language=r.sender.language
            ),
            created_at=r.created_at,
            updated_at=r.updated_at,
            messages=[MessageOut(side=m.side, by=m.by, text=m.text, at=m.at) for m in r.messages],
            history=[TransitionOut.of(t) for t in r.history],
        )


class SupportController(Controller):
    path = "/v1/support-requests"
    tags = ["support"]

    @post(
        "/",
        summary="Send a support request (SupportRequestReceived: the sender gets its number by email)",
        responses=problems(
            {
                404: "`order_id` names no order of the caller's account",
                409: "The caller is no portal user and its account has no contact email (`PUT /v1/account/profile`)",
            }
        ),
    )
    async def send_support_request(
        self, data: JSONBody[SupportRequestIn], request: Req, support: NamedDependency[SupportService]
    ) -> SupportRequestOut:
        sent = await support.send(request.user, subject=data.subject, message=data.message, order_id=data.order_id)
        return SupportRequestOut.of(sent)

    @get("/", summary="The caller's account's support requests, newest first (admins: every account's)")
    async def list_support_requests(
        self,
        request: Req,
        support: NamedDependency[SupportService],
        page: NamedDependency[PageRequest],
        status: Annotated[SupportStatus | None, QueryParameter(description="only requests in this status")] = None,
        account_id: FromQuery[str | None] = None,
    ) -> Page[SupportRequestOut]:
        found = await support.list(request.user, page, status=Status(status) if status else None, account_id=account_id)
        return found.map(SupportRequestOut.of)

    @get("/{request_id:uuid}", summary="One support request with its messages and history", responses=problems(UNKNOWN))
    async def get_support_request(
        self, request_id: FromPath[uuid.UUID], request: Req, support: NamedDependency[SupportService]
    ) -> SupportRequestOut:
        return SupportRequestOut.of(await support.get(request.user, request_id))

    @post(
        "/{request_id:uuid}/replies",
        status_code=200,
        summary="Add a message to the caller's request (an answered request is open again)",
        responses=problems({**UNKNOWN, **CLOSED}),
    )
    async def reply_to_support_request(
        self,
        request_id: FromPath[uuid.UUID],
        data: JSONBody[MessageIn],
        request: Req,
        support: NamedDependency[SupportService],
    ) -> SupportRequestOut:
        return SupportRequestOut.of(await support.reply(request.user, request_id, data.message))


class AdminSupportController(Controller):
    path = "/v1/admin/support-requests"
    tags = ["support (admin)"]
    guards = [admin_only]

    @get("/", summary="Every account's support requests, newest first, by status and account")
    async def list_all_support_requests(
        self,
        request: Req,
        support: NamedDependency[SupportService],
        page: NamedDependency[PageRequest],
        status: Annotated[SupportStatus | None, QueryParameter(description="only requests in this status")] = None,
        account_id: FromQuery[str | None] = None,
    ) -> Page[SupportRequestOut]:
        found = await support.list(request.user, page, status=Status(status) if status else None, account_id=account_id)
        return found.map(SupportRequestOut.of)

    @post(
        "/{request_id:uuid}/answers",
        status_code=200,
        summary="Answer a support request (SupportRequestAnswered: emailed to its sender)",
        responses=problems({404: "No such support request", **CLOSED}),
    )
    async def answer_support_request(
        self,
        request_id: FromPath[uuid.UUID],
        data: JSONBody[MessageIn],
        request: Req,
        support: NamedDependency[SupportService],
    ) -> SupportRequestOut:
        return SupportRequestOut.of(await support.answer(request.user, request_id, data.message))

    @post(
        "/{request_id:uuid}/close",
        status_code=200,
        summary="Close a support request (SupportRequestClosed)",
        responses=problems({404: "No such support request", 409: "Already closed (`current_status`)"}),
    )
    async def close_support_request(
        self,
        request_id: FromPath[uuid.UUID],
        request: Req,
        support: NamedDependency[SupportService],
        data: JSONBody[CloseIn | None] = None,
    ) -> SupportRequestOut:
        return SupportRequestOut.of(await support.close(request.user, request_id, data.note if data else None))


# -- the company's contact details -------------------------------------------------------------


# ISO 3166-1 alpha-2 codes as CLDR (Babel) knows territories (its numeric regions and the
# pseudo-territories left out), so the document lists exactly what is taken.
Country = StrEnum(
    "Country",
    {c: c for c in sorted(Locale("en").territories) if len(c) == 2 and c.isalpha() and c not in ("XA", "XB", "ZZ")},
)


NOT_BLANK = r"\S"


class AddressIn(Strict):
    line1: str = Field(min_length=1, max_length=200, pattern=NOT_BLANK)
    line2: str | None = Field(default=None, max_length=200)
    postal_code: str = Field(min_length=1, max_length=20, pattern=NOT_BLANK)
    city: str = Field(min_length=1, max_length=100, pattern=NOT_BLANK)
    country: Country = Field(description="ISO 3166-1 alpha-2, upper case, e.g. DE")


class CompanyIn(Strict):
    name: str = Field(min_length=1, max_length=200, pattern=NOT_BLANK)
    address: AddressIn
    phone: str | None = Field(default=None, max_length=40, pattern=r"^\+?[0-9 ()./-]{3,40}$")
    vat_id: str | None = Field(default=None, max_length=30, pattern=r"^[A-Za-z0-9 .-]{2,30}$")


class CompanyChangeOut(BaseModel):
    at: datetime
    by: str


class CompanyOut(CompanyIn):
    account_id: str
    changed_at: datetime
    changed_by: str
    history: list[CompanyChangeOut] = Field(description="every change, oldest first")

    @classmethod
    def of(cls, found: CompanyDetails) -> CompanyOut:
        return cls(
            **found.details,
            account_id=found.account_id,
            changed_at=found.changed_at,
            changed_by=found.changed_by,
            history=[CompanyChangeOut(at=at, by=by) for at, by in found.history],
        )


class CompanyController(Controller):
    path = "/v1/account/company"
    tags = ["account"]

    @get(
        "/", summary="The company's contact details (admins: `account_id`'s)", responses=problems({404: "Not set yet"})
    )
    async def get_company(
        self,
        request: Req,
        company: NamedDependency[CompanyService],
        account_id: Annotated[str | None, QueryParameter(description="admins: whose (default: own)")] = None,
    ) -> CompanyOut:
        return CompanyOut.of(await company.get(request.user, account_id))

    @put(
        "/",
        summary="Set the company's contact details (admins: `account_id`'s); each change is kept in history",
        responses=problems({404: "A customer naming another account (`account_id`)"}),
    )
    async def set_company(
        self,
        data: JSONBody[CompanyIn],
        request: Req,
        company: NamedDependency[CompanyService],
        account_id: Annotated[str | None, QueryParameter(description="admins: whose (default: own)")] = None,
    ) -> CompanyOut:
        return CompanyOut.of(await company.put(request.user, data.model_dump(mode="json"), account_id))
