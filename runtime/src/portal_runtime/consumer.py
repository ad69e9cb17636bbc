"""Applying events from other services: once each, in their own transaction; an outage waited
out; a message that keeps failing sent to the dead-letter topic.

FastStream's default Kafka policy commits the offset first (at-most-once). Subscribers here ack
by hand (`AckPolicy.MANUAL`): a record's offset becomes committable only after its handler returned,
i.e. after its transaction committed (`OffsetCommits`), and what became committable is committed
together a moment later (`COMMIT_SECONDS`), one OffsetCommit for many records instead of one round
trip to the broker per record; before a rebalance takes partitions away and as the process stops,
what is committable is committed at once. A record that was handled but whose offset was not
committed yet (the process was killed) is read again and found in the inbox: a duplicate, no second
effect. An error we could not even dead-letter (the broker is away) seeks back and redelivers the
message.

Every failure is classified first (`portal_runtime.faults`):
- the database or broker is away (OUTAGE) or misconfigured (CONFIG): the same message is tried
  again with capped exponential backoff and jitter, as long as it takes; the tries never count
  towards the dead-letter limit. Messages are handled one at a time, so nothing newer is taken
  from the partitions meanwhile; readiness answers 503 and `portal_waiting_for_dependency` is 1.
  (An outage longer than the consumer's `max.poll.interval.ms`, 5 minutes, makes Kafka move the
  partitions to another replica, which waits the same way; the inbox keeps the effect single.)
- the message's own fault (MESSAGE): `max_attempts` tries with exponential backoff, then the
  dead-letter topic, and the partition moves on.

Each outcome is counted where it happens (`portal_consumer_events`), and `watch_lag` keeps
`portal_consumer_lag` per assigned partition from aiokafka's end offsets and positions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiokafka import ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import ValidationError
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal_contracts import Envelope, Event
from portal_contracts.registry import dead_letter_topic
from portal_runtime import context
from portal_runtime.clock import Clock, SystemClock
from portal_runtime.db import InboxRecord
from portal_runtime.faults import Backoff, Fault, Waiting, classify, describe
from portal_runtime.metrics import CONSUMER_EVENTS, CONSUMER_LAG
from portal_runtime.outbox import Outbox
from portal_runtime.telemetry import continue_trace
from portal_runtime.uow import UnitOfWork, UnitsOfWork

log = logging.getLogger(__name__)

LAG_SECONDS = 5.0  # how often `watch_lag` looks
COMMIT_SECONDS = 0.2  # how long committable offsets gather before one commit
FINAL_COMMIT_SECONDS = 5.0  # the last commit as the process stops, or before a rebalance, waits no longer


@dataclass
class Incoming:
    """One event being applied: its envelope, its typed payload, and the unit of work that holds
    the inbox row. A use case called by the handler joins that unit of work; events it stages are
    caused by this one (`portal_runtime.context`)."""

    envelope: Envelope
    event: Any
    uow: UnitOfWork

    @property
    def session(self) -> AsyncSession:
        return self.uow.session

    def publish(self, payload: Event) -> Envelope:
        return self.uow.publish(payload)


Handler = Callable[[Incoming], Awaitable[None]]
# Told of every outcome of every event: ("applied" | "duplicate" | "dead_lettered", envelope).
Observer = Callable[[str, Envelope], None]


class Unparseable(Exception):
    """Not an envelope of a known event: retrying cannot help."""


class EventConsumer:
    def __init__(
        self,
        *,
        service: str,
        sessions: async_sessionmaker[AsyncSession],
        broker: KafkaBroker,
        outbox: Outbox,
        units: UnitsOfWork | None = None,
        max_attempts: int = 4,
        backoff_seconds: float = 0.2,
        clock: Clock | None = None,
        after_commit: Callable[[Envelope], Awaitable[None]] | None = None,
        outage_backoff: Backoff | None = None,
    ) -> None:
        self.service = service
        self.sessions = sessions
        self.broker = broker
        self.outbox = outbox
        self.units = units or UnitsOfWork(sessions, outbox, lambda _event: None)
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.clock = clock or SystemClock()
        self.after_commit = after_commit  # a seam for fault-injection tests
        self.observers: list[Observer] = []
        self.handlers: dict[tuple[str, int], Handler] = {}
        self.stats = {"applied": 0, "duplicates": 0, "dead_lettered": 0, "ignored": 0, "retried": 0}
        self.outage = Waiting(service, "consumer")
        self.outage_backoff = outage_backoff or Backoff(initial=max(backoff_seconds, 0.05), cap=10.0)
        self.role = "run"  # the process's role, for the metrics (ServiceRuntime.app sets it)
        self.subscriber: Any = None  # FastStream's subscriber; its `consumer` is aiokafka's
        self.commits = OffsetCommits(service)
        self.commit_seconds = COMMIT_SECONDS

    def on(self, event_cls: type[Event]) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self.handlers[(event_cls.event_type, event_cls.version)] = fn
            return fn

        return register

    def topics(self) -> list[str]:
        from portal_contracts.registry import lookup

        return sorted({lookup(t, v).topic for t, v in self.handlers})

    def subscribe(self) -> None:
        """Attach one FastStream subscriber (this service's consumer group) to every topic that
        carries an event this service handles."""
        if not self.handlers:
            return

        self.subscriber = self.broker.subscriber(
            *self.topics(),
            group_id=self.service,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.MANUAL,
            listener=_CommitBeforeRevoke(self),
            title=f"{self.service}:inbox",
        )

        @self.subscriber
        async def on_message(message: KafkaMessage) -> None:
            record = message.raw_message
            if self.commits.closed:  # stopping: not handled now, so read again after the restart
                await message.nack()
                await asyncio.sleep(0.1)
                return
            try:
                await self.handle(message.body, record)
            except BaseException:
                await message.nack()  # seeks the partition back to this record: it comes again
                raise
            self.commits.done(record)

    @property
    def kafka_consumer(self) -> Any:
        """aiokafka's consumer of this service's subscriber (None before the broker started)."""
        return getattr(self.subscriber, "consumer", None)

    async def commit_offsets(self) -> None:
        """Until cancelled: commit the offsets of handled records `commit_seconds` after they became
        committable; when cancelled, commit what is committable once more and take no new record."""
        self.commits.closed = False
        try:
            await self.commits.run(lambda: self.kafka_consumer, self.commit_seconds)
        finally:
            self.commits.closed = True
            consumer = self.kafka_consumer
            if consumer is not None:
                with contextlib.suppress(Exception):  # away: those records are read again, as duplicates
                    await asyncio.wait_for(self.commits.flush(consumer), FINAL_COMMIT_SECONDS)

    async def watch_lag(self, every: float = LAG_SECONDS) -> None:
        """Until cancelled: set `portal_consumer_lag` of each partition assigned to this process
        (end offset less position: what it has not taken yet), and drop the partitions it no longer
        has. A broker that does not answer leaves the last values (the consumer's own loop waits it
        out and says so)."""
        shown: set[tuple[str, int]] = set()
        try:
            while True:
                consumer = getattr(self.subscriber, "consumer", None)
                try:
                    lag = await self._lag(consumer) if consumer is not None else {}
                except Exception as exc:  # away or rebalancing: looked at again next time
                    log.debug("%s: consumer lag not read: %s", self.service, describe(exc))
                else:
                    for topic, partition in shown - lag.keys():
                        CONSUMER_LAG.remove(self.service, self.role, topic, str(partition))
                    for (topic, partition), behind in lag.items():
                        CONSUMER_LAG.labels(self.service, self.role, topic, str(partition)).set(behind)
                    shown = set(lag)
                await asyncio.sleep(every)
        finally:
            for topic, partition in shown:
                CONSUMER_LAG.remove(self.service, self.role, topic, str(partition))

    async def _lag(self, consumer: Any) -> dict[tuple[str, int], int]:
        assigned = list(consumer.assignment())
        if not assigned:
            return {}
        ends = await asyncio.wait_for(consumer.end_offsets(assigned), timeout=10)
        lag = {}
        for tp in assigned:
            # waits while the position is being reset (just assigned): then looked at next time
            with contextlib.suppress(TimeoutError):
                position = await asyncio.wait_for(consumer.position(tp), timeout=1)
                lag[(tp.topic, tp.partition)] = max(ends[tp] - position, 0)
        return lag

    async def handle(self, body: bytes, record: Any) -> None:
        try:
            envelope, event = self._parse(body)
        except Unparseable as exc:
            await self._dead_letter(body, record, exc, attempts=0)
            return
        handler = self.handlers.get((envelope.type, envelope.version))
        if handler is None:
            self._count("ignored")
            return
        loop = asyncio.get_running_loop()
        attempt = 0  # failures of the message itself; an outage never counts
        while True:
            try:
                outcome = await self._apply(envelope, event, handler)
            except Exception as exc:  # classified: waited out, retried, or dead-lettered below
                if classify(exc) is not Fault.MESSAGE:
                    self.outage.start(describe(exc), loop.time())
                    await asyncio.sleep(self.outage_backoff.next())
                    continue
                self.outage.end(loop.time())
                self.outage_backoff.reset()
                attempt += 1
                if attempt >= self.max_attempts:
                    await self._dead_letter(body, record, exc, attempts=attempt, envelope=envelope)
                    return
                self._count("retried")
                log.warning(
                    "%s: %s %s failed (attempt %d of %d): %s",
                    self.service,
                    envelope.type,
                    envelope.event_id,
                    attempt,
                    self.max_attempts,
                    describe(exc),
                )
                await asyncio.sleep(self.backoff_seconds * 2 ** (attempt - 1))
                continue
            self.outage.end(loop.time())
            self.outage_backoff.reset()
            self._count(outcome, envelope)
            if outcome == "applied" and self.after_commit is not None:
                await self.after_commit(envelope)
            return

    def _count(self, outcome: str, envelope: Envelope | None = None) -> None:
        self.stats["duplicates" if outcome == "duplicate" else outcome] += 1
        CONSUMER_EVENTS.labels(self.service, self.role, outcome).inc()
        if envelope is not None:
            for observe in self.observers:
                observe(outcome, envelope)

    def _parse(self, body: bytes) -> tuple[Envelope, Event]:
        try:
            envelope = Envelope.model_validate_json(body)
        except ValidationError as exc:
            raise Unparseable(f"not an event envelope: {exc}") from exc
        if (envelope.type, envelope.version) not in self.handlers:
            return envelope, None
        try:
            return envelope, envelope.payload()
        except (LookupError, ValidationError) as exc:
            raise Unparseable(f"{envelope.type} v{envelope.version}: {exc}") from exc

    async def _apply(self, envelope: Envelope, event: Event, handler: Handler) -> str:
        """The inbox row and the effect in one unit of work; events it stages are caused by this one."""
        with (
            context.caused_by(envelope.correlation_id, envelope.event_id),
            continue_trace(envelope.trace, envelope.type),  # tracing off: the event's own trace
        ):
            async with self.units() as uow:
                first = await uow.session.scalar(
                    insert(InboxRecord)
                    .values(event_id=envelope.event_id, event_type=envelope.type, processed_at=self.clock.now())
                    .on_conflict_do_nothing()
                    .returning(InboxRecord.event_id)
                )
                if first is None:
                    return "duplicate"
                await handler(Incoming(envelope, event, uow))
                await uow.commit()
        return "applied"

    async def _dead_letter(
        self, body: bytes, record: Any, exc: BaseException, *, attempts: int, envelope: Envelope | None = None
    ) -> None:
        """Publish the message to `<service>.dlq`, key and value unchanged, with its own headers (its
        content type, event type and id stay readable) and headers naming the failure. If that publish
        fails, the exception propagates: the offset is not committed and the message comes again."""
        original = {k: (v or b"").decode(errors="replace") for k, v in getattr(record, "headers", None) or ()}
        headers = original | {
            "x-error": f"{type(exc).__name__}: {exc}"[:2000],
            "x-error-trace": "".join(traceback.format_exception(exc))[-4000:],
            "x-original-topic": str(getattr(record, "topic", "")),
            "x-original-partition": str(getattr(record, "partition", "")),
            "x-original-offset": str(getattr(record, "offset", "")),
            "x-consumer-group": self.service,
            "x-attempts": str(attempts),
            "x-failed-at": self.clock.now().isoformat(),
            "x-dead-letter-id": str(uuid.uuid4()),
        }
        log.error(
            "%s: dead-lettering %s/%s@%s: %s",
            self.service,
            headers["x-original-topic"],
            headers["x-original-partition"],
            headers["x-original-offset"],
            headers["x-error"],
        )
        await self.broker.publish(
            body, topic=dead_letter_topic(self.service), key=getattr(record, "key", None), headers=headers
        )
        self._count("dead_lettered", envelope)


class OffsetCommits:
    """The next offset to commit per partition, from records whose handler returned.

    Records of a partition are handled one at a time, in order, so a partition's committable offset
    is the handled record's offset + 1 and never passes a record that is being handled or was not
    handled yet. After a seek back (an error) or a rebalance a partition's records come again and
    the lower offsets they make are not taken: the higher one's records were handled.

    A commit that fails because the group rebalanced (`CommitFailedError`) is dropped: the
    partition's new owner reads from the offset committed before, and the inbox makes those
    records duplicates. A commit that fails otherwise is tried again at the next commit; aiokafka
    itself keeps trying while the broker is away."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.pending: dict[TopicPartition, int] = {}
        self.ready = asyncio.Event()
        self.closed = False

    def done(self, record: Any) -> None:
        tp = TopicPartition(record.topic, record.partition)
        self.pending[tp] = max(self.pending.get(tp, -1), record.offset + 1)
        self.ready.set()

    async def run(self, consumer_of: Callable[[], Any], every: float) -> None:
        while True:
            await self.ready.wait()
            await asyncio.sleep(every)
            self.ready.clear()
            consumer = consumer_of()
            if consumer is None:
                continue
            try:
                await self.flush(consumer)
            except Exception as exc:  # kept, tried again at the next commit
                log.warning("%s: offsets not committed yet: %s", self.service, describe(exc))
                self.ready.set()
                await asyncio.sleep(1.0)

    async def flush(self, consumer: Any, partitions: set[TopicPartition] | None = None) -> None:
        """Commit the committable offsets of the partitions this process has (of `partitions`
        only, when given); those of partitions it no longer has are dropped."""
        assigned = consumer.assignment()
        for tp in [tp for tp in self.pending if tp not in assigned]:
            del self.pending[tp]  # its new owner reads those records again: duplicates to the inbox
        offsets = {tp: o for tp, o in self.pending.items() if partitions is None or tp in partitions}
        if not offsets:
            return
        try:
            await consumer.commit(offsets)
        except CommitFailedError as exc:  # any other error leaves them for the next commit
            log.info("%s: offsets not committed, the group rebalanced: %s", self.service, describe(exc))
        for tp, offset in offsets.items():
            if self.pending.get(tp) == offset:
                del self.pending[tp]


class _CommitBeforeRevoke(ConsumerRebalanceListener):
    """What was handled of the partitions a rebalance takes away is committed before they go, so
    their next owner does not read it again."""

    def __init__(self, consumer: EventConsumer) -> None:
        self.consumer = consumer

    async def on_partitions_revoked(self, revoked: Any) -> None:
        kafka = self.consumer.kafka_consumer
        if kafka is None or not revoked:
            return
        try:
            await asyncio.wait_for(self.consumer.commits.flush(kafka, set(revoked)), FINAL_COMMIT_SECONDS)
        except Exception as exc:  # their next owner reads them again: duplicates to the inbox
            log.info("%s: offsets of revoked partitions not committed: %s", self.consumer.service, describe(exc))
        finally:  # not committed later, when the group may have moved them on since
            for tp in revoked:
                self.consumer.commits.pending.pop(tp, None)

    async def on_partitions_assigned(self, assigned: Any) -> None:
        return None
