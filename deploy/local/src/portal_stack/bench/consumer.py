"""The consumer rows: notify applying N `AccountProfileChanged` events from `orders.accounts`,
beside aiokafka + asyncpg doing its job (an inbox insert and an upsert of the recipient, newest
`changed_at` winning) in one transaction per event, and in one per batch of 500.

Two sets of N events, one row each. The first names N new accounts: notify then also records a
confirmation email to each new address and its sender sends them, work the raw consumer does not
do. The second changes the language of the same N accounts (the address unchanged, so no email):
the same job as the raw consumer's, which applies the first set unmeasured before it (`warm`), so
both update rows that exist. The second is the row the issue's consumer targets are read on.

The events are the records orders' relay published in the relay row, copied byte for byte (key,
value, headers) onto `orders.accounts` by a pipelined producer, so notify reads exactly what
orders sends. Notify's rate is its inbox's: events applied, over the time from the copy's start to
the last `processed_at`. The raw consumers read the same records (same topic, same offsets) and
commit their offsets after each fetched batch, once its transactions committed.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from portal_stack.bench.relay import end_offsets, read_records
from portal_stack.bench.system import RAW_CONSUMER_DB

TOPIC = "orders.accounts"
BATCH = 500


def event_of(record) -> tuple[str, str, dict]:
    """(event id, type, data) of a record, from the headers or the body: the relay sends the id
    and type as headers (`event-id`, `event-type`; `ce_id`, `ce_type` in CloudEvents' binary
    mode) and the body carries them too (`event_id`/`id`, `type`), with the payload in `data`."""
    headers = {k: v.decode() for k, v in record.headers or ()}
    body = json.loads(record.value)
    event_id = headers.get("event-id") or headers.get("ce_id") or body.get("event_id") or body.get("id")
    event_type = headers.get("event-type") or headers.get("ce_type") or body.get("type")
    return event_id, event_type, body.get("data", body)


UPSERT = (
    "INSERT INTO recipients (account_id, email, language, changed_at) VALUES ($1, $2, $3, $4)"
    " ON CONFLICT (account_id) DO UPDATE SET email = excluded.email, language = excluded.language,"
    " changed_at = excluded.changed_at WHERE recipients.changed_at < excluded.changed_at"
)


async def project(system, records: list) -> tuple[float, object, dict, dict]:
    """Put the records on orders.accounts and wait until notify's inbox has them all."""
    notify = await asyncpg.connect(system.dsn("notify", bench=True))
    producer = AIOKafkaProducer(bootstrap_servers=system.kafka, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        before = await end_offsets(system.kafka, TOPIC)
        since = datetime.now(UTC)
        async with system.meter.window() as window:
            sends = [
                await producer.send(TOPIC, value=r.value, key=r.key, headers=list(r.headers or ())) for r in records
            ]
            await asyncio.gather(*sends)
            deadline = time.monotonic() + 900
            while (
                applied := await notify.fetchval("SELECT count(*) FROM inbox WHERE processed_at >= $1", since)
            ) < len(records):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"notify applied {applied} of {len(records)} events in 15 minutes")
                await asyncio.sleep(0.2)
        last = await notify.fetchval("SELECT max(processed_at) FROM inbox WHERE processed_at >= $1", since)
    finally:
        await producer.stop()
        await notify.close()
    after = await end_offsets(system.kafka, TOPIC)
    return len(records) / (last - since).total_seconds(), window, before, after


def profiles_of(records: list) -> list[tuple[str, str]]:
    """(account, email) of each AccountProfileChanged record."""
    return [(data["account_id"], data["email"]) for _, _, data in map(event_of, records)]


async def raw(
    system, start: dict, end: dict, *, batched: bool, warm: tuple[dict, dict] | None = None
) -> tuple[float, object]:
    """The same records, applied by aiokafka + asyncpg; events per second from the first fetched
    batch to the last commit. `warm` (start and end offsets) is applied first, unmeasured."""
    setup = await asyncpg.connect(system.dsn(RAW_CONSUMER_DB, bench=True))
    await setup.execute("TRUNCATE inbox, recipients")
    if warm is not None:
        await _apply_batch(setup, [event_of(r) for r in await read_records(system.kafka, *warm)])
    await setup.close()
    conn = await asyncpg.connect(system.dsn(RAW_CONSUMER_DB))
    consumer = AIOKafkaConsumer(
        bootstrap_servers=system.kafka, group_id=f"bench-raw-{uuid.uuid4().hex[:8]}", enable_auto_commit=False
    )
    await consumer.start()
    wanted = [tp for tp in end if end[tp] > start.get(tp, 0)]
    consumer.assign(wanted)
    for tp in wanted:
        consumer.seek(tp, start.get(tp, 0))
    total = sum(end[tp] - start.get(tp, 0) for tp in wanted)
    applied, first = 0, None
    try:
        async with system.meter.window(subtract_idle=False) as window:
            while applied < total:
                batch = await consumer.getmany(timeout_ms=1000, max_records=BATCH)
                records = [r for tp, rs in batch.items() for r in rs if r.offset < end[tp]]
                if not records:
                    continue
                first = first or time.perf_counter()
                events = [event_of(r) for r in records]
                if batched:
                    await _apply_batch(conn, events)
                else:
                    for event in events:
                        await _apply_one(conn, event)
                await consumer.commit()
                applied += len(records)
            seconds = time.perf_counter() - first
    finally:
        await consumer.stop()
        await conn.close()
    return total / seconds, window


def _recipient(data: dict) -> tuple[str, str, str, datetime]:
    return data["account_id"], data["email"], data["language"], datetime.fromisoformat(data["changed_at"])


async def _apply_one(conn: asyncpg.Connection, event: tuple[str, str, dict]) -> None:
    event_id, event_type, data = event
    async with conn.transaction():
        new = await conn.fetchval(
            "INSERT INTO inbox VALUES ($1, $2, now()) ON CONFLICT DO NOTHING RETURNING true",
            uuid.UUID(event_id),
            event_type,
        )
        if new:
            await conn.execute(UPSERT, *_recipient(data))


async def _apply_batch(conn: asyncpg.Connection, events: list[tuple[str, str, dict]]) -> None:
    async with conn.transaction():
        new = {
            str(r["event_id"])
            for r in await conn.fetch(
                "INSERT INTO inbox SELECT e, t, now() FROM unnest($1::uuid[], $2::text[]) AS x(e, t)"
                " ON CONFLICT DO NOTHING RETURNING event_id",
                [uuid.UUID(e) for e, _, _ in events],
                [t for _, t, _ in events],
            )
        }
        newest: dict[str, tuple] = {}
        for event_id, _, data in events:
            if event_id in new:
                row = _recipient(data)
                if row[0] not in newest or newest[row[0]][3] < row[3]:
                    newest[row[0]] = row
        columns = [list(column) for column in zip(*newest.values(), strict=True)] or [[], [], [], []]
        await conn.execute(
            "INSERT INTO recipients SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[])"
            " ON CONFLICT (account_id) DO UPDATE SET email = excluded.email, language = excluded.language,"
            " changed_at = excluded.changed_at WHERE recipients.changed_at < excluded.changed_at",
            *columns,
        )
