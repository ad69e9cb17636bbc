"""The outbox relay row: orders' relay publishing N rows of its outbox, beside a raw aiokafka
producer (acks=all, idempotent) and asyncpg doing the same job, sends pipelined and awaited one by
one.

The rows are `AccountProfileChanged` events staged by the project's own `Outbox.stage` (so they
are what orders writes, in whatever envelope it writes), in one database for the raw producer;
copied into the database of a second orders relay (`python -m orders relay`), whose topic is
re-pointed to `bench.relay`, which nobody consumes. Throughput is counted from the marks the
relays leave: rows published after the first batch was marked, over the time from that mark to
the last (the relay's start, and its pause before noticing new rows, are left out). The records
the project's relay published are the consumer row's input (`portal_stack.bench.consumer`).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from portal_stack.bench.system import RAW_RELAY_DB, RAW_RELAY_TOPIC, RELAY_DB, RELAY_TOPIC


async def stage(system, rows: int, tag: str) -> None:
    """`rows` fresh AccountProfileChanged events in the raw relay's outbox, through the project's
    Outbox (each a new account and event id)."""
    await _stage(system, [(f"bench-{tag}-{i}", f"bench-{tag}-{i}@example.test") for i in range(rows)], "en")


async def stage_changes(system, profiles: list[tuple[str, str]], language: str) -> None:
    """An AccountProfileChanged of each (account, email) in `profiles`, the address unchanged and
    the language `language`, newer than the first (a new event id each)."""
    await _stage(system, profiles, language)


async def _stage(system, profiles: list[tuple[str, str]], language: str) -> None:
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    from portal_contracts.events.orders import AccountProfileChanged
    from portal_runtime.outbox import Outbox

    engine = create_async_engine(system.dsn(RAW_RELAY_DB, bench=True).replace("postgresql://", "postgresql+asyncpg://"))
    outbox = Outbox("orders")
    now = datetime.now(UTC)
    try:
        async with AsyncSession(engine) as session, session.begin():
            for account, email in profiles:
                event = AccountProfileChanged(account_id=account, email=email, language=language, changed_at=now)
                outbox.stage(session, event)
    finally:
        await engine.dispose()


async def _connect(system, database: str) -> asyncpg.Connection:
    return await asyncpg.connect(system.dsn(database, bench=True))


async def _marked_rate(conn: asyncpg.Connection) -> float:
    """Rows per second from the relay's marks: after the first mark, until the last."""
    marks = await conn.fetch("SELECT published_at, count(*) AS n FROM outbox GROUP BY 1 ORDER BY 1")
    total = sum(m["n"] for m in marks)
    if len(marks) < 2:
        raise RuntimeError(f"{total} rows marked at once: too few rows to time the relay (use more --relay-rows)")
    span = (marks[-1]["published_at"] - marks[0]["published_at"]).total_seconds()
    return (total - marks[0]["n"]) / span


async def end_offsets(bootstrap: str, topic: str) -> dict[TopicPartition, int]:
    from portal_runtime.dlq import partitions_of

    parts = await partitions_of(bootstrap, topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        return await consumer.end_offsets(parts)
    finally:
        await consumer.stop()


async def read_records(bootstrap: str, start: dict[TopicPartition, int], end: dict[TopicPartition, int]) -> list:
    """The records between two sets of offsets."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        wanted = [tp for tp in end if end[tp] > start.get(tp, 0)]
        consumer.assign(wanted)
        for tp in wanted:
            consumer.seek(tp, start.get(tp, 0))
        found = []

        async def behind() -> bool:
            for tp in wanted:
                if await consumer.position(tp) < end[tp]:
                    return True
            return False

        while await behind():
            batch = await consumer.getmany(timeout_ms=1000)
            found += [r for tp, records in batch.items() for r in records if r.offset < end[tp]]
        return found
    finally:
        await consumer.stop()


async def project(system, *, timed: bool = True) -> tuple[float | None, object, list]:
    """Copy the staged rows into the project relay's outbox and wait until it has published them
    all; its rate (None unless `timed`), the window, and the records it put on `bench.relay`."""
    raw, mine = await _connect(system, RAW_RELAY_DB), await _connect(system, RELAY_DB)
    try:
        await raw.execute("UPDATE outbox SET topic = $1", RELAY_TOPIC)
        staged = await raw.fetch("SELECT * FROM outbox ORDER BY id")
        names = list(staged[0].keys())  # (iterating a record gives its values)
        columns = [c for c in names if c not in ("id", "published_at")]
        await mine.execute("DELETE FROM outbox")
        await mine.execute("VACUUM outbox")
        before = await end_offsets(system.kafka, RELAY_TOPIC)
        async with system.meter.window(subtract_idle=False) as window:
            await mine.copy_records_to_table(
                "outbox", records=[[r[c] for c in columns] for r in staged], columns=columns
            )
            deadline = time.monotonic() + 600
            while await mine.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL"):
                if time.monotonic() > deadline:
                    raise TimeoutError("the orders relay did not publish its outbox in 10 minutes")
                await asyncio.sleep(0.05)
        rate = await _marked_rate(mine) if timed else None
    finally:
        await raw.close()
        await mine.close()
    after = await end_offsets(system.kafka, RELAY_TOPIC)
    return rate, window, await read_records(system.kafka, before, after)


async def raw(system, *, pipelined: bool, batch_size: int) -> tuple[float, object]:
    """The job done with aiokafka and asyncpg only: read a batch in id order, send it (all in
    flight, or each awaited), mark it published, commit."""
    conn = await _connect(system, RAW_RELAY_DB)
    await conn.execute("UPDATE outbox SET published_at = NULL")
    await conn.execute("VACUUM outbox")
    await conn.close()
    conn = await asyncpg.connect(system.dsn(RAW_RELAY_DB))  # counted: the baseline's own statements
    producer = AIOKafkaProducer(bootstrap_servers=system.kafka, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        async with system.meter.window(subtract_idle=False) as window:
            while True:
                async with conn.transaction():
                    rows = await conn.fetch(
                        "SELECT id, key, event_id::text, event_type, envelope::text FROM outbox"
                        " WHERE published_at IS NULL ORDER BY id LIMIT $1",
                        batch_size,
                    )
                    if not rows:
                        break
                    sends = (
                        dict(
                            value=r["envelope"].encode(),
                            key=r["key"].encode(),
                            headers=[("event-type", r["event_type"].encode()), ("event-id", r["event_id"].encode())],
                        )
                        for r in rows
                    )
                    if pipelined:
                        await asyncio.gather(*[await producer.send(RAW_RELAY_TOPIC, **s) for s in sends])
                    else:
                        for s in sends:
                            await producer.send_and_wait(RAW_RELAY_TOPIC, **s)
                    await conn.execute(
                        "UPDATE outbox SET published_at = $1 WHERE id = ANY($2::bigint[])",
                        datetime.now(UTC),
                        [r["id"] for r in rows],
                    )
    finally:
        await producer.stop()
        await conn.close()
    check = await _connect(system, RAW_RELAY_DB)
    try:
        return await _marked_rate(check), window
    finally:
        await check.close()


async def clear(system) -> None:
    for database in (RAW_RELAY_DB, RELAY_DB):
        conn = await _connect(system, database)
        try:
            await conn.execute("DELETE FROM outbox")
            await conn.execute("VACUUM outbox")
        finally:
            await conn.close()
