"""Published documents: a file with a title (a brochure, terms of sale) that admins publish, visible
to every account when it names no access group, else only to the accounts in one of its groups."""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from portal_runtime.errors import InvalidInput

MAX_SIZE = 10 * 1024 * 1024  # 10 MiB
TITLE_LENGTH = 200
FILENAME_LENGTH = 255
MAX_GROUPS = 100
DEFAULT_CONTENT_TYPE = "application/octet-stream"
# type/subtype with optional parameters: what may go back in a Content-Type header as it is
_CONTENT_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}(;[ -~]*)?$")


def title_of(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > TITLE_LENGTH:
        raise InvalidInput(f"title is 1 to {TITLE_LENGTH} characters, not blank", field="title")
    return value.strip()


def filename_of(value: str | None) -> str:
    """The uploaded name without any folder a browser sent, without control characters, at most 255
    characters (its extension kept); none: `document`."""
    name = (value or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().strip(".") or "document"
    if len(name) > FILENAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        name = f"{stem[: FILENAME_LENGTH - len(ext) - 1]}.{ext}" if dot and len(ext) < 20 else name[:FILENAME_LENGTH]
    return name


def content_type_of(value: str | None) -> str:
    """The uploaded content type when it is a well-formed one, else application/octet-stream."""
    value = (value or "").strip()
    return value if _CONTENT_TYPE.match(value) else DEFAULT_CONTENT_TYPE


@dataclass
class Document:
    id: uuid.UUID
    title: str
    filename: str
    content_type: str
    size: int
    group_ids: list[uuid.UUID] = field(default_factory=list)
    revision: int = 1
    created_at: datetime | None = None
    updated_at: datetime | None = None
    created_by: str = ""
    content: bytes | None = field(default=None, repr=False)  # only when uploaded (stored once)
    deleted: bool = False

    @classmethod
    def upload(
        cls,
        *,
        title: object,
        filename: str | None,
        content_type: str | None,
        content: bytes,
        group_ids: Iterable[uuid.UUID],
        by: str,
        now: datetime,
    ) -> Document:
        if not content:
            raise InvalidInput("the file is empty", field="file")
        if len(content) > MAX_SIZE:
            raise InvalidInput(f"the file is larger than {MAX_SIZE // (1024 * 1024)} MiB", field="file")
        return cls(
            id=uuid.uuid4(),
            title=title_of(title),
            filename=filename_of(filename),
            content_type=content_type_of(content_type),
            size=len(content),
            group_ids=_groups(group_ids),
            created_at=now,
            updated_at=now,
            created_by=by,
            content=content,
        )

    def change(self, *, title: object, group_ids: Iterable[uuid.UUID], now: datetime) -> None:
        title, groups = title_of(title), _groups(group_ids)
        if (title, groups) != (self.title, self.group_ids):
            self.title, self.group_ids = title, groups
            self.revision += 1
            self.updated_at = now

    def delete(self) -> None:
        self.deleted = True


def _groups(group_ids: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    groups = list(dict.fromkeys(group_ids))
    if len(groups) > MAX_GROUPS:
        raise InvalidInput(f"a document names at most {MAX_GROUPS} groups", field="group_ids")
    return groups
