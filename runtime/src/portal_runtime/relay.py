"""Publishes outbox rows to Kafka, in order, until the broker has them.

Why not `faststream-outbox` (0.19, evaluated): it turns the outbox table into a queue that its
own subscribers drain with `FOR UPDATE SKIP LOCKED`, ordered by `next_attempt_at, id`; a row that
fails is rescheduled later, so a later row of the same aggregate can overtake it, and several
workers take rows concurrently. We need strict per-aggregate order, so this relay publishes in id
order under a single active relay per service (a PostgreSQL advisory lock), stops at the first
failure and retries it, and carries the stored trace context into the publish span, on top of
FastStream's own publisher. Published rows are purged by the daily `purge` job (`portal_runtime.jobs`).

Sends are pipelined: a batch goes out in waves, each wave holding at most one row per event key
(topic and key) and sent all at once (the producer batches them to the broker), the next wave when
the broker acknowledged the last. So a key's rows leave one after the other, in id order, while
the rows of different aggregates share the round trips. When a send fails, the later rows of its
key wait (not sent in this round); the rows the broker acknowledged are marked published, the
failed one and those behind it are published again in id order once the cause is gone, and the
failure is raised after the marks are committed (so a retry never resends what is marked).

Between batches it does not sleep: a batch that was not full waits until a transaction that staged
outbox rows commits (the outbox's trigger notifies `portal_outbox`, `portal_runtime.wake`), or for
RELAY_POLL_SECONDS at most, a safety net for a notification missed while its listening connection
was being made again; a full batch is followed by the next at once.

The backlog (`portal_outbox_backlog`, `portal_outbox_oldest_age_seconds`) is what each read of
the outbox saw, so a scrape queries nothing: a batch smaller than RELAY_BATCH_SIZE is the whole
backlog (no extra statement); only a full batch counts the rest.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Awaitable, Callable
from datetime import datetime

from faststream.kafka import KafkaBroker
from opentelemetry import propagate, trace
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker

from portal_contracts.envelope import CONTENT_TYPE, structured
from portal_runtime.clock import Clock, SystemClock
from portal_runtime.db import OutboxRecord
from portal_runtime.faults import Backoff, Waiting
from portal_runtime.leader import lead
from portal_runtime.metrics import OUTBOX, RELAY_PUBLISHED
from portal_runtime.wake import OUTBOX_CHANNEL, Wakeup

log = logging.getLogger(__name__)

# A replica that does not hold the lock tries to take it this often (the active one may have died).
STANDBY_SECONDS = 1.0


class OutboxRelay:
    def __init__(
        self,
        *,
        service: str,
        engine: AsyncEngine,
        broker: KafkaBroker,
        batch_size: int = 100,
        poll_seconds: float = 0.2,
        clock: Clock | None = None,
        after_publish: Callable[[OutboxRecord], Awaitable[None]] | None = None,
        tracer_provider: trace.TracerProvider | None = None,
    ) -> None:
        self.tracer = (tracer_provider or trace.get_tracer_provider()).get_tracer("portal.outbox")
        self.service = service
        self.engine = engine
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.broker = broker
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.clock = clock or SystemClock()
        self.after_publish = after_publish  # a seam for fault-injection tests
        self._lock_id = zlib.crc32(f"outbox-relay:{service}".encode())
        self.published = 0
        self.active = False  # holds the lock and publishes (one relay per service does)
        self.outage = Waiting(service, "relay")
        self.backoff = Backoff(initial=0.2, cap=10.0)
        self.role = "run"  # the process's role, for the metrics (ServiceRuntime.app sets it)
        self.backlog: tuple[int, datetime | None] | None = None  # (unpublished rows, oldest's created_at)
        # A batch that was not full waits for the next commit that stages rows (or the poll).
        self.wakeup = Wakeup(engine.url, OUTBOX_CHANNEL)

    async def run(self) -> None:
        """Relay forever; only the holder of the advisory lock publishes, so order holds even
        with several replicas. The lock is taken on the connection that also reads and marks the
        rows: if that connection is lost, so is the lock, and so is this relay's right to publish.
        A database or broker that is away is waited out (logged once, `Waiting`)."""

        async def one_batch(conn) -> float:
            sent = await self.relay_once(conn)
            return self.poll_seconds if sent < self.batch_size else 0

        OUTBOX.watch(self.service, self.role, self.seen)
        try:
            await lead(
                self.engine,
                self._lock_id,
                one_batch,
                holder=self,
                outage=self.outage,
                backoff=self.backoff,
                standby_seconds=STANDBY_SECONDS,
                what=f"outbox relay of {self.service}",
                pause=self.wakeup.wait,
            )
        finally:
            OUTBOX.unwatch(self.service, self.role, self.seen)
            await self.wakeup.close()

    def seen(self) -> tuple[int, datetime | None, datetime] | None:
        """The backlog as last read, while this relay publishes or tries to (None standing by)."""
        if self.backlog is None or not (self.active or self.outage.waiting):
            return None
        return (*self.backlog, self.clock.now())

    async def relay_once(self, conn: AsyncConnection | None = None) -> int:
        """Publish one batch in id order, then mark it published. A crash between the two
        publishes the batch again: consumers drop the duplicates by event id."""
        if conn is None:
            async with self.engine.connect() as own:
                return await self.relay_once(own)
        async with conn.begin():
            rows = (
                await conn.execute(
                    select(OutboxRecord.__table__)
                    .where(OutboxRecord.published_at.is_(None))
                    .order_by(OutboxRecord.id)
                    .limit(self.batch_size)
                )
            ).all()
            waiting = len(rows)
            if waiting == self.batch_size:  # more may wait behind this batch
                waiting = await conn.scalar(
                    select(func.count()).select_from(OutboxRecord).where(OutboxRecord.published_at.is_(None))
                )
            self.backlog = (waiting, rows[0].created_at if rows else None)
            sent, failure = await self._publish_all(rows)
            if sent:
                await conn.execute(
                    update(OutboxRecord)
                    .where(OutboxRecord.id.in_([r.id for r in sent]))
                    .values(published_at=self.clock.now())
                )
        self.published += len(sent)
        RELAY_PUBLISHED.labels(self.service, self.role).inc(len(sent))
        if failure is not None:
            self.backlog = (waiting - len(sent), min(r.created_at for r in rows if r not in sent))
            raise failure
        # What is left was created after this batch's last row (an upper bound of its age until the
        # next read, which comes at once after a full batch).
        left = waiting - len(rows)
        self.backlog = (left, rows[-1].created_at if left else None)
        return len(rows)

    async def _publish_all(self, rows) -> tuple[list, BaseException | None]:
        """Publish `rows` in waves of distinct keys (see the module's doc): the rows the broker
        acknowledged, and the first failure (None when every row went)."""
        sent: list = []
        failure: BaseException | None = None
        stopped: set[tuple[str, str]] = set()  # keys with a row that failed: the rest wait
        for wave in _waves(rows):
            wave = [r for r in wave if (r.topic, r.key) not in stopped]
            results = await asyncio.gather(*(self._publish(r) for r in wave), return_exceptions=True)
            for row, result in zip(wave, results, strict=True):
                if isinstance(result, BaseException):
                    if not isinstance(result, Exception):  # cancelled, or the process ends: nothing marked
                        raise result
                    stopped.add((row.topic, row.key))
                    failure = failure or result
                else:
                    sent.append(row)
        return sent, failure

    async def _publish(self, row) -> None:
        parent = propagate.extract(structured(row.envelope))  # its traceparent and tracestate
        with self.tracer.start_as_current_span(
            f"{row.topic} relay",
            context=parent,
            kind=trace.SpanKind.INTERNAL,
            attributes={"messaging.message.id": str(row.event_id), "portal.event_type": row.event_type},
        ):
            await self.send(row)
        if self.after_publish is not None:
            await self.after_publish(row)

    async def send(self, row) -> None:
        """The row's event on its topic as a structured-mode CloudEvent, keyed by its aggregate,
        with its type and id as headers too (to route without parsing)."""
        event = structured(row.envelope)
        await self.broker.publish(
            event,
            topic=row.topic,
            key=row.key.encode(),
            headers={"content-type": CONTENT_TYPE, "event-type": row.event_type, "event-id": str(row.event_id)},
            correlation_id=str(event["correlationid"]),
        )


def _waves(rows) -> list[list]:
    """`rows` (in id order) as waves: the n-th wave holds the n-th row of each key, so each key's
    rows come one wave after the other, in order."""
    waves: list[list] = []
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        n = seen.get((row.topic, row.key), 0)
        seen[(row.topic, row.key)] = n + 1
        if n == len(waves):
            waves.append([])
        waves[n].append(row)
    return waves
