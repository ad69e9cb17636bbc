"""HTTP: parse, authorise, call the service, answer. Reads at `/v1/items` (customers see active items);
what admins change at `/v1/admin/items` (the one admin path convention, `/v1/admin/<resource>`)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from catalog.domain.items import (
    ATTRIBUTE_NAME_LENGTH,
    ATTRIBUTE_VALUE_LENGTH,
    CURRENCIES,
    FEATURED_TEXT_LENGTH,
    MAX_ATTRIBUTES,
    Cycle,
    Item,
    Kind,
    Status,
)
from catalog.service.items import COMPARE_MAX, COMPARE_MIN, CatalogService, Comparison, CreateItem
from portal_runtime.auth import Principal, admin_only
from portal_runtime.errors import InvalidInput
from portal_runtime.openapi import decimal_text, problems
from portal_runtime.paging import Page, PageRequest

# What a rule of one field refuses, the document says (pattern, enum, bounds), so that whatever
# it allows is taken; rules across fields (price or prices, a period for recurring, units and
# parents by kind) stay the domain's, answered 422 naming the field.
Price = decimal_text(digits=12)
Currency = Literal[CURRENCIES]  # type: ignore[valid-type]
Sku = Annotated[str, Field(min_length=1, max_length=64, pattern=r"\S", description="not blank")]
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S", description="not blank")]
Description = Annotated[str, Field(max_length=4000)]
Billing = Literal["one_time", "recurring"]
MONTHS = (1, 3, 6, 12, 24, 36)


def _months(value: int) -> int:
    if value not in MONTHS:
        raise ValueError(f"billing_period_months is one of {', '.join(map(str, MONTHS))}")
    return value


# strict: `true` is no 1 (a Literal of ints would take it)
Months = Annotated[
    int, Field(strict=True), AfterValidator(_months), WithJsonSchema({"type": "integer", "enum": list(MONTHS)})
]
Units = Annotated[int, Field(ge=1, description="a unit_package's number of units")]
MaxPerParent = Annotated[int, Field(strict=True, ge=1)]
MAX_PER_PARENT = "an add_on only: how many of it one parent service may have (null: no limit)"
# Decimal text (not a JSON number); the domain checks the range and places (422 naming `tax_rate`).
TAX_RATE_PATTERN = r"^\d{1,6}(\.\d{1,12})?$"
_TAX_RATE = re.compile(TAX_RATE_PATTERN)


def _tax_rate_text(value: object) -> object:
    if isinstance(value, Decimal):
        return value  # made in code, not read from JSON
    if not isinstance(value, str) or not _TAX_RATE.match(value):
        raise ValueError('tax_rate is decimal text, e.g. "0.19" (a JSON number is not taken)')
    return Decimal(value)


# The domain checks each name and value (422 naming `attributes` or `attributes.<name>`); the
# document says the bounds.
Attributes = Annotated[
    dict[str, str],
    WithJsonSchema(
        {
            "type": "object",
            "maxProperties": MAX_ATTRIBUTES,
            "propertyNames": {"minLength": 1, "maxLength": ATTRIBUTE_NAME_LENGTH},
            "additionalProperties": {"type": "string", "minLength": 1, "maxLength": ATTRIBUTE_VALUE_LENGTH},
            "description": f"what customers compare items by (size, material, warranty): at most {MAX_ATTRIBUTES}, "
            f"name 1-{ATTRIBUTE_NAME_LENGTH} characters, value 1-{ATTRIBUTE_VALUE_LENGTH}",
        }
    ),
]
TaxRate = Annotated[
    Decimal,
    BeforeValidator(_tax_rate_text),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": TAX_RATE_PATTERN,
            "examples": ["0.19"],
            "description": "a fraction, 0 up to (not including) 1, at most 4 decimals (0.19 is 19 %); "
            "one out of that range or with more decimals: 422 naming `tax_rate`",
        }
    ),
]
Banner = Annotated[str, Field(min_length=1, max_length=FEATURED_TEXT_LENGTH, pattern=r"\S", description="not blank")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PriceIn(Strict):
    cycle: Cycle
    price: Price


Prices = Annotated[list[PriceIn], Field(min_length=1, max_length=len(Cycle), description="one per cycle")]
Parents = Annotated[list[uuid.UUID], Field(max_length=100)]
OMITTABLE = Field(default=None)  # may be left out, never null (documented without a default)


class ItemIn(Strict):
    """Prices either as `prices` (one per cycle, the primary one first) or, as before cycles, as
    `price` + `billing` (+ `billing_period_months` when recurring)."""

    sku: Sku
    name: Name
    description: Description = ""
    kind: Kind = Kind.SERVICE
    price: Price | None = None
    currency: Currency
    billing: Billing | None = None
    billing_period_months: Months | None = None
    prices: Prices | None = None
    units: Units | None = None
    parents: Parents = Field(default_factory=list, description="an add_on's service items")
    max_per_parent: MaxPerParent | None = Field(default=1, description=f"{MAX_PER_PARENT}; another kind: 422")
    attributes: Attributes = Field(default_factory=dict)
    tax_rate: TaxRate | None = Field(default=None, description="the tax rate of its prices; null or absent: not taxed")


class ItemPatch(Strict):
    """The fields to change; `billing_period_months`, `units`, `max_per_parent` and `tax_rate` may be
    set to null (none; for `max_per_parent`, no limit; for `tax_rate`, not taxed)."""

    sku: Sku = OMITTABLE
    name: Name = OMITTABLE
    description: Description = OMITTABLE
    kind: Kind = OMITTABLE
    price: Price = OMITTABLE
    currency: Currency = OMITTABLE
    billing: Billing = OMITTABLE
    billing_period_months: Months | None = None
    prices: Prices = OMITTABLE
    units: Units | None = None
    parents: Parents = OMITTABLE
    max_per_parent: MaxPerParent | None = Field(default=None, description=MAX_PER_PARENT)
    attributes: Attributes = Field(default=None, description="all of them: the given ones replace the item's")
    tax_rate: TaxRate | None = Field(default=None, description="the tax rate of its prices; null: not taxed")


class FeaturedTextsIn(BaseModel):
    """A text per language, all four; another language is refused (422 naming it), as the document
    says (`additionalProperties: false`)."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": False})

    en: Banner
    tr: Banner
    de: Banner
    pl: Banner


