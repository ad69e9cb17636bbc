"""Events from returns that billing acts on: a goods receipt (GoodsReceived) of a return resolved
by refund or credit is credited (`billing.service.returned_goods`); once per receipt."""

from __future__ import annotations

from billing.domain.returned_goods import ReceivedGoods, ReceivedLine
from billing.service.returned_goods import ReturnedGoods
from portal_contracts.events.returns import GoodsReceived
from portal_runtime.consumer import EventConsumer, Incoming


def received_goods(event: GoodsReceived) -> ReceivedGoods:
    return ReceivedGoods(
        receipt_id=event.receipt_id,
        receipt_number=event.number,
        rma_id=event.rma_id,
        rma_number=event.rma_number,
        account_id=event.account_id,
        invoice_id=event.invoice_id,
        invoice_number=event.invoice_number,
        resolution=event.resolution,
        lines=tuple(ReceivedLine(line.invoice_line_id, line.description, line.quantity) for line in event.lines),
        received_at=event.received_at,
    )


def register(consumer: EventConsumer, returned_goods: ReturnedGoods) -> None:
    @consumer.on(GoodsReceived)
    async def on_goods_received(incoming: Incoming) -> None:
        await returned_goods.receive(received_goods(incoming.event))  # joins the consumer's unit of work
