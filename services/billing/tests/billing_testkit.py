"""Helpers of billing's tests: events as orders would publish them, and reading topics."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from portal_contracts import Envelope, Money
from portal_contracts.events.orders import RequestApproved, RequestLine

CARD_OK = {"number": "4242424242424242", "expiry_month": 12, "expiry_year": 2030, "cvc": "123"}
CARD_DECLINED = {**CARD_OK, "number": "4000000000000002"}


def approved(
    account: str, *, request_id: uuid.UUID | None = None, total: str = "129.70", currency: str = "EUR"
) -> RequestApproved:
    def money(amount: str) -> Money:
        return Money(amount=Decimal(amount), currency=currency)

    return RequestApproved(
        request_id=request_id or uuid.uuid4(),
        account_id=account,
        lines=[
            RequestLine(
                item_id=uuid.uuid4(),
                name="SEO boost",
                quantity=2,
                unit_price=money("49.90"),
                line_total=money("99.80"),
                billing="recurring",
                billing_period_months=1,
            ),
            RequestLine(
                item_id=uuid.uuid4(),
                name="Setup",
                quantity=1,
                unit_price=money("29.90"),
                line_total=money("29.90"),
                billing="one_time",
            ),
        ],
        total=money(total),
        approved_by="ops",
        approved_at=datetime.now(UTC),
    )


def envelope(event: RequestApproved) -> Envelope:
    return Envelope.wrap(event, producer="orders", occurred_at=datetime.now(UTC))


async def produce(kafka: str, *envelopes: Envelope) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka, enable_idempotence=True)
    await producer.start()
    try:
        for env in envelopes:
            await producer.send_and_wait("orders.requests", env.model_dump_json().encode(), key=env.key.encode())
    finally:
        await producer.stop()


async def read_topic(kafka: str, topic: str, predicate, *, want: int, timeout: float = 30) -> list[dict]:
    """Envelopes (as dicts) on `topic`, from the start, that match, once `want` of them arrived."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka, auto_offset_reset="earliest", enable_auto_commit=False, group_id=None
    )
    await consumer.start()
    found: list = []
    try:
        meta = await consumer._client.fetch_all_metadata()
        parts = [TopicPartition(topic, p) for p in meta.partitions_for_topic(topic)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        deadline = asyncio.get_running_loop().time() + timeout
        while len(found) < want and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    try:
                        value = json.loads(record.value)
                    except ValueError:
                        continue
                    if predicate(value, record):
                        found.append(value)
    finally:
        await consumer.stop()
    return found
