"""One page model and one paging query for every list.

Written here rather than taken from advanced-alchemy (`list_and_count` + `OffsetPagination`):
our repositories map rows to domain objects and do not derive from its repository base, so what
remains to reuse is a 4-field container and one COUNT query. `Page` is the answer shape of every
list (items, total, limit, offset); `fetch_page` runs the page query and its count.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from litestar.params import QueryParameter
from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")
U = TypeVar("U")
MAX_LIMIT = 200
MAX_OFFSET = 1_000_000_000  # far beyond any list; keeps a hostile offset (2^63) a 400, not a 500

Limit = Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT, description="items per page")]
Offset = Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET, description="items to skip")]


@dataclass(frozen=True)
class PageRequest:
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class Slice(Generic[T]):
    """A page of domain objects, before the HTTP layer turns it into a `Page` of its schema."""

    items: Sequence[T]
    total: int
    limit: int
    offset: int

    @classmethod
    def empty(cls, page: PageRequest) -> Slice[T]:
        return cls([], 0, page.limit, page.offset)

    def map(self, fn: Callable[[T], U]) -> Page[U]:
        return Page[Any](items=[fn(i) for i in self.items], total=self.total, limit=self.limit, offset=self.offset)


def page_parameters(limit: Limit = 50, offset: Offset = 0) -> PageRequest:
    """`limit` and `offset`, declared once: every list handler takes `page: NamedDependency[PageRequest]`
    (the app provides it as the dependency `page`)."""
    return PageRequest(limit, offset)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


async def fetch_page(
    session: AsyncSession, stmt: Select, page: PageRequest, *, scalars: bool = True
) -> tuple[list, int]:
    """Rows of `stmt` (already ordered) for the page, and how many rows there are in all."""
    total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    limited = stmt.limit(page.limit).offset(page.offset)
    rows = (await session.scalars(limited)).all() if scalars else (await session.execute(limited)).all()
    return list(rows), int(total or 0)
