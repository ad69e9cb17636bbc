"""Wiring one service process: database, broker, outbox, consumer, relay, HTTP app, CLI.
The one place real adapters are made; services hand in their routes and event handlers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from litestar import Litestar
from opentelemetry.trace import TracerProvider
from sqlalchemy import text

from portal_runtime.clock import Clock, SystemClock
from portal_runtime.consumer import EventConsumer
from portal_runtime.db import make_engine, make_sessionmaker
from portal_runtime.kafka import make_broker
from portal_runtime.outbox import Outbox
from portal_runtime.relay import OutboxRelay
from portal_runtime.settings import ServiceSettings
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
        self.clock = clock or SystemClock()
        self.tracer_provider = tracer_provider
        self.engine = make_engine(settings.database_url)
        self.sessions = make_sessionmaker(self.engine)
        self.broker = make_broker(settings.kafka_bootstrap_servers, settings.service_name, tracer_provider)
        self.outbox = Outbox(settings.service_name, self.clock)
        self.consumer = EventConsumer(
            service=settings.service_name, sessions=self.sessions, broker=self.broker, outbox=self.outbox,
            max_attempts=settings.consumer_max_attempts, backoff_seconds=settings.consumer_backoff_seconds,
            clock=self.clock,
        )
        self.relay = OutboxRelay(
            service=settings.service_name, engine=self.engine, broker=self.broker,
            batch_size=settings.relay_batch_size, poll_seconds=settings.relay_poll_seconds,
            outbox_retention=timedelta(hours=settings.outbox_retention_hours),
            inbox_retention=timedelta(hours=settings.inbox_retention_hours),
            purge_every_seconds=settings.purge_every_seconds, clock=self.clock,
            tracer_provider=tracer_provider,
        )
        if definition.register_consumers is not None:
            definition.register_consumers(self.consumer, self)
        self._tasks: list[asyncio.Task] = []

    # -- readiness -------------------------------------------------------------------------
    async def check_database(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def check_kafka(self) -> None:
        if not await self.broker.ping(timeout=3.0):
            raise ConnectionError(f"Kafka at {self.settings.kafka_bootstrap_servers} does not answer")

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self, *, consume: bool = True, relay: bool = True) -> None:
        if consume:
            self.consumer.subscribe()
        await self.broker.start()
        if consume:
            for loop in self.definition.background:
                self._tasks.append(asyncio.create_task(loop(self), name=f"{self.definition.name}-{loop.__name__}"))
        if relay:
            self._tasks.append(asyncio.create_task(self.relay.run(), name=f"{self.definition.name}-relay"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        await self.broker.stop()
        await self.engine.dispose()

    def app(self, *, http: bool = True, consume: bool = True, relay: bool = True) -> Litestar:
        async def startup() -> None:
            await self.start(consume=consume, relay=relay)

        return create_app(
            service=self.definition.name,
            description=self.definition.description,
            route_handlers=list(self.definition.routes) if http else [],
            jwt_secret=self.settings.jwt_secret.get_secret_value(),
            readiness={"database": self.check_database, "kafka": self.check_kafka},
            tracer_provider=self.tracer_provider,
            dependencies=self.definition.dependencies(self),
            on_startup=[startup],
            on_shutdown=[self.stop],
        )
