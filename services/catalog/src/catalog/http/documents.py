"""HTTP: published documents. Admins upload them (`POST /v1/admin/documents`, multipart), change
their title and groups, delete them; everyone reads the ones it may see at `/v1/documents`: a
document naming no access group is every account's, one naming groups only their accounts'
(another answers 404, as an unknown one). The file comes back with its content type and its name."""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody
from pydantic import BaseModel, ConfigDict, Field

from catalog.domain.documents import MAX_GROUPS, MAX_SIZE, TITLE_LENGTH, Document
from catalog.http.items import visible_to
from catalog.service.documents import DocumentService, Upload
from portal_runtime.auth import Principal, admin_only
from portal_runtime.errors import DomainError, InvalidInput
from portal_runtime.openapi import problems
from portal_runtime.paging import Page, PageRequest
from portal_runtime.problems import problem

# the multipart body around a file of MAX_SIZE: its other parts and boundaries
BODY_LIMIT = MAX_SIZE + 256 * 1024


class TooLarge(DomainError):
    status_code = 413


def _not_text(request: Request, exc: UnicodeDecodeError) -> Response:
    """Litestar reads a part without a file name as text: one that is not UTF-8 is a malformed body."""
    detail = "a form part without a file name must be UTF-8 text (send the file with its file name)"
    return problem(400, detail, kind="malformed-body").to_response(request)


@dataclass
class DocumentUpload:
    """`file` (at most 10 MiB), `title` (1-200 characters), `group_ids` (repeated; none: every account sees it)."""

    title: str = ""
    file: UploadFile | None = None
    group_ids: list[str] = field(default_factory=list)


class DocumentChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, Field(min_length=1, max_length=TITLE_LENGTH, pattern=r"\S")]
    group_ids: list[uuid.UUID] = Field(
        default_factory=list, max_length=MAX_GROUPS, description="none: every account sees the document"
    )


class DocumentOut(BaseModel):
    id: uuid.UUID
    title: str
    filename: str
    content_type: str
    size: int = Field(description="bytes")
    group_ids: list[uuid.UUID] | None = Field(
        description="admins: the access groups whose accounts see it (none: everyone); null for customers"
    )
    revision: int
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, document: Document, *, admin: bool = True) -> DocumentOut:
        fields = {f: getattr(document, f) for f in cls.model_fields if f != "group_ids"}
        return cls(**fields, group_ids=list(document.group_ids) if admin else None)


def content_disposition(filename: str) -> str:
    """`attachment` with the file's name (RFC 6266): an ASCII fallback in `filename`, and the name
    itself percent-encoded as UTF-8 in `filename*` (RFC 8187) when it is not plain ASCII (the
    fallback without accents, `_` for what ASCII has not)."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", filename) if not unicodedata.combining(c))
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in plain)
    header = f'attachment; filename="{fallback}"'
    if fallback != filename:
        header += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return header


def _group_ids(values: list[str]) -> list[uuid.UUID]:
    try:
        return [uuid.UUID(v) for v in values if v.strip()]
    except ValueError:
        raise InvalidInput("group_ids: each an access group's id", field="group_ids") from None


class AdminDocumentController(Controller):
    path = "/v1/admin/documents"
    tags = ["documents (admin)"]
    guards = [admin_only]

    @post(
        "/",
        summary="Publish a document (admin): multipart `file` (at most 10 MiB), `title`, optional `group_ids`",
        request_max_body_size=BODY_LIMIT,
        exception_handlers={UnicodeDecodeError: _not_text},
        responses=problems(
            {
                413: "The file is larger than 10 MiB",
                422: "No file or an empty one (`file`), a blank or long title (`title`), or an unknown access "
                "group (`group_ids`, `unknown_ids`)",
            }
        ),
    )
    async def upload_document(
        self,
        request: Request[Principal, object, object],
        data: Annotated[DocumentUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        documents: NamedDependency[DocumentService],
    ) -> DocumentOut:
        if not isinstance(data.file, UploadFile):
            raise InvalidInput("a file is required (multipart part `file`)", field="file")
        content = await data.file.read(MAX_SIZE + 1)
        if len(content) > MAX_SIZE:
            raise TooLarge(f"the file is larger than {MAX_SIZE // (1024 * 1024)} MiB", field="file")
        made = await documents.upload(
            Upload(
                title=data.title,
                filename=data.file.filename,
                content_type=data.file.content_type,
                content=content,
                group_ids=_group_ids(data.group_ids),
                by=request.user.actor,
            )
        )
        return DocumentOut.of(made)

    @put("/{document_id:uuid}", summary="Change a document's title and access groups (admin)")
    async def change_document(
        self,
        document_id: FromPath[uuid.UUID],
        data: JSONBody[DocumentChange],
        documents: NamedDependency[DocumentService],
    ) -> DocumentOut:
        return DocumentOut.of(await documents.change(document_id, title=data.title, group_ids=data.group_ids))

    @delete("/{document_id:uuid}", summary="Delete a document (admin)")
    async def delete_document(
        self, document_id: FromPath[uuid.UUID], documents: NamedDependency[DocumentService]
    ) -> None:
        await documents.delete(document_id)


class DocumentController(Controller):
    """What a caller may see: admins every document; a customer those naming no group or one of its account's."""

    path = "/v1/documents"
    tags = ["documents"]

    @get("/", summary="List the documents the caller may see, newest first")
    async def list_documents(
        self,
        request: Request[Principal, object, object],
        documents: NamedDependency[DocumentService],
        page: NamedDependency[PageRequest],
    ) -> Page[DocumentOut]:
        found = await documents.list(page, visible_to=visible_to(request.user))
        return found.map(lambda d: DocumentOut.of(d, admin=request.user.is_admin))

    @get("/{document_id:uuid}", summary="Read a document's title, name, type and size")
    async def get_document(
        self,
        document_id: FromPath[uuid.UUID],
        request: Request[Principal, object, object],
        documents: NamedDependency[DocumentService],
    ) -> DocumentOut:
        found = await documents.get(document_id, visible_to=visible_to(request.user))
        return DocumentOut.of(found, admin=request.user.is_admin)

    @get(
        "/{document_id:uuid}/file",
        summary="Download a document: its bytes, its content type, `Content-Disposition: attachment` with its name",
        response_description="the file",
        media_type="application/octet-stream",
    )
    async def download_document(
        self,
        document_id: FromPath[uuid.UUID],
        request: Request[Principal, object, object],
        documents: NamedDependency[DocumentService],
    ) -> Response[bytes]:
        document, content = await documents.download(document_id, visible_to=visible_to(request.user))
        return Response(
            content,
            media_type=document.content_type,
            headers={
                "Content-Disposition": content_disposition(document.filename),
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "private, no-store",
            },
        )
