"""One OS process that runs a job once, for test_jobs.py's race:

    python runtime/tests/job_process.py DATABASE_URL AS_OF

It prints `ready` once connected, waits for a line on stdin (the go), runs the job `count` as of
AS_OF (its effect: one more in `job_effects`, after half a second, so that a second runner that
did not wait for the first would overlap it) and prints the outcome as JSON."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, date

from sqlalchemy import text

from portal_runtime.clock import SystemClock
from portal_runtime.db import make_engine
from portal_runtime.jobs import Daily, Job, Jobs


async def main(url: str, as_of: date) -> None:
    engine = make_engine(url)

    async def count(day: date) -> dict:
        await asyncio.sleep(0.5)
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE job_effects SET n = n + 1 WHERE as_of = :d"), {"d": day})
        return {"counted": day.isoformat()}

    jobs = Jobs(service="race", engine=engine, clock=SystemClock(), tz=UTC, jobs=[Job("count", Daily(), count)])
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        outcome = await jobs.run("count", as_of, by="process")
        print(json.dumps(outcome.answer()), flush=True)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], date.fromisoformat(sys.argv[2])))
