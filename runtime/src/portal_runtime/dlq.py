"""Reading and replaying a service's dead letters (`<service>.dlq`), for the SRE who has fixed
what made them fail: `python -m <service> dlq list`, `python -m <service> dlq replay ...`.

A replay puts the message back on its original topic with its original key, value and headers (the
failure's `x-` headers left out), so it is read again in order with that key's later events; every
consumer group of the topic sees it again, and each one that applied it before recognises its id
(inbox) and changes nothing. The dead letter itself stays on the DLQ (topics are append-only); the
replay is marked with `x-replayed-from`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from portal_contracts.registry import dead_letter_topic
from portal_runtime.kafka import client_options


@dataclass(frozen=True)
class DeadLetter:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, str]

    @property
    def position(self) -> str:
        """`partition:offset` on the DLQ, what `dlq replay --at` takes."""
        return f"{self.partition}:{self.offset}"

    @property
    def original_topic(self) -> str:
        return self.headers.get("x-original-topic", "")

    @property
    def parseable(self) -> bool:
        """False for a message that was not an event envelope: replaying cannot help it."""
        return self.headers.get("x-attempts") != "0"

    @property
    def event(self) -> tuple[str, str]:
        """(type, event id) from the CloudEvent, or ("?", "?") for what is not one."""
        try:
            body = json.loads(self.value)
            return str(body.get("type", "?")), str(body.get("id", "?"))
        except (ValueError, AttributeError):
            return "?", "?"


async def partitions_of(bootstrap: str, topic: str) -> list[TopicPartition]:
    """The topic's partitions, from the broker's metadata; LookupError if there is no such topic."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **client_options())
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    if described.get("error_code") or not described.get("partitions"):
        raise LookupError(f"no topic {topic} on {bootstrap}")
    return [TopicPartition(topic, p) for p in sorted(p["partition"] for p in described["partitions"])]


async def read_dead_letters(bootstrap: str, service: str) -> list[DeadLetter]:
    """Every message on the service's DLQ, oldest first per partition (no consumer group: reading
    commits nothing and moves no one's offsets)."""
    topic = dead_letter_topic(service)
    assigned = await partitions_of(bootstrap, topic)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, **client_options()
    )
    await consumer.start()
    try:
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        ends = await consumer.end_offsets(assigned)
        letters: list[DeadLetter] = []

        async def behind() -> bool:
            return any([await consumer.position(tp) < ends[tp] for tp in assigned])

        while await behind():
            batch = await consumer.getmany(*assigned, timeout_ms=1000)
            for tp, records in batch.items():
                for r in records:
                    if r.offset < ends[tp]:
                        letters.append(
                            DeadLetter(
                                topic,
                                r.partition,
                                r.offset,
                                r.key,
                                r.value,
                                {k: v.decode(errors="replace") for k, v in r.headers},
                            )
                        )
        return sorted(letters, key=lambda d: (d.partition, d.offset))
    finally:
        await consumer.stop()


async def replay(bootstrap: str, letters: list[DeadLetter]) -> list[DeadLetter]:
    """Put each dead letter back on its original topic, key, value and headers unchanged (less the
    failure's `x-` headers); returns them."""
    missing = [d.position for d in letters if not d.original_topic]
    if missing:
        raise ValueError(f"no x-original-topic header on {', '.join(missing)}")
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", **client_options())
    await producer.start()
    try:
        for d in letters:
            headers = [(k, v.encode()) for k, v in d.headers.items() if not k.startswith("x-")]
            headers.append(("x-replayed-from", f"{d.topic}/{d.position}".encode()))
            await producer.send_and_wait(d.original_topic, d.value, key=d.key, headers=headers)
    finally:
        await producer.stop()
    return letters
