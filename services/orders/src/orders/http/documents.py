"""HTTP: the documents issued to the caller's account (admins: every account's, or ?account_id), by
kind, newest first; one document; its PDF. Another account's document is 404 (its list is empty)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from pydantic import BaseModel

from orders.http.printing import PDF
from orders.service.documents import Document, DocumentService
from portal_contracts import Money
from portal_runtime.auth import Principal
from portal_runtime.openapi import problems
from portal_runtime.paging import Page, PageRequest

Req = Request[Principal, object, object]
DocumentKind = Literal[
    "quote", "goods_issue", "invoice", "tax_invoice", "goods_receipt", "credit_note", "reconciliation_statement"
]


class DocumentOut(BaseModel):
    document_id: uuid.UUID
    kind: str
    number: str
    account_id: str
    title: str
    issued_at: datetime
    amount: Money | None
    pdf_url: str

    @classmethod
    def of(cls, d: Document) -> DocumentOut:
        amount = Money(amount=d.amount, currency=d.currency) if d.amount is not None and d.currency else None
        return cls(
            document_id=d.id,
            kind=str(d.kind),
            number=d.number,
            account_id=d.account_id,
            title=d.title,
            issued_at=d.issued_at,
            amount=amount,
            pdf_url=f"/v1/account/documents/{d.id}/pdf",
        )


class DocumentController(Controller):
    path = "/v1/account/documents"
    tags = ["documents"]

    @get(
        "/",
        summary="Every document issued to the account (quotes, goods issues, invoices, tax invoices, goods receipts, "
        "credit notes, reconciliation statements), newest first; admins: every account's or account_id's",
        responses=problems({422: "An unknown `kind`"}),
    )
    async def list_account_documents(
        self,
        request: Req,
        documents: NamedDependency[DocumentService],
        page: NamedDependency[PageRequest],
        kind: FromQuery[DocumentKind | None] = None,
        account_id: FromQuery[str | None] = None,
    ) -> Page[DocumentOut]:
        found = await documents.list(request.user, page, kind=kind, account_id=account_id)
        return found.map(DocumentOut.of)

    @get(
        "/{document_id:uuid}",
        summary="One document",
        responses=problems({404: "No such document, or another account's"}),
    )
    async def get_account_document(
        self, document_id: FromPath[uuid.UUID], request: Req, documents: NamedDependency[DocumentService]
    ) -> DocumentOut:
        return DocumentOut.of(await documents.get(request.user, document_id))

    @get(
        "/{document_id:uuid}/pdf",
        summary="The document as a PDF",
        media_type=PDF,
        response_description="the document (`Content-Disposition: attachment`)",
        responses=problems({404: "No such document, or another account's"}),
    )
    async def download_account_document(
        self, document_id: FromPath[uuid.UUID], request: Req, documents: NamedDependency[DocumentService]
    ) -> Response[bytes]:
        printed = await documents.pdf(request.user, document_id)
        return Response(
            printed.content,
            media_type=PDF,
            headers={
                "Content-Disposition": f'attachment; filename="{printed.filename}"',
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "private, no-store",
            },
        )
