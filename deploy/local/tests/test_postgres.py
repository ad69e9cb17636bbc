import asyncpg

from portal_stack._proc import free_port
from portal_stack.postgres import PostgresServer, asyncpg_dsn, ensure_database, redact, with_database


async def test_infra_database_is_usable(infra):
    url = infra.database_url("catalog")
    assert url.startswith("postgresql+asyncpg://") and url.endswith("/test_catalog")
    assert infra.database_url("catalog") == url  # created once per session
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        assert await conn.fetchval("SELECT current_database()") == "test_catalog"
        assert await conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0
    finally:
        await conn.close()


async def test_data_survives_restart(server_dir):
    server = PostgresServer(server_dir / "pg", port=free_port())
    await server.start()
    try:
        await ensure_database(server.admin_url, "orders")
        await ensure_database(server.admin_url, "orders")  # exists: no error
        conn = await asyncpg.connect(asyncpg_dsn(server.url("orders")))
        await conn.execute("CREATE TABLE t (v text); INSERT INTO t VALUES ('kept')")
        await conn.close()
    finally:
        await server.stop()
    assert server.proc is None
    await server.start()
    try:
        conn = await asyncpg.connect(asyncpg_dsn(server.url("orders")))
        assert await conn.fetchval("SELECT v FROM t") == "kept"
        assert await conn.fetchval("SHOW max_connections") == "200"
        await conn.close()
    finally:
        await server.stop()


def test_url_helpers():
    url = "postgresql+asyncpg://u:secret@h:5/postgres?ssl=disable"
    assert with_database(url, "x") == "postgresql+asyncpg://u:secret@h:5/x?ssl=disable"
    assert redact(url) == "postgresql+asyncpg://u@h:5/postgres?ssl=disable"
    assert asyncpg_dsn(url).startswith("postgresql://u:secret@h:5/")
