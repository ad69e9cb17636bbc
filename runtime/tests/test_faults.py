"""The classifier that decides whether a failure is waited out or counted towards the dead-letter
topic: real driver errors, raised by real servers where a test can make them."""

from __future__ import annotations

import asyncpg
import pytest
import sqlalchemy.exc
from aiokafka import errors as kafka_errors
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from portal_runtime.errors import DomainError
from portal_runtime.faults import Backoff, Fault, classify


async def test_a_database_that_is_not_listening_is_an_outage():
    engine = create_async_engine("postgresql+asyncpg://postgres@127.0.0.1:9/nowhere")
    with pytest.raises(Exception) as refused:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    await engine.dispose()
    assert classify(refused.value) is Fault.OUTAGE, repr(refused.value)


@pytest.mark.parametrize(
    "exc",
    [
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.CannotConnectNowError("the database system is not yet accepting connections"),
        asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.exceptions.CrashShutdownError("terminating connection because of crash of another server process"),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),
        asyncpg.InternalClientError("cannot switch to state 15; another operation (2) is in progress"),
        asyncpg.InterfaceError("connection is closed"),
        ConnectionResetError(104, "Connection reset by peer"),
        TimeoutError(),
        sqlalchemy.exc.TimeoutError("QueuePool limit of size 10 overflow 10 reached"),
        kafka_errors.KafkaConnectionError("Unable to bootstrap from [('127.0.0.1', 9092)]"),
        kafka_errors.KafkaTimeoutError(),
        kafka_errors.NotLeaderForPartitionError(),
        kafka_errors.RequestTimedOutError(),
    ],
    ids=lambda e: type(e).__name__,
)
def test_dependency_errors_are_outages(exc):
    assert classify(exc) is Fault.OUTAGE


def test_an_outage_is_recognised_behind_the_errors_that_wrap_it():
    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except OSError as inner:
            raise RuntimeError("handler failed") from inner
    except RuntimeError as outer:
        assert classify(outer) is Fault.OUTAGE
    group = ExceptionGroup("several", [ValueError("x"), asyncpg.exceptions.AdminShutdownError("bye")])
    assert classify(group) is Fault.OUTAGE


@pytest.mark.parametrize(
    "exc",
    [
        asyncpg.exceptions.InvalidPasswordError('password authentication failed for user "portal"'),
        asyncpg.exceptions.InvalidCatalogNameError('database "shop" does not exist'),
        asyncpg.exceptions.UndefinedTableError('relation "inbox" does not exist'),
        kafka_errors.SaslAuthenticationFailed(),
        kafka_errors.AuthenticationFailedError(),
        kafka_errors.TopicAuthorizationFailedError(),
    ],
    ids=lambda e: type(e).__name__,
)
def test_wrong_configuration_is_config(exc):
    assert classify(exc) is Fault.CONFIG


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("total does not match the lines"),
        DomainError("request is already approved", status_code=409),
        asyncpg.exceptions.UniqueViolationError("duplicate key value violates unique constraint"),
        asyncpg.exceptions.DataError("invalid input for query argument $1"),
        asyncpg.exceptions.QueryCanceledError("canceling statement due to statement timeout"),
        kafka_errors.MessageSizeTooLargeError(),
        KeyError("item_id"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_the_messages_own_faults_are_message(exc):
    assert classify(exc) is Fault.MESSAGE


async def test_real_server_errors_are_classified(new_database):
    """A missing database (config), a missing table (config, not migrated) and a unique
    violation (the message's fault), as PostgreSQL raises them through SQLAlchemy."""
    url = await new_database("faults")
    missing = create_async_engine(url.rsplit("/", 1)[0] + "/no_such_db_here")
    with pytest.raises(Exception) as no_db:
        async with missing.connect():
            pass
    await missing.dispose()
    assert classify(no_db.value) is Fault.CONFIG, repr(no_db.value)

    engine = create_async_engine(url)
    try:
        with pytest.raises(sqlalchemy.exc.DBAPIError) as no_table:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT * FROM inbox"))
        assert classify(no_table.value) is Fault.CONFIG
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id int PRIMARY KEY)"))
            await conn.execute(text("INSERT INTO t VALUES (1)"))
        with pytest.raises(sqlalchemy.exc.IntegrityError) as dup:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t VALUES (1)"))
        assert classify(dup.value) is Fault.MESSAGE
        # a backend killed by an administrator (as a restart does) is an outage
        async with engine.connect() as victim, engine.connect() as admin:
            pid = await victim.scalar(text("SELECT pg_backend_pid()"))
            await admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            with pytest.raises(sqlalchemy.exc.DBAPIError) as killed:
                await victim.execute(text("SELECT 1"))
        assert classify(killed.value) is Fault.OUTAGE, repr(killed.value)
    finally:
        await engine.dispose()


def test_backoff_grows_to_its_cap_with_jitter():
    import random

    backoff = Backoff(initial=0.2, cap=5.0, rng=random.Random(7))
    waits = [backoff.next() for _ in range(12)]
    assert 0.1 <= waits[0] <= 0.2 and all(w <= 5.0 for w in waits) and max(waits) >= 2.5
    assert len(set(waits)) == len(waits), "jittered"
    backoff.reset()
    assert backoff.next() <= 0.2
