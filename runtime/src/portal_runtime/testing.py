"""Helpers for tests that run a real service (real PostgreSQL and Kafka) in the test process."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import uvicorn
from opentelemetry.trace import TracerProvider

from portal_runtime.auth import Role, issue_token
from portal_runtime.clock import Clock
from portal_runtime.migrations import upgrade
from portal_runtime.service import ServiceDefinition, ServiceRuntime
from portal_runtime.settings import ServiceSettings

TEST_SECRET = "test-signing-key-not-a-secret-0123456789"


def bearer(
    account: str, role: Role = "customer", secret: str = TEST_SECRET, *, user: str | None = None
) -> dict[str, str]:
    """Headers of user `user` (by default the role's name) of `account` with `role`."""
    return {"Authorization": f"Bearer {issue_token(secret, account, role, user_id=user)}"}


@contextlib.asynccontextmanager
async def running_service(
    definition: ServiceDefinition,
    *,
    database_url: str,
    kafka: str,
    tracer_provider: TracerProvider | None = None,
    clock: Clock | None = None,
    http: bool = True,
    consume: bool = True,
    relay: bool = True,
    before_start: Callable[[ServiceRuntime], None] | None = None,
    **settings: Any,
) -> AsyncIterator[tuple[ServiceRuntime, httpx.AsyncClient]]:
    """Migrate the database, start the service (HTTP app, consumers, relay) and yield it with an
    HTTP client. Fast retry settings unless overridden. `before_start` sees the runtime before
    anything runs (to watch its consumer from the first event on)."""
    if definition.migrations is not None:
        await asyncio.to_thread(upgrade, definition.migrations, database_url)
    options = {"consumer_backoff_seconds": 0.05, "relay_poll_seconds": 0.5, **settings}
    rt = ServiceRuntime(
        definition,
        ServiceSettings(
            service_name=definition.name,
            database_url=database_url,
            kafka_bootstrap_servers=kafka,
            jwt_secret=TEST_SECRET,
            **options,
        ),
        tracer_provider=tracer_provider,
        clock=clock,
    )
    if before_start is not None:
        before_start(rt)
    async with served(rt.app(http=http, consume=consume, relay=relay), definition.name) as client:
        yield rt, client


@contextlib.asynccontextmanager
async def served(app: Any, name: str) -> AsyncIterator[httpx.AsyncClient]:
    """Serve an ASGI app on a free port of 127.0.0.1 in this event loop and yield a client of it:
    Litestar's test client runs the app in another loop, where the service's engine and the test's
    would not mix, and a request that waits would hold up the next one."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if serving.done():
                serving.result()
                raise RuntimeError(f"{name} did not start")
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        # The client lets an idle connection go before the server does (uvicorn closes one after 5 s
        # of keep-alive; httpx keeps one 5 s too): a request sent on a connection the server is just
        # closing fails with ReadError (seen once in tests/test_units_flow.py after a 5 s wait).
        limits = httpx.Limits(keepalive_expiry=2.0)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30, limits=limits) as client:
            yield client
    finally:
        server.should_exit = True
        await serving


def json_lines(text: str, source: str) -> list[dict[str, Any]]:
    """The entries of a JSON log as `portal_runtime.logs` writes it (one object a line; blank lines
    passed over); a line that is not JSON fails the test, naming `source` and the line."""
    parsed = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            parsed.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"{source} logged a line that is not JSON: {line!r}") from None
    return parsed


async def eventually(check, *, timeout: float = 30.0, interval: float = 0.1, what: str = "condition"):
    """Poll an async or sync check until it returns a truthy value; fail naming what was awaited."""
    deadline = asyncio.get_running_loop().time() + timeout
    last: Any = None
    while True:
        last = check()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return last
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what} (last value: {last!r})")
        await asyncio.sleep(interval)


async def read_topic(kafka: str, topic: str, predicate, *, want: int, timeout: float = 30) -> list:
    """Every record on `topic` (from the start, no consumer group) that matches `predicate`,
    once `want` of them arrived or the timeout passed."""
    from aiokafka import AIOKafkaConsumer

    from portal_runtime.dlq import partitions_of

    parts = await partitions_of(kafka, topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, enable_auto_commit=False, group_id=None)
    await consumer.start()
    found: list = []
    try:
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        deadline = asyncio.get_running_loop().time() + timeout
        while len(found) < want and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            found += [r for records in batch.values() for r in records if predicate(r)]
    finally:
        await consumer.stop()
    return found


class Seen:
    """What a consumer did with each event, by event id: `before_start=seen.watch`, then
    `await seen.wait(event_id, "duplicate")` waits for that event's own outcome."""

    def __init__(self) -> None:
        import collections

        self.outcomes: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)

    def watch(self, rt: ServiceRuntime) -> None:
        rt.consumer.observers.append(self._record)

    def _record(self, outcome: str, envelope: Any) -> None:
        self.outcomes[str(envelope.event_id)][outcome] += 1

    def count(self, event_id: Any, outcome: str) -> int:
        return self.outcomes[str(event_id)][outcome]

    async def wait(self, event_id: Any, outcome: str, *, times: int = 1, timeout: float = 30.0) -> None:
        await eventually(
            lambda: self.count(event_id, outcome) >= times,
            timeout=timeout,
            what=f"event {event_id} to be seen {outcome} {times}x",
        )