class FeaturedIn(Strict):
    texts: FeaturedTextsIn


class FeaturedTexts(BaseModel):
    """The banner's text in each language."""

    en: str
    tr: str
    de: str
    pl: str


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
    max_per_parent: int | None = Field(
        description="an add_on's limit per parent service (null: no limit, or not an add_on)"
    )
    featured: FeaturedTexts | None = Field(description="the texts while an admin features the item")
    attributes: dict[str, str] = Field(description="what customers compare items by: name → value")
    tax_rate: Decimal | None = Field(description="the tax rate of its prices, a fraction (0.19); null: not taxed")
    status: str
    revision: int
    created_at: datetime | None

    @classmethod
    def of(cls, item: Item) -> ItemOut:
        fields = {f: getattr(item, f) for f in cls.model_fields if f != "prices"}
        return cls(**fields, prices=[PriceOut(cycle=p.cycle, price=p.price) for p in item.prices])


ETAG = ResponseHeader(
    name="ETag",
    description='the item\'s revision (`"3"`): send it in If-Match to change the item',
    required=True,
    documentation_only=True,
)
IF_MATCH = HeaderParameter(
    name="If-Match",
    pattern=r'^(\*|(W/)?"[0-9]{1,18}"|[0-9]{1,18})$',
    description='the ETag the change is based on (`"3"`); a stale one answers 412 and changes nothing. '
    "Optional: without it the change applies to whatever revision is current",
)
CHANGED = {
    409: "The item is retired (`current_status`), or the change conflicts with another item (a taken `sku`)",
    412: "If-Match names an older revision than the current one (`current_revision`); nothing changed",
}


class AttributeRow(BaseModel):
    name: str
    values: list[str | None] = Field(description="each item's value, in the order of `items` (null: none)")


class ComparisonOut(BaseModel):
    items: list[ItemOut]
    attributes: list[AttributeRow] = Field(description="one row per attribute name, in the order they first appear")

    @classmethod
    def of(cls, found: Comparison) -> ComparisonOut:
        return cls(
            items=[ItemOut.of(i) for i in found.items],
            attributes=[AttributeRow(name=n, values=v) for n, v in found.attributes],
        )


def visible_to(user: Principal) -> str | None:
    """The account whose visibility applies: a customer's; none for an admin (who sees everything)."""
    return None if user.is_admin else user.account_id


class ItemController(Controller):
    """Reads, for customers (active items they may see: an account in no access group sees every
    one, an account in groups only their items) and admins (every item)."""

    path = "/v1/items"
    tags = ["items"]

    @get(
        "/",
        summary="List items: customers see active ones; admins may filter by status; `featured=true`: featured ones",
    )
    async def list_items(
        self,
        request: Request[Principal, object, object],
        catalog: NamedDependency[CatalogService],
        page: NamedDependency[PageRequest],
        status: FromQuery[Status | None] = None,
        featured: FromQuery[bool] = False,
        q: Annotated[
            str | None,
            QueryParameter(max_length=200, description="search: each word in the name, SKU or description (any case)"),
        ] = None,
    ) -> Page[ItemOut]:
        if not request.user.is_admin:
            status = Status.ACTIVE
        found = await catalog.list_items(
            status=status, featured=featured, page=page, q=q, visible_to=visible_to(request.user)
        )
        return found.map(ItemOut.of)

    @get(
        "/compare",
        summary=f"Compare {COMPARE_MIN} to {COMPARE_MAX} items side by side by their attributes",
        responses=problems(
            {
                404: "An item the caller may not see, or that does not exist (`item_id`)",
                422: f"Fewer than {COMPARE_MIN} or more than {COMPARE_MAX} ids, or one given twice (`field`: `ids`)",
            }
        ),
    )
    async def compare_items(
        self,
        request: Request[Principal, object, object],
        catalog: NamedDependency[CatalogService],
        ids: Annotated[
            list[uuid.UUID],
            QueryParameter(
                description=f"the items, {COMPARE_MIN} to {COMPARE_MAX} distinct ones: `?ids=A&ids=B` "
                "(fewer, more or one twice: 422 naming `ids`)",
                schema_extra={"minItems": COMPARE_MIN, "maxItems": COMPARE_MAX, "uniqueItems": True},
            ),
        ],
    ) -> ComparisonOut:
        found = await catalog.compare(
            ids or [], include_retired=request.user.is_admin, visible_to=visible_to(request.user)
        )
        return ComparisonOut.of(found)

    @get("/{item_id:uuid}", summary="Read one item (customers: an active one)", response_headers=[ETAG])
    async def get_item(
        self,
        item_id: FromPath[uuid.UUID],
        request: Request[Principal, object, object],
        catalog: NamedDependency[CatalogService],
    ) -> Response[ItemOut]:
        item = await catalog.get_item(
            item_id, include_retired=request.user.is_admin, visible_to=visible_to(request.user)
        )
        return tagged(item)


