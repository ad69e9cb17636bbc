"""HTTP: parse, authorise, call the service, answer."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from litestar import Controller, Request, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody
from pydantic import BaseModel, ConfigDict, Field

from catalog.domain.items import Cycle, Item, Kind, Status
from catalog.service.items import CatalogService, CreateItem
from portal_runtime.auth import Principal, admin_only
from portal_runtime.errors import InvalidInput
from portal_runtime.paging import Page, PageRequest

Price = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PriceIn(Strict):
    cycle: Cycle
    price: Price


Prices = Annotated[list[PriceIn], Field(min_length=1, max_length=len(Cycle))]
Parents = Annotated[list[uuid.UUID], Field(max_length=100)]


class ItemIn(Strict):
    """Prices either as `prices` (one per cycle, the primary one first) or, as before cycles, as
    `price` + `billing` (+ `billing_period_months`: 1, 3, 6, 12, 24 or 36)."""

    sku: Annotated[str, Field(min_length=1, max_length=64)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(max_length=4000)] = ""
    kind: Kind = Kind.SERVICE
    price: Price | None = None
    currency: Currency
    billing: Literal["one_time", "recurring"] | None = None
    billing_period_months: Annotated[int, Field(ge=1, le=120)] | None = None
    prices: Prices | None = None
    units: int | None = Field(default=None, description="a unit_package's number of units")
    parents: Parents = Field(default_factory=list, description="an add_on's service items")


class ItemPatch(Strict):
    sku: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    description: Annotated[str, Field(max_length=4000)] | None = None
    kind: Kind | None = None
    price: Price | None = None
    currency: Currency | None = None
    billing: Literal["one_time", "recurring"] | None = None
    billing_period_months: Annotated[int, Field(ge=1, le=120)] | None = None
    prices: Prices | None = None
    units: int | None = None
    parents: Parents | None = None


class PriceOut(BaseModel):
    cycle: Cycle
    price: Decimal


class ItemOut(BaseModel):
    """`price`, `billing` and `billing_period_months` are the primary price (the first of `prices`)."""

    id: uuid.UUID
    sku: str
    name: str
    description: str
    kind: Kind
    price: Decimal
    currency: str
    billing: str
    billing_period_months: int | None
    prices: list[PriceOut]
    units: int | None
    parents: list[uuid.UUID]
    status: str
    revision: int
    created_at: datetime | None

    @classmethod
    def of(cls, item: Item) -> ItemOut:
        fields = {f: getattr(item, f) for f in cls.model_fields if f != "prices"}
        return cls(**fields, prices=[PriceOut(cycle=p.cycle, price=p.price) for p in item.prices])


class ItemController(Controller):
    path = "/v1/items"
    tags = ["items"]

    @post("/", guards=[admin_only], summary="Create an item (admin)")
    async def create(self, data: JSONBody[ItemIn], catalog: NamedDependency[CatalogService]) -> ItemOut:
        return ItemOut.of(
            await catalog.create_item(CreateItem(**data.model_dump(exclude={"prices"}), prices=_prices(data)))
        )

    @patch("/{item_id:uuid}", guards=[admin_only], summary="Change an item (admin); If-Match: its ETag, or 412")
    async def change(
        self,
        item_id: FromPath[uuid.UUID],
        data: JSONBody[ItemPatch],
        catalog: NamedDependency[CatalogService],
        if_match: Annotated[str | None, HeaderParameter(name="If-Match", max_length=40)] = None,
    ) -> Response[ItemOut]:
        changes = data.model_dump(exclude_unset=True)
        for name, value in changes.items():
            if value is None and name not in ("billing_period_months", "units"):
                raise InvalidInput(f"{name} must not be null", field=name)
        if "prices" in changes:
            changes["prices"] = _prices(data)
        return tagged(await catalog.change_item(item_id, changes, if_revision=revision_of(if_match)))

    @post("/{item_id:uuid}/retire", guards=[admin_only], status_code=200, summary="Retire an item (admin)")
    async def retire(
        self,
        item_id: FromPath[uuid.UUID],
        catalog: NamedDependency[CatalogService],
        if_match: Annotated[str | None, HeaderParameter(name="If-Match", max_length=40)] = None,
    ) -> Response[ItemOut]:
        return tagged(await catalog.retire_item(item_id, if_revision=revision_of(if_match)))

    @get("/", summary="List items: customers see active ones; admins may filter by status")
    async def list_items(
        self,
        request: Request[Principal, object, object],
        catalog: NamedDependency[CatalogService],
        page: NamedDependency[PageRequest],
        status: FromQuery[Status | None] = None,
    ) -> Page[ItemOut]:
        if not request.user.is_admin:
            status = Status.ACTIVE
        found = await catalog.list_items(status=status, page=page)
        return found.map(ItemOut.of)

    @get("/{item_id:uuid}", summary="Read one item")
    async def read(
        self,
        item_id: FromPath[uuid.UUID],
        request: Request[Principal, object, object],
        catalog: NamedDependency[CatalogService],
    ) -> Response[ItemOut]:
        return tagged(await catalog.get_item(item_id, include_retired=request.user.is_admin))


def _prices(data: ItemIn | ItemPatch) -> list[dict] | None:
    return None if data.prices is None else [{"cycle": p.cycle, "price": p.price} for p in data.prices]


def tagged(item: Item) -> Response[ItemOut]:
    """An item with its revision as a strong ETag (`"3"`): send it back in If-Match to change it."""
    return Response(ItemOut.of(item), headers={"ETag": f'"{item.revision}"'})


def revision_of(if_match: str | None) -> int | None:
    """The revision an If-Match names (`"3"`, `W/"3"` or `3`); None when absent or `*`."""
    if if_match is None or if_match.strip() == "*":
        return None
    value = if_match.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise InvalidInput('If-Match must be an ETag of this item, e.g. "3"', field="If-Match")
    return int(value)
