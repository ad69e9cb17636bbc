"""A catalog item: an additional service, product or add-on, with its price and billing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from catalog.domain.events import ItemPublished, ItemRetired
from portal_runtime.errors import InvalidInput
from portal_runtime.lifecycle import Lifecycle

BILLINGS = ("one_time", "recurring")
CURRENCIES = ("EUR", "USD", "GBP", "TRY", "PLN")


class Status(StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"


LIFECYCLE = Lifecycle("item", {(Status.ACTIVE, "change"): Status.ACTIVE, (Status.ACTIVE, "retire"): Status.RETIRED})


@dataclass
class Item:
    id: uuid.UUID
    sku: str
    name: str
    description: str
    price: Decimal
    currency: str
    billing: str
    billing_period_months: int | None
    status: Status = Status.ACTIVE
    revision: int = 1
    created_at: datetime | None = None
    events: list[ItemPublished | ItemRetired] = field(default_factory=list, repr=False)

    @classmethod
    def create(
        cls,
        *,
        sku: str,
        name: str,
        description: str,
        price: Decimal,
        currency: str,
        billing: str,
        billing_period_months: int | None,
        now: datetime,
    ) -> Item:
        item = cls(
            id=uuid.uuid4(),
            sku=sku.strip(),
            name=name.strip(),
            description=description,
            price=price,
            currency=currency,
            billing=billing,
            billing_period_months=billing_period_months,
            created_at=now,
        )
        item._check()
        item._published(now)
        return item

    def change(self, now: datetime, **fields: object) -> None:
        LIFECYCLE.target(self.status, "change")
        for name, value in fields.items():
            setattr(self, name, value)
        if fields.get("billing") == "one_time" and "billing_period_months" not in fields:
            self.billing_period_months = None
        self._check()
        self.revision += 1
        self._published(now)

    def retire(self, now: datetime) -> None:
        self.status = LIFECYCLE.target(self.status, "retire")
        self.revision += 1
        self.events.append(ItemRetired(item_id=self.id, revision=self.revision, at=now))

    def _published(self, now: datetime) -> None:
        self.events.append(
            ItemPublished(
                item_id=self.id,
                sku=self.sku,
                name=self.name,
                description=self.description,
                price=self.price,
                currency=self.currency,
                billing=self.billing,
                billing_period_months=self.billing_period_months,
                revision=self.revision,
                at=now,
            )
        )

    def _check(self) -> None:
        if not self.sku:
            raise InvalidInput("sku must not be empty", field="sku")
        if not self.name:
            raise InvalidInput("name must not be empty", field="name")
        if self.price < 0:
            raise InvalidInput("price must not be negative", field="price")
        if self.price != self.price.quantize(Decimal("0.01")):
            raise InvalidInput("price has at most two decimal places", field="price")
        if self.currency not in CURRENCIES:
            raise InvalidInput(f"currency must be one of {', '.join(CURRENCIES)}", field="currency")
        if self.billing not in BILLINGS:
            raise InvalidInput("billing must be one_time or recurring", field="billing")
        if self.billing == "recurring" and not self.billing_period_months:
            raise InvalidInput("a recurring item needs billing_period_months", field="billing_period_months")
        if self.billing == "one_time" and self.billing_period_months:
            raise InvalidInput("a one-time item has no billing period", field="billing_period_months")
