"""The engine every service uses, on real PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from portal_runtime.db import make_engine
from portal_runtime.testing import eventually


async def test_a_database_error_does_not_carry_the_values_of_its_statement(new_database):
    engine = make_engine(await new_database("runtime"))
    address = "jane.doe@example.test"
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE people (email text PRIMARY KEY)"))
            await conn.execute(text("INSERT INTO people VALUES (:email)"), {"email": address})
        with pytest.raises(IntegrityError) as err:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO people VALUES (:email)"), {"email": address})
        assert "INSERT INTO people" in str(err.value)  # the statement is named ...
        assert address not in str(err.value)  # ... its values are not
    finally:
        await engine.dispose()


async def test_a_pooled_connection_the_server_closed_is_replaced_at_checkout_without_a_round_trip(new_database):
    """PostgreSQL ends the pool's idle connection (as when it restarts): the next checkout takes
    a fresh one and the statement runs, with no ping sent on checkout (asyncpg knows the socket
    ended). Without that check and without `pool_pre_ping`, the statement fails on the dead one."""
    url = await new_database("runtime")
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:  # back in the pool after this
            old = (await conn.get_raw_connection()).driver_connection
            pid = old.get_server_pid()
        killer = make_engine(url)
        try:
            async with killer.connect() as conn:
                assert await conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        finally:
            await killer.dispose()
        await eventually(old.is_closed, what="asyncpg to see the server closed the connection")
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT pg_backend_pid()")) != pid
    finally:
        await engine.dispose()