class AdminItemController(Controller):
    """What admins change; every change is published (CatalogItemPublished / Retired)."""

    path = "/v1/admin/items"
    tags = ["items (admin)"]
    guards = [admin_only]

    @post(
        "/",
        summary="Create an item (admin)",
        response_headers=[ETAG],
        responses=problems({409: "The `sku` is taken by another item"}),
    )
    async def create_item(self, data: JSONBody[ItemIn], catalog: NamedDependency[CatalogService]) -> Response[ItemOut]:
        # max_per_parent left out is the domain's default: 1 for an add-on, none for another kind
        given = data.model_dump(exclude={"prices"} | ({"max_per_parent"} - data.model_fields_set))
        made = await catalog.create_item(CreateItem(**given, prices=_prices(data)))
        return tagged(made, status_code=201)

    @patch(
        "/{item_id:uuid}",
        summary="Change an item (admin); If-Match: its ETag, or 412",
        response_headers=[ETAG],
        responses=problems(CHANGED),
    )
    async def change_item(
        self,
        item_id: FromPath[uuid.UUID],
        data: JSONBody[ItemPatch],
        catalog: NamedDependency[CatalogService],
        if_match: Annotated[str | None, IF_MATCH] = None,
    ) -> Response[ItemOut]:
        changes = data.model_dump(exclude_unset=True)
        if "prices" in changes:
            changes["prices"] = _prices(data)
        return tagged(await catalog.change_item(item_id, changes, if_revision=revision_of(if_match)))

    @post(
        "/{item_id:uuid}/retire",
        status_code=200,
        summary="Retire an item (admin): no longer offered; If-Match: its ETag, or 412",
        response_headers=[ETAG],
        responses=problems({409: "The item is retired already (`current_status`)", 412: CHANGED[412]}),
    )
    async def retire_item(
        self,
        item_id: FromPath[uuid.UUID],
        catalog: NamedDependency[CatalogService],
        if_match: Annotated[str | None, IF_MATCH] = None,
    ) -> Response[ItemOut]:
        return tagged(await catalog.retire_item(item_id, if_revision=revision_of(if_match)))

    @put(
        "/{item_id:uuid}/featured",
        summary="Feature an item (admin): a text per language for the client area's banner; the same texts again "
        "change nothing",
        response_headers=[ETAG],
        responses=problems(
            {
                409: "The item is retired (`current_status`): only an active item is featured",
                422: "A language other than en, tr, de and pl (`field`: `texts.<language>`)",
            }
        ),
    )
    async def feature_item(
        self, item_id: FromPath[uuid.UUID], data: JSONBody[FeaturedIn], catalog: NamedDependency[CatalogService]
    ) -> Response[ItemOut]:
        return tagged(await catalog.feature_item(item_id, data.texts.model_dump()))

    @delete(
        "/{item_id:uuid}/featured",
        status_code=200,
        summary="Feature an item no longer (admin); one that is not featured stays as it is",
        response_headers=[ETAG],
    )
    async def unfeature_item(
        self, item_id: FromPath[uuid.UUID], catalog: NamedDependency[CatalogService]
    ) -> Response[ItemOut]:
        return tagged(await catalog.unfeature_item(item_id))


def _prices(data: ItemIn | ItemPatch) -> list[dict] | None:
    return None if data.prices is None else [{"cycle": p.cycle, "price": p.price} for p in data.prices]


def tagged(item: Item, status_code: int = 200) -> Response[ItemOut]:
    """An item with its revision as a strong ETag (`"3"`): send it back in If-Match to change it."""
    return Response(ItemOut.of(item), status_code=status_code, headers={"ETag": f'"{item.revision}"'})


def revision_of(if_match: str | None) -> int | None:
    """The revision an If-Match names (`"3"`, `W/"3"` or `3`); None when absent or `*`."""
    if if_match is None or if_match.strip() == "*":
        return None
    value = if_match.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise InvalidInput('If-Match must be an ETag of this item, e.g. "3"', field="If-Match")
    return int(value)
