"""An order another sales channel took (`ChannelOrderReceived`), as orders places it: each line's
item found in orders' catalog copy by its id or SKU, at the channel's unit price (amount = quantity ×
price, half-up to cents), kind `good` for goods and `new` for services (one service per line, from
the day it is placed, in the item's primary cycle). An unknown, retired, invisible or add-on item, or
an item in another currency, refuses the whole order (InvalidInput naming the line): never
silently shortened."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from orders.domain.lines import LineKind, OrderLine, canonical_rate
from orders.domain.offers import Offer, months_of
from orders.domain.orders import Order, Source
from portal_runtime.errors import InvalidInput
from portal_runtime.kernel import add_months, cents

GOOD_CYCLE = "one_time"


@dataclass(frozen=True)
class ChannelLine:
    item_id: uuid.UUID | None
    sku: str | None
    quantity: int
    unit_price: Decimal


def placed_by(channel: str) -> str:
    return f"channel:{channel}"


def resolve(line: ChannelLine, by_id: Mapping[uuid.UUID, Offer], by_sku: Mapping[str, Offer]) -> Offer | None:
    """The copy of the line's item: by its id when it names one, else by its SKU."""
    if line.item_id is not None:
        return by_id.get(line.item_id)
    return by_sku.get(line.sku) if line.sku else None


def channel_order(
    *,
    channel: str,
    channel_order_id: str,
    account_id: str,
    currency: str,
    lines: Sequence[ChannelLine],
    by_id: Mapping[uuid.UUID, Offer],
    by_sku: Mapping[str, Offer],
    hidden: set[uuid.UUID],
    number: str,
    now: datetime,
    today: date,
    customer_reference: str | None = None,
    payment_terms_days: int | None = None,
) -> Order:
    """The channel's order placed (OrderPlaced, source channel, with the account's payment terms).
    `by_id`/`by_sku`: orders' catalog copy of the lines' items; `hidden`: those the account may not see."""
    placed = []
    for index, line in enumerate(lines):
        field = f"lines[{index}]"
        named = f"item {line.item_id}" if line.item_id is not None else f"SKU {line.sku!r}"
        if line.item_id is None and not line.sku:
            raise InvalidInput(f"line {index + 1} names no item (item_id or sku)", field=field)
        offer = resolve(line, by_id, by_sku)
        if offer is None or offer.item_id in hidden:  # an invisible item answers as an unknown one
            raise InvalidInput(f"line {index + 1}: {named} is unknown", field=field, reason="unknown")
        if not offer.is_offered:
            raise InvalidInput(f"line {index + 1}: {named} is retired", field=field, reason="retired")
        if offer.kind not in ("good", "service"):
            raise InvalidInput(
                f"line {index + 1}: {named} is {offer.kind}, not a good or a service", field=field, reason="not_offered"
            )
        if offer.currency and offer.currency != currency:
            raise InvalidInput(
                f"line {index + 1}: {named} is sold in {offer.currency}, the order is in {currency}",
                field=field,
                reason="currency",
            )
        amount = cents(line.unit_price * line.quantity)
        common = {
            "line_id": uuid.uuid4(),
            "item_id": offer.item_id,
            "sku": offer.sku,
            "name": offer.name or "",
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "amount": amount,
            "currency": currency,
            "tax_rate": canonical_rate(offer.tax_rate),  # the item's rate now
        }
        if offer.kind == "good":
            placed.append(
                OrderLine(
                    **common,
                    kind=LineKind.GOOD,
                    cycle=GOOD_CYCLE,
                    subscription_id=None,
                    period_start=None,
                    period_end=None,
                )
            )
            continue
        cycle = offer.cycles[0] if offer.cycles else GOOD_CYCLE
        months = months_of(cycle)
        placed.append(
            OrderLine(
                **common,
                kind=LineKind.NEW,
                cycle=cycle,
                subscription_id=uuid.uuid4(),
                period_start=today,
                period_end=add_months(today, months) if months else None,
            )
        )
    return Order.place(
        account_id=account_id,
        number=number,
        source=Source.CHANNEL,
        lines=placed,
        by=placed_by(channel),
        now=now,
        placed_on=today,
        channel=channel,
        channel_order_id=channel_order_id,
        customer_reference=customer_reference,
        placed_by=placed_by(channel),
        payment_terms_days=payment_terms_days,
    )
