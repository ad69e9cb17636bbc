"""Events catalog publishes about its items (services, add-ons, unit packages, goods)."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from portal_contracts.base import DecimalString, Event, Money, event

Language = Literal["en", "tr", "de", "pl"]
Kind = Literal["service", "add_on", "unit_package", "good"]
Cycle = Literal["monthly", "quarterly", "semi_annual", "annual", "biennial", "triennial", "one_time"]


class CyclePrice(BaseModel):
    """The price of an item for one billing cycle, in the item's one currency (`price.currency`)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    cycle: Cycle
    price: DecimalString


@event(topic="catalog.items", version=1, key="item_id")
class CatalogItemPublished(Event):
    """An item is offered, or its offer changed (name, prices, kind). The whole current state.

    `price`, `billing` and `billing_period_months` are the item's primary price (the first of
    `prices`), as before kinds and cycles; events published before them read as a `service` with
    that one price."""

    item_id: uuid.UUID
    sku: str
    name: str
    description: str = ""
    price: Money
    billing: Literal["one_time", "recurring"]
    billing_period_months: int | None = Field(default=None, ge=1)
    revision: int = Field(ge=1, description="grows by one with each change of the item")
    published_at: AwareDatetime
    kind: Kind = Field(default="service", description="service, add_on, unit_package or good")
    prices: list[CyclePrice] = Field(
        default_factory=list, description="every (cycle, price) of the item, the primary one first"
    )
    units: int | None = Field(default=None, ge=1, description="a unit_package's number of units")
    parents: list[uuid.UUID] = Field(
        default_factory=list, description="an add_on's service items, the ones it may be added to"
    )
    featured: dict[Language, str] | None = Field(
        default=None, description="set when an admin features the item: a short text per language (en, tr, de, pl)"
    )
    max_per_parent: int | None = Field(
        default=1, ge=1, description="an add_on: how many one parent service may have (null: no limit)"
    )
    attributes: dict[str, str] = Field(
        default_factory=dict,
        description="what a customer compares items by (e.g. size, material, warranty): name → value",
    )
    tax_rate: DecimalString | None = Field(
        default=None, description="the tax rate of its price, a fraction (0.19 is 19 %); none: not taxed"
    )


@event(topic="catalog.items", version=1, key="item_id")
class CatalogItemRetired(Event):
    """An item is no longer offered; what was bought stays bought."""

    item_id: uuid.UUID
    revision: int = Field(ge=1)
    retired_at: AwareDatetime


# ---------------------------------------------------------------- catalog.access: access groups


@event(topic="catalog.access", version=1, key="group_id")
class AccessGroupChanged(Event):
    """An access group was made or changed: the whole current state. An account in no group sees every
    published item; an account in one or more groups sees only the items of their union."""

    group_id: uuid.UUID
    name: str
    item_ids: list[uuid.UUID] = Field(description="the items the group's accounts may see and order")
    account_ids: list[str] = Field(description="the accounts assigned to the group")
    revision: int = Field(ge=1, description="grows by one with each change of the group")
    changed_at: AwareDatetime


@event(topic="catalog.access", version=1, key="group_id")
class AccessGroupDeleted(Event):
    """An access group is gone: its accounts are no longer limited by it."""

    group_id: uuid.UUID
    revision: int = Field(ge=1)
    deleted_at: AwareDatetime
