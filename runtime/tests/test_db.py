"""The engine every service uses, on real PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from portal_runtime.db import make_engine


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
