"""A catalog item: an additional service, product or add-on, with its price and billing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from portal_runtime.errors import Conflict, InvalidInput

BILLINGS = ("one_time", "recurring")
CURRENCIES = ("EUR", "USD", "GBP", "TRY", "PLN")


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
    status: str = "active"
    revision: int = 1
    created_at: datetime | None = None
    changes: list[str] = field(default_factory=list, repr=False)

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
        item.changes.append("published")
        return item

    def change(self, **fields: object) -> None:
        if self.status != "active":
            raise Conflict("a retired item cannot be changed", current_status=self.status)
        for name, value in fields.items():
            setattr(self, name, value)
        if fields.get("billing") == "one_time" and "billing_period_months" not in fields:
            self.billing_period_months = None
        self._check()
        self.revision += 1
        self.changes.append("published")

    def retire(self) -> None:
        if self.status == "retired":
            raise Conflict("the item is retired already", current_status=self.status)
        self.status = "retired"
        self.revision += 1
        self.changes.append("retired")

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
