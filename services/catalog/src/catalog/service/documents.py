"""Use cases of published documents: admins upload, change and delete them; a customer sees a
document that names no access group, or one naming a group its account is in (else: 404, as unknown)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from catalog.domain.documents import Document
from portal_runtime.clock import Clock
from portal_runtime.errors import InvalidInput, NotFound
from portal_runtime.paging import PageRequest, Slice
from portal_runtime.uow import UnitsOfWork


@dataclass
class Upload:
    title: str
    filename: str | None
    content_type: str | None
    content: bytes
    group_ids: list[uuid.UUID]
    by: str


class DocumentService:
    def __init__(self, uow: UnitsOfWork, clock: Clock) -> None:
        self.uow = uow
        self.clock = clock

    async def upload(self, cmd: Upload) -> Document:
        async with self.uow() as uow:
            document = Document.upload(**vars(cmd), now=self.clock.now())
            await _check_groups(uow, document.group_ids)
            uow.documents.add(document)
            await uow.commit()
        document.content = None
        return document

    async def change(self, document_id: uuid.UUID, *, title: str, group_ids: Iterable[uuid.UUID]) -> Document:
        async with self.uow() as uow:
            document = await self._load(uow, document_id, for_update=True)
            document.change(title=title, group_ids=group_ids, now=self.clock.now())
            await _check_groups(uow, document.group_ids)
            await uow.commit()
        return document

    async def delete(self, document_id: uuid.UUID) -> None:
        async with self.uow() as uow:
            document = await self._load(uow, document_id, for_update=True)
            document.delete()
            await uow.commit()

    async def get(self, document_id: uuid.UUID, *, visible_to: str | None = None) -> Document:
        async with self.uow() as uow:
            return await self._load(uow, document_id, visible_to=visible_to)

    async def download(self, document_id: uuid.UUID, *, visible_to: str | None = None) -> tuple[Document, bytes]:
        async with self.uow() as uow:
            document = await self._load(uow, document_id, visible_to=visible_to)
            return document, await uow.documents.content(document_id)

    async def list(self, page: PageRequest, *, visible_to: str | None = None) -> Slice[Document]:
        async with self.uow() as uow:
            return await uow.documents.page(page, visible_to=visible_to)

    @staticmethod
    async def _load(uow, document_id: uuid.UUID, **how) -> Document:
        document = await uow.documents.get(document_id, **how)
        if document is None:
            raise NotFound(f"no document {document_id}")
        return document


async def _check_groups(uow, group_ids: list[uuid.UUID]) -> None:
    """A document's groups are access groups (422 naming `group_ids` with the unknown ones)."""
    known = await uow.groups.existing(group_ids)
    unknown = [g for g in group_ids if g not in known]
    if unknown:
        raise InvalidInput(
            f"group_ids: no such access groups: {', '.join(map(str, unknown))}",
            field="group_ids",
            unknown_ids=[str(g) for g in unknown],
        )
