"""The framework-free HTTP baseline of `portal bench`: Litestar on uvicorn (as the services run,
same log level) with one asyncpg statement per request (a SELECT by key, an INSERT) and nothing
else: no token check, unit of work, ORM, tracing or metrics. What the orders GET and POST rows are
compared with, on the same PostgreSQL in the same run.

    BENCH_DATABASE_URL=postgresql://... HTTP_PORT=8099 python -m portal_stack.bench.baseline_app
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import asyncpg
import uvicorn
from litestar import Litestar, get, post
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from litestar.params import Body


@get("/health/ready")
async def ready() -> str:
    return "ok"


@get("/v1/requests/{request_id:uuid}")
async def read(request_id: uuid.UUID, state: State) -> dict[str, Any]:
    row = await state.pool.fetchrow(
        "SELECT id, account_id, status, lines::text AS lines, created_at FROM requests WHERE id = $1", request_id
    )
    if row is None:
        raise NotFoundException(f"no request {request_id}")
    return {**dict(row), "lines": json.loads(row["lines"])}


@post("/v1/requests")
async def create(data: Annotated[dict[str, Any], Body()], state: State) -> dict[str, Any]:
    row = await state.pool.fetchrow(
        "INSERT INTO requests VALUES ($1, $2, 'draft', $3, $4) RETURNING id, account_id, status, created_at",
        uuid.uuid4(),
        "bench",
        json.dumps(data["lines"]),
        datetime.now(UTC),
    )
    return {**dict(row), "lines": data["lines"]}


async def _nothing_to_reset(conn: asyncpg.Connection) -> None:
    """No session state is ever set here, so a connection goes back to the pool as it is (the
    pool's default reset would send four more statements per request: `pg_advisory_unlock_all()`,
    `CLOSE ALL`, `UNLISTEN *`, `RESET ALL`)."""


async def _open(app: Litestar) -> None:
    app.state.pool = await asyncpg.create_pool(
        os.environ["BENCH_DATABASE_URL"], min_size=1, max_size=10, reset=_nothing_to_reset
    )


async def _close(app: Litestar) -> None:
    await app.state.pool.close()


app = Litestar([ready, read, create], on_startup=[_open], on_shutdown=[_close], openapi_config=None)

if __name__ == "__main__":
    uvicorn.run(app, host=os.environ.get("HTTP_HOST", "127.0.0.1"), port=int(os.environ["HTTP_PORT"]), log_level="info")
