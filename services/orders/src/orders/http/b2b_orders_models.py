"""What the HTTP API reads and answers for goods' quantities, reorders and an order's hold."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, Field

from orders.domain.carts import MAX_GOOD_QUANTITY
from orders.http.models import CartOut, Strict
from orders.service.reorder import Reordered


class QuantityLineIn(Strict):
    quantity: Annotated[int, Field(strict=True, ge=1, le=MAX_GOOD_QUANTITY, description="goods: how many")]


class HoldIn(Strict):
    note: Annotated[str | None, Field(max_length=500, description="why (shown in the order's history)")] = None


class SkippedOut(BaseModel):
    item_id: uuid.UUID
    name: str
    reason: str = Field(
        description="invisible (the account may not see the item now), retired (or unknown), not_offered "
        "(no longer sold as it was: another kind, cycle or currency)"
    )


class ReorderOut(BaseModel):
    cart: CartOut
    skipped: list[SkippedOut]

    @classmethod
    def of(cls, done: Reordered) -> ReorderOut:
        return cls(
            cart=CartOut.of(done.cart),
            skipped=[SkippedOut(item_id=s.item_id, name=s.name, reason=s.reason) for s in done.skipped],
        )
