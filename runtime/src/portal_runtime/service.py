"""Wiring one service process: database, broker, outbox, consumer, relay, HTTP app, CLI.
The one place real adapters are made; services hand in their routes and event handlers.

A process plays one or more roles: `api` (HTTP only: it writes its database and outbox and never
needs Kafka, so it starts no producer and its readiness checks the database alone), `worker`
(consumers, background loops and the scheduler of jobs, `portal_runtime.jobs`) and `relay`; every
role answers the admin endpoints of jobs and the test clock (`portal_runtime.admin`). No role
exits because a dependency is away: the process starts, answers `/health/live`, reports unready
on `/health/ready`, connects to Kafka in the background with capped backoff, and starts its
consumers and relay once it can. Only a wrong configuration stops it (bad credentials, a database
that does not exist, a subscribed topic that is still missing after `KAFKA_TOPIC_WAIT_SECONDS`, a
test clock in production), with a message saying what is wrong."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from litestar import Litestar
from opentelemetry.trace import TracerProvider
from sqlalchemy import text

from portal_contracts.registry import dead_letter_topic
from portal_runtime.access import AccessCheck, register_access_consumer
from portal_runtime.admin import admin_routes
from portal_runtime.auth import jwt_auth_from
from portal_runtime.clock import Clock, SystemClock
from portal_runtime.consumer import EventConsumer
from portal_runtime.db import make_engine, make_sessionmaker
from portal_runtime.faults import Backoff, Fault, Waiting, classify, describe
from portal_runtime.jobs import Job, Jobs, purge_job
from portal_runtime.kafka import make_broker
from portal_runtime.metrics import role_of
from portal_runtime.outbox import Outbox
from portal_runtime.relay import OutboxRelay
from portal_runtime.settings import ServiceSettings
from portal_runtime.testclock import SharedTestClock
from portal_runtime.uow import EventMapping, UnitOfWork, UnitsOfWork
from portal_runtime.web import create_app

log = logging.getLogger(__name__)


@dataclass
class ServiceDefinition:
    """What a service contributes; everything else is the runtime's."""

    name: str
    description: str
    migrations: Path | None
    routes: Sequence[Any] = ()
    register_consumers: Callable[[EventConsumer, ServiceRuntime], None] | None = None
    dependencies: Callable[[ServiceRuntime], dict[str, Any]] = field(default=lambda rt: {})
    # Long-running loops of the worker role (e.g. notify's SMTP sender): each is called with the
    # runtime and awaited as a task from start to stop.
    background: Sequence[Callable[[ServiceRuntime], Awaitable[None]]] = ()
    # The service's one mapping of its typed domain events to contract events, and its unit of
    # work class (naming its repositories): used by every use case and by the consumer.
    event_mapping: EventMapping = field(default=lambda event: None)
    unit_of_work: type[UnitOfWork] = UnitOfWork
    # Scheduled jobs (portal_runtime.jobs), each made from the runtime, beside the runtime's own
    # `purge` that every service has; run by the worker role's scheduler and on demand by admins.
    jobs: Sequence[Callable[[ServiceRuntime], Job]] = ()


