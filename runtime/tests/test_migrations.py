"""The outbox and inbox made by a service's first migration match the runtime's models exactly
(Alembic's autogenerate comparison finds no difference), so the written-out DDL and the models
cannot drift apart unnoticed."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from catalog.bootstrap import definition as catalog
from portal_runtime.db import RuntimeBase


async def test_first_migration_makes_the_runtime_tables_the_models_describe(migrated_database):
    engine = create_async_engine(await migrated_database(catalog()))

    def diff(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return [
            d
            for d in compare_metadata(context, RuntimeBase.metadata)
            if not (d[0] == "remove_table" or (d[0] == "remove_index" and d[1].table.name not in ("outbox", "inbox")))
        ]

    try:
        async with engine.connect() as conn:
            differences = await conn.run_sync(diff)
    finally:
        await engine.dispose()
    assert differences == [], differences
