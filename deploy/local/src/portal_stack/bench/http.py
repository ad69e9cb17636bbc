"""The HTTP rows: orders' `POST /v1/requests` (a draft with one line) and `GET /v1/requests/{id}`
under N connections for a fixed time, beside the baseline app (`baseline_app`: Litestar and one
asyncpg statement). The same client (httpx, in this process) loads both, one after the other;
requests per second, p50 and p99, and statements per request from PostgreSQL.

The client is Python too: when the baseline is fast enough to keep it busy, the baseline figure
is the client's limit, and the ratio flatters the project (the process table shows the client's
CPU beside the servers').
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx

from portal_stack.bench.measure import percentiles


async def load(
    base_url: str, send: Callable, seconds: float, connections: int, expect: int, *, ids: bool = False
) -> dict:
    """`connections` clients sending back to back for `seconds` (after a short warm-up):
    requests per second, latencies, the requests sent in all (warm-up too, for the statements
    per request), and the `id` of every answer when asked."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30, trust_env=False) as client:
        answers: list = []
        latencies: list[float] = []
        sent = 0

        async def worker(n: int, until: float, keep: bool) -> None:
            nonlocal sent
            while time.perf_counter() < until:
                sent += 1
                start = time.perf_counter()
                response = await send(client, n)
                if response.status_code != expect:
                    call = f"{response.request.method} {response.request.url}"
                    raise RuntimeError(f"{call}: {response.status_code} {response.text[:300]}")
                if keep:
                    latencies.append(time.perf_counter() - start)
                    if ids:
                        answers.append(response.json()["id"])
                n += connections

        warm = time.perf_counter() + min(1.0, seconds / 4)
        await asyncio.gather(*(worker(i, warm, False) for i in range(connections)))
        start = time.perf_counter()
        await asyncio.gather(*(worker(i, start + seconds, True) for i in range(connections)))
        elapsed = time.perf_counter() - start
    return {
        "answers": answers,
        "per_second": len(latencies) / elapsed,
        **percentiles(latencies),
        "sent": sent,
    }


async def post_and_get(system, headers: dict[str, str], item_id: str, seconds: float, connections: int) -> dict:
    """POST then GET, on orders and on the baseline, each in its own window."""
    body = {"lines": [{"item_id": item_id, "quantity": 1}]}
    figures: dict = {"post": {}, "get": {}, "cpu_percent": {}}
    targets = {"project": (system.api("orders"), "orders"), "baseline": (system.baseline_url, "http_raw")}
    created: dict[str, list[str]] = {}

    async def post(client: httpx.AsyncClient, n: int) -> httpx.Response:
        return await client.post("/v1/requests", headers=headers, json=body)

    for who, (url, database) in targets.items():
        async with system.meter.window() as window:
            result = await load(url, post, seconds, connections, 201, ids=True)
        created[who] = result.pop("answers")
        figures["post"][who] = {**result, "sql": window.per(system.database(database), result["sent"])}
        figures["cpu_percent"][f"POST {who}"] = window.cpu
    for who, (url, database) in targets.items():
        ids = created[who]

        async def get(client: httpx.AsyncClient, n: int, ids=ids) -> httpx.Response:
            return await client.get(f"/v1/requests/{ids[n % len(ids)]}", headers=headers)

        async with system.meter.window() as window:
            result = await load(url, get, seconds, connections, 200)
        result.pop("answers")
        figures["get"][who] = {**result, "sql": window.per(system.database(database), result["sent"])}
        figures["cpu_percent"][f"GET {who}"] = window.cpu
    return figures