class ServiceRuntime:
    def __init__(
        self,
        definition: ServiceDefinition,
        settings: ServiceSettings,
        *,
        tracer_provider: TracerProvider | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.definition = definition
        self.settings = settings
        self.tracer_provider = tracer_provider
        self.engine = make_engine(settings.database_url, tracer_provider=tracer_provider)
        self.sessions = make_sessionmaker(self.engine)
        # The time the whole service reads: with PORTAL_TEST_CLOCK=1 the shared test clock's.
        self.test_clock: SharedTestClock | None = None
        if settings.portal_test_clock:
            self.test_clock = SharedTestClock(
                clock or SystemClock(),
                self.engine,
                settings.service_name,
                refresh_seconds=settings.test_clock_refresh_seconds,
            )
        self.clock: Clock = self.test_clock or clock or SystemClock()
        self.broker = make_broker(settings.kafka_bootstrap_servers, settings.service_name, tracer_provider, settings)
        self.outbox = Outbox(settings.service_name, self.clock)
        self.uow = UnitsOfWork(self.sessions, self.outbox, definition.event_mapping, definition.unit_of_work)
        self.consumer = EventConsumer(
            service=settings.service_name,
            sessions=self.sessions,
            broker=self.broker,
            outbox=self.outbox,
            units=self.uow,
            max_attempts=settings.consumer_max_attempts,
            backoff_seconds=settings.consumer_backoff_seconds,
            clock=self.clock,
        )
        self.relay = OutboxRelay(
            service=settings.service_name,
            engine=self.engine,
            broker=self.broker,
            batch_size=settings.relay_batch_size,
            poll_seconds=settings.relay_poll_seconds,
            clock=self.clock,
            tracer_provider=tracer_provider,
        )
        self.jobs = Jobs(
            service=settings.service_name,
            engine=self.engine,
            clock=self.clock,
            tz=settings.timezone,
            jobs=[purge_job(self), *(make(self) for make in definition.jobs)],
            poll_seconds=settings.job_poll_seconds,
        )
        if definition.register_consumers is not None:
            definition.register_consumers(self.consumer, self)
        # Every service keeps `user_access` from UserAccessChanged: which local-issuer tokens it takes.
        register_access_consumer(self.consumer)
        self._tasks: list[asyncio.Task] = []
        self.kafka = Waiting(settings.service_name, "kafka")  # the connection made at start
        self.kafka_connected = False
        self._broker_started = False  # broker.start() was called (it may not have finished)
        self.fatal: str | None = None  # set when a wrong configuration stops the process
        self.on_fatal: Callable[[str], None] | None = None

    # -- readiness -------------------------------------------------------------------------
    async def check_database(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def check_kafka(self) -> None:
        if not self.kafka_connected:
            reason = f": {self.kafka.reason}" if self.kafka.reason else ""
            raise ConnectionError(f"not connected to Kafka at {self.settings.kafka_bootstrap_servers} yet{reason}")
        if not await self.broker.ping(timeout=3.0):
            raise ConnectionError(f"Kafka at {self.settings.kafka_bootstrap_servers} does not answer")

    async def check_consumer(self) -> None:
        if self.consumer.outage.waiting:
            raise ConnectionError(f"the consumer waits for a dependency: {self.consumer.outage.reason}")

    def readiness(self, *, consume: bool, relay: bool) -> dict[str, Callable[[], Awaitable[None]]]:
        """What this process's roles need: every role its database; worker and relay Kafka."""
        checks: dict[str, Callable[[], Awaitable[None]]] = {"database": self.check_database}
        if consume or relay:
            checks["kafka"] = self.check_kafka
        if consume and self.consumer.handlers:
            checks["consumer"] = self.check_consumer
        return checks

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self, *, consume: bool = True, relay: bool = True) -> None:
        """Returns at once; what needs a dependency starts in the background when it answers.
        The worker role runs the job scheduler (it needs the database only)."""
        if consume:
            self.consumer.subscribe()
        self._spawn(self._check_database_config(), "database-check")
        if self.test_clock is not None:
            with contextlib.suppress(Exception):  # away: the clock's loop waits for it
                await asyncio.wait_for(self.test_clock.load(), timeout=2.0)
            self._spawn(self.test_clock.follow(), "test-clock")
        if consume:
            self._spawn(self.jobs.scheduler(), "jobs")
        if consume or relay:
            self._spawn(self._connect_kafka_then_run(consume=consume, relay=relay), "kafka-connect")

    def _spawn(self, coro: Awaitable[None], what: str) -> None:
        self._tasks.append(asyncio.create_task(coro, name=f"{self.definition.name}-{what}"))

    def _fail(self, message: str) -> None:
        """A wrong configuration: say what is wrong and stop the process (`on_fatal`)."""
        self.fatal = message
        log.critical("%s cannot run: %s", self.definition.name, message)
        if self.on_fatal is not None:
            self.on_fatal(message)

    async def _check_database_config(self) -> None:
        """Until the database first answers: an outage is waited out (readiness says so); bad
        credentials or a missing database stop the process."""
        backoff = Backoff(initial=0.5, cap=10.0)
        while True:
            try:
                await self.check_database()
                return
            except Exception as exc:  # classified below
                if classify(exc) is Fault.CONFIG:
                    self._fail(f"the database refuses this configuration: {describe(exc)}")
                    return
                await asyncio.sleep(backoff.next())

    async def _connect_kafka_then_run(self, *, consume: bool, relay: bool) -> None:
        loop = asyncio.get_running_loop()
        backoff = Backoff(initial=0.5, cap=10.0)
        missing_since: float | None = None
        wanted = self.consumer.topics() + [dead_letter_topic(self.definition.name)] if consume else []
        while True:
            try:
                missing = await missing_topics(self.settings.kafka_bootstrap_servers, wanted)
                if missing:
                    missing_since = missing_since if missing_since is not None else loop.time()
                    if loop.time() - missing_since >= self.settings.kafka_topic_wait_seconds:
                        self._fail(
                            f"Kafka at {self.settings.kafka_bootstrap_servers} has no topic "
                            f"{', '.join(missing)}; create the topics first (see deploy/README.md)"
                        )
                        return
                    raise LookupError(f"topic {', '.join(missing)} does not exist yet")
                self._broker_started = True  # from here on, stop() stops the broker: even half started
                await self.broker.start()
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # classified: a wrong configuration stops, the rest waits
                with contextlib.suppress(Exception):
                    await self.broker.stop()
                if classify(exc) is Fault.CONFIG:
                    self._fail(f"Kafka refuses this configuration: {describe(exc)}")
                    return
                self.kafka.start(describe(exc), loop.time())
                await asyncio.sleep(backoff.next())
        self.kafka.end(loop.time())
        self.kafka_connected = True
        if consume:
            if self.consumer.handlers:
                self._spawn(self.consumer.watch_lag(), "consumer-lag")
                self._spawn(self.consumer.commit_offsets(), "offset-commits")
            for background in self.definition.background:
                self._spawn(background(self), background.__name__)
        if relay:
            self._spawn(self.relay.run(), "relay")

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self.kafka_connected or self._broker_started:
            # A stop while the broker was still starting (its consumers joining their group) must
            # stop it too: a consumer left running holds its partitions in the group until its
            # session times out, and the next member of the group waits that long for them.
            with contextlib.suppress(Exception):
                await self.broker.stop()
        self._broker_started = False
        self.kafka_connected = False
        await self.engine.dispose()

    def app(self, *, http: bool = True, consume: bool = True, relay: bool = True) -> Litestar:
        """Every role's app serves `/metrics` (labelled with the role) and the admin endpoints."""
        role = role_of(http=http, consume=consume, relay=relay)
        self.consumer.role = self.relay.role = self.jobs.role = role

        async def startup() -> None:
            await self.start(consume=consume, relay=relay)

        return create_app(
            service=self.definition.name,
            role=role,
            description=self.definition.description,
            route_handlers=[*(self.definition.routes if http else ()), *admin_routes(self)],
            auth=jwt_auth_from(self.settings, AccessCheck(self.sessions)),
            readiness=self.readiness(consume=consume, relay=relay),
            tracer_provider=self.tracer_provider,
            dependencies=self.definition.dependencies(self),
            on_startup=[startup],
            on_shutdown=[self.stop],
            cors_allow_origins=self.settings.cors_allow_origins,
        )


async def missing_topics(bootstrap: str, topics: list[str]) -> list[str]:
    """Which of `topics` Kafka does not have (raises a Kafka error when it cannot be reached)."""
    if not topics:
        from portal_runtime.kafka import reachable

        await reachable(bootstrap)
        return []
    from aiokafka.admin import AIOKafkaAdminClient

    from portal_runtime.kafka import client_options

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000, **client_options())
    try:
        await admin.start()
        described = await admin.describe_topics(topics)
    finally:
        with contextlib.suppress(Exception):
            await admin.close()
    found = {d["topic"] for d in described if d.get("error_code") == 0 and d.get("partitions")}
    return sorted(set(topics) - found)
