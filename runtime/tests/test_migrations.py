"""The outbox and inbox made by a service's first migration match the runtime's models exactly
(Alembic's autogenerate comparison finds no difference), so the written-out DDL and the models
cannot drift apart unnoticed."""

from __future__ import annotations

import asyncio
import os
import sys

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import make_url, text
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


async def _proxy(target_host: str, target_port: int, drop_first: int):
    """A loopback TCP proxy to PostgreSQL that cuts its first `drop_first` connections at once
    (the way to the database failing, as podman's DNS did for a moment) and forwards the rest."""
    seen = 0

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal seen
        seen += 1
        if seen <= drop_first:
            writer.transport.abort()
            return
        up_reader, up_writer = await asyncio.open_connection(target_host, target_port)
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], lambda: seen


async def _migrate(url: str, **env: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "catalog",
        "migrate",
        env={**os.environ, "DATABASE_URL": url, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode, out.decode()


async def test_migrate_tries_again_while_the_way_to_the_database_fails(new_database):
    url = make_url(await new_database("catalog"))
    server, port, connections = await _proxy(url.host, url.port, drop_first=2)
    try:
        code, out = await _migrate(url.set(host="127.0.0.1", port=port).render_as_string(hide_password=False))
    finally:
        server.close()
    assert code == 0, out
    assert "catalog: database at head" in out
    assert out.count("the database is away") == 2, out
    assert connections() >= 3
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
    finally:
        await engine.dispose()


async def test_migrate_does_not_wait_for_a_database_that_does_not_exist(new_database):
    url = make_url(await new_database("catalog"))
    url = url.set(database=f"{url.database}_missing")
    code, out = await _migrate(url.render_as_string(hide_password=False), DATABASE_WAIT_SECONDS="600")
    assert code != 0
    assert f'database "{url.database}" does not exist' in out
    assert "the database is away" not in out
