"""Orders from other sales channels (`ChannelOrderReceived`, called by the consumer: it joins the
consumer's unit of work, the inbox row included). One order per (channel, channel_order_id): the
order is looked up first, and the unique index on the pair is the database's guarantee (a second
delivery, even with another event id, or two at once, finds the first's order). A line the
account may not order refuses the message (InvalidInput: the message's own fault, so the runtime
dead-letters it with the reason)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, tzinfo

from orders.domain.channel_orders import ChannelLine, channel_order
from orders.domain.orders import Order
from portal_runtime.clock import Clock, business_date
from portal_runtime.uow import UnitsOfWork

log = logging.getLogger(__name__)


class ChannelOrderService:
    def __init__(self, uow: UnitsOfWork, clock: Clock, tz: tzinfo) -> None:
        self.uow = uow
        self.clock = clock
        self.tz = tz

    async def received(
        self,
        *,
        channel: str,
        channel_order_id: str,
        account_id: str,
        currency: str,
        lines: Sequence[ChannelLine],
        customer_reference: str | None = None,
        ordered_at: datetime | None = None,
    ) -> tuple[Order, bool]:
        """The channel's order, placed now or found placed before; True when placed now."""
        async with self.uow() as uow:
            found = await uow.orders.of_channel(channel, channel_order_id)
            if found is not None:
                log.info("channel %s order %s: already placed as %s", channel, channel_order_id, found.number)
                return found, False
            by_id = await uow.offers.many(line.item_id for line in lines if line.item_id is not None)
            by_sku = await uow.offers.by_skus(line.sku for line in lines if line.item_id is None and line.sku)
            known = {*by_id, *(offer.item_id for offer in by_sku.values())}
            hidden = await uow.visibility.hidden(account_id, known)
            now = self.clock.now()
            today = business_date(now, self.tz)
            terms = await uow.terms.days(account_id)
            order = await uow.orders.add_channel_order(
                lambda number: channel_order(
                    channel=channel,
                    channel_order_id=channel_order_id,
                    account_id=account_id,
                    currency=currency,
                    lines=lines,
                    by_id=by_id,
                    by_sku=by_sku,
                    hidden=hidden,
                    number=number,
                    now=now,
                    today=today,
                    customer_reference=customer_reference,
                    payment_terms_days=terms,
                ),
                today.year,
            )
            if order is None:  # the unique index: another delivery placed it meanwhile
                found = await uow.orders.of_channel(channel, channel_order_id)
                log.info("channel %s order %s: placed meanwhile as %s", channel, channel_order_id, found.number)
                return found, False
            await uow.commit()  # its OrderPlaced staged with it
        return order, True


def lines_of(event_lines) -> list[ChannelLine]:
    return [
        ChannelLine(item_id=line.item_id, sku=line.sku, quantity=line.quantity, unit_price=line.unit_price)
        for line in event_lines
    ]
