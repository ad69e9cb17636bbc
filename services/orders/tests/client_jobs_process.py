"""One OS process that runs the renewal use case once, for test_client_jobs_postgres.py's race:

    python services/orders/tests/client_jobs_process.py DATABASE_URL AS_OF

It calls `RenewalService.run` directly, without the runtime's job lock (`Jobs.run`), so that two
of them at once show the use case's own guard. It prints `ready` once connected, waits for a line
on stdin (the go), runs as of AS_OF (the clock at 09:00 that day, UTC) and prints its answer as
JSON, or `{"error": ...}` when the run failed."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, date, datetime, time

from sqlalchemy import text

from orders.adapters.events import to_contract
from orders.adapters.repository import OrdersUnitOfWork
from orders.service.renewals import RenewalService
from portal_runtime.clock import FrozenClock
from portal_runtime.db import make_engine, make_sessionmaker
from portal_runtime.faults import describe
from portal_runtime.outbox import Outbox
from portal_runtime.uow import UnitsOfWork


async def main(url: str, as_of: date) -> None:
    engine = make_engine(url)
    clock = FrozenClock(datetime.combine(as_of, time(9, 0), tzinfo=UTC))
    uow = UnitsOfWork(make_sessionmaker(engine), Outbox("orders", clock), to_contract, OrdersUnitOfWork)
    renewals = RenewalService(uow, clock, days_before=14)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        try:
            answer = await renewals.run(as_of)
        except Exception as exc:
            answer = {"error": describe(exc)}
        print(json.dumps(answer), flush=True)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], date.fromisoformat(sys.argv[2])))
