"""HTTP: parse, authorise, call the service, answer."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from pydantic import BaseModel, ConfigDict, Field

from catalog.domain.items import Item, Status
from catalog.service.items import CatalogService, CreateItem
from portal_runtime.auth import Principal, admin_only
from portal_runtime.errors import InvalidInput
from portal_runtime.paging import Page, PageRequest

Price = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ItemIn(Strict):
    sku: Annotated[str, Field(min_length=1, max_length=64)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(max_length=4000)] = ""
    price: Price
    currency: Currency
    billing: Literal["one_time", "recurring"]
    billing_period_months: Annotated[int, Field(ge=1, le=120)] | None = None


class ItemPatch(Strict):
    sku: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    description: Annotated[str, Field(max_length=4000)] | None = None
    price: Price | None = None
    currency: Currency | None = None
    billing: Literal["one_time", "recurring"] | None = None
    billing_period_months: Annotated[int, Field(ge=1, le=120)] | None = None


class ItemOut(BaseModel):
    id: uuid.UUID
    sku: str
    name: str
    description: str
    price: Decimal
    currency: str
    billing: str
    billing_period_months: int | None
    status: str
    revision: int
    created_at: datetime | None

    @classmethod
    def of(cls, item: Item) -> ItemOut:
        return cls(**{f: getattr(item, f) for f in cls.model_fields})


class ItemController(Controller):
    path = "/v1/items"
    tags = ["items"]

    @post("/", guards=[admin_only], summary="Create an item (admin)")
    async def create(self, data: JSONBody[ItemIn], catalog: NamedDependency[CatalogService]) -> ItemOut:
        return ItemOut.of(await catalog.create_item(CreateItem(**data.model_dump())))

    @patch("/{item_id:uuid}", guards=[admin_only], summary="Change an item (admin)")
    async def change(
        self,
        item_id: FromPath[uuid.UUID],
        data: JSONBody[ItemPatch],
        catalog: NamedDependency[CatalogService],
    ) -> ItemOut:
        changes = data.model_dump(exclude_unset=True)
        for name, value in changes.items():
            if value is None and name != "billing_period_months":
                raise InvalidInput(f"{name} must not be null", field=name)
        return ItemOut.of(await catalog.change_item(item_id, changes))

    @post("/{item_id:uuid}/retire", guards=[admin_only], status_code=200, summary="Retire an item (admin)")
    async def retire(self, item_id: FromPath[uuid.UUID], catalog: NamedDependency[CatalogService]) -> ItemOut:
        return ItemOut.of(await catalog.retire_item(item_id))

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
    ) -> ItemOut:
        return ItemOut.of(await catalog.get_item(item_id, include_retired=request.user.is_admin))
