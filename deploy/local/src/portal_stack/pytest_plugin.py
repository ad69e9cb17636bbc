"""pytest plugin (loaded with `-p portal_stack.pytest_plugin`): the session fixture `infra`.

Real Kafka, PostgreSQL and a mail sink are started once per session unless PORTAL_* variables
name existing servers (see portal_stack.config). Missing infrastructure fails the test with a
message saying what is missing and how to provide it; it is never skipped.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def infra() -> Iterator[object]:
    """A portal_stack.testing.TestInfra: kafka_bootstrap, database_url(service), smtp_host,
    smtp_port, mailsink_url and `await messages(to=None)`."""
    try:
        from portal_stack.errors import InfraError
        from portal_stack.stack import contract_topics
        from portal_stack.testing import TestInfra
    except ImportError as exc:
        pytest.fail(
            f"portal_stack cannot be imported ({exc}); run `uv sync` at the repository "
            "root to install its dependencies",
            pytrace=False,
        )
    try:
        handle = TestInfra(topics=contract_topics(required=False))
    except InfraError as exc:
        pytest.fail(f"test infrastructure is missing: {exc}", pytrace=False)
    except Exception as exc:
        pytest.fail(f"test infrastructure failed to start: {type(exc).__name__}: {exc}", pytrace=False)
    try:
        yield handle
    finally:
        handle.close()


@pytest.fixture
def kafka(infra) -> str:
    """Bootstrap servers of the session's Kafka."""
    return infra.kafka_bootstrap


@pytest.fixture
async def new_database(infra):
    """A factory of empty databases with unique names on the session's PostgreSQL; each call
    returns the new database's SQLAlchemy async URL."""
    import uuid

    import asyncpg

    admin = infra.postgres_admin_url
    assert admin, "no PostgreSQL: set PORTAL_POSTGRES_URL or let the test session start one"
    base = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)

    async def make(prefix: str) -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}".replace("-", "_")
        conn = await asyncpg.connect(admin.replace("postgresql+asyncpg://", "postgresql://", 1))
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return f"{base}/{name}"

    return make


@pytest.fixture
async def migrated_database(new_database):
    """A factory of migrated service databases: `url = await migrated_database(definition())`
    makes an empty database and runs the service's Alembic migrations on it."""
    import asyncio

    from portal_runtime.migrations import upgrade

    async def make(definition) -> str:
        url = await new_database(definition.name)
        if definition.migrations is not None:
            await asyncio.to_thread(upgrade, definition.migrations, url)
        return url

    return make


# The order of the test command in two pytest-xdist processes (run-tests: `--dist loadfile
# --no-loadscope-reorder`). A worker takes a whole test file (its module-scoped portal stays in one
# process), and the three short runs that start a whole system of their own (a dozen processes or
# more on two cores) are one unit, run one after the other in one worker while the other takes
# lighter files: two of them at once starved each other (a service took 92 s to start). The
# longest go first, the rest in collection order, so no long file is left for the end with one
# worker idle (xdist's default order puts the one-test files last). xdist's own `loadgroup` cannot
# do this with pytest 9 (it renames `item._nodeid`, which pytest 9 no longer reads).
ONE_AFTER_THE_OTHER = ("tests/test_chaos_short.py", "tests/test_scale_out_short.py", "tests/test_bench_short.py")
LONGEST_FIRST = (
    *ONE_AFTER_THE_OTHER,
    "tests/test_openapi.py",
    "tests/test_outages.py",
    "tests/test_units_concurrency.py",
    "tests/test_delivery.py",
    "deploy/local/tests/test_up.py",
    "tests/test_metrics.py",
    "tests/test_units_flow.py",
    "tests/test_client_area_flow.py",
    "tests/test_order_manager_walkthrough.py",
)


def pytest_collection_modifyitems(config, items) -> None:
    rank = {where: n for n, where in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))  # stable: the rest as collected
    for item in items:
        _bound_in_its_loop(item)


# A coroutine test is cancelled inside its own event loop IN_LOOP_MARGIN seconds before
# pytest-timeout's limit: its `async with` blocks (services, portals, consumers) stop, and it fails
# with a TimeoutError whose traceback shows the await it hung on. pytest-timeout's signal alone
# raises outside the test's task, so a hung test's in-process services ran on in the session's
# loop, as members of the consumer groups of the tests after it, and took their events (one hang
# failed nine more tests of that worker in one run).
IN_LOOP_MARGIN = 15.0


def _bound_in_its_loop(item) -> None:
    import functools
    import inspect

    fn = getattr(item, "obj", None)
    if fn is None or not inspect.iscoroutinefunction(fn):
        return
    marker = item.get_closest_marker("timeout")
    limit = marker.args[0] if marker is not None and marker.args else item.config.getoption("timeout", None)
    if limit is None:
        limit = item.config.getini("timeout")
    try:
        seconds = float(limit) - IN_LOOP_MARGIN
    except (TypeError, ValueError):
        return
    if seconds <= 0:
        return

    @functools.wraps(fn)
    async def bounded(*args, **kwargs):
        import asyncio

        async with asyncio.timeout(seconds):
            return await fn(*args, **kwargs)

    item.obj = bounded


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook, called in the controlling process
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class Scheduler(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            where = super()._split_scope(nodeid)
            return "whole systems" if where in ONE_AFTER_THE_OTHER else where

    return Scheduler(config, log)
