"""What other sales channels (a marketplace, an EDI gateway, a shop) publish: the orders they took for a
portal account (`channels.orders`). Orders, which keeps every account's orders, reads it.

The channel names itself (`channel`) and its own order id (`channel_order_id`): the same pair received
twice is one order."""

from __future__ import annotations

import uuid

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from portal_contracts.base import DecimalString, Event, event


class ChannelOrderLine(BaseModel):
    """A line as the channel sold it: the item by its catalog id or its SKU, at the channel's price."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    item_id: uuid.UUID | None = None
    sku: str | None = None
    quantity: int = Field(ge=1)
    unit_price: DecimalString = Field(description="the channel's price per unit, in the order's currency")


@event(topic="channels.orders", version=1, key="channel_order_id")
class ChannelOrderReceived(Event):
    """A sales channel took an order for an account. Orders places it (source `channel`) at the channel's
    prices; an item the account may not see or that is not offered makes the order refused (dead letter
    with the reason), never silently shortened."""

    channel: str = Field(min_length=1, max_length=100)
    channel_order_id: str = Field(min_length=1, max_length=200)
    account_id: str = Field(min_length=1)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    lines: list[ChannelOrderLine] = Field(min_length=1)
    customer_reference: str | None = None
    ordered_at: AwareDatetime