class FakeUnitOfWork:
    """A unit of work without a database, for use-case tests in milliseconds: a service's fake
    subclass names in-memory repositories (each with `save`); commit saves what was tracked and
    maps the aggregates' events with the service's real mapping into `published`."""

    def __init__(self, mapping: Callable[[Any], Any]) -> None:
        self.mapping = mapping
        self.published: list[Any] = []
        self.commits = 0
        self._seen: list[tuple[Any, Any]] = []

    def track(self, aggregate: Any, saver: Any = None) -> Any:
        if all(seen is not aggregate for seen, _ in self._seen):
            self._seen.append((aggregate, saver))
        return aggregate

    def publish(self, event: Any) -> None:
        self.published.append(event)

    async def commit(self) -> None:
        for aggregate, saver in self._seen:
            events = list(getattr(aggregate, "events", None) or [])
            if events:
                aggregate.events.clear()  # before saving: an in-memory copy must not keep them
            if saver is not None:
                await saver.save(aggregate)
            for event in events:
                mapped = self.mapping(event)
                self.published.extend(mapped if isinstance(mapped, list | tuple) else [m for m in [mapped] if m])
        self._seen.clear()
        self.commits += 1


class FakeRepository:
    """An in-memory repository of a `FakeUnitOfWork`, for a service's fake to subclass (adding its
    queries): `rows` by the aggregates' `key` attribute, kept as copies, so that a use case changes
    only what it loaded and only `save` (on commit) stores it, as with a database; `get` and `add`
    track what they hand out."""

    key = "id"

    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow
        self.rows: dict[Any, Any] = {}

    async def get(self, key: Any, *, for_update: bool = False) -> Any:
        found = self.rows.get(key)
        return None if found is None else self.uow.track(copy.deepcopy(found), self)

    def add(self, aggregate: Any) -> Any:
        return self.uow.track(aggregate, self)

    async def save(self, aggregate: Any) -> None:
        self.rows[getattr(aggregate, self.key)] = copy.deepcopy(aggregate)


class FakeUnitsOfWork:
    """Opens the one fake unit of work (as `UnitsOfWork` opens real ones); leaving without commit
    forgets what was tracked, as a rollback would."""

    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow

    @contextlib.asynccontextmanager
    async def __call__(self) -> AsyncIterator[Any]:
        try:
            yield self.uow
        finally:
            self.uow._seen.clear()


async def schema_drift(url: str, *metadatas: Any) -> list:
    """What alembic's autogenerate finds between the database at `url` (as its migrations made it)
    and the models' metadata (types compared): [] when the migrations make the tables the models
    describe. The runtime's own tables (RuntimeBase) are always compared too."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy.ext.asyncio import create_async_engine

    from portal_runtime.db import RuntimeBase

    def diff(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return [
            d
            for d in compare_metadata(context, [*metadatas, RuntimeBase.metadata])
            if not (isinstance(d, tuple) and d[0] == "remove_table" and d[1].name == "alembic_version")
        ]

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(diff)
    finally:
        await engine.dispose()
