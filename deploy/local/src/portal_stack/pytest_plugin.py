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
