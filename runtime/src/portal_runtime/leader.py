"""One active holder per service: a loop that takes a PostgreSQL advisory lock and works while it
holds it (the outbox relay, the job scheduler). The lock is a session lock on the connection the
work uses: if that connection is lost, so is the lock, and the holder stops working with it. A
database or broker that is away is waited out with backoff, logged once (`Waiting`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from portal_runtime.faults import Backoff, Fault, Waiting, classify, describe

log = logging.getLogger(__name__)

# One round of work on the lock's connection; answers how long to pause before the next round.
Work = Callable[[AsyncConnection], Awaitable[float]]


class Holder:
    """Whether this process holds the lock right now (readiness and tests read `active`)."""

    active: bool = False


async def lead(
    engine: AsyncEngine,
    lock_id: int,
    work: Work,
    *,
    holder: Holder,
    outage: Waiting,
    backoff: Backoff,
    standby_seconds: float,
    what: str,
    pause: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> None:
    """Forever: take the lock (or stand by `standby_seconds` while another process holds it), then
    run `work` round after round on the lock's connection, with `pause(seconds)` between rounds
    (a sleep, or a wait that a notification ends early: `portal_runtime.wake`)."""
    loop = asyncio.get_running_loop()
    while True:
        try:
            async with engine.connect() as conn:
                got = await conn.scalar(text("SELECT pg_try_advisory_lock(:id)"), {"id": lock_id})
                await conn.commit()
                if not got:
                    outage.end(loop.time())
                    holder.active = False
                    await asyncio.sleep(standby_seconds)
                    continue
                holder.active = True
                try:
                    while True:
                        seconds = await work(conn)
                        outage.end(loop.time())
                        backoff.reset()
                        if seconds:
                            await pause(seconds)
                finally:
                    holder.active = False
                    with contextlib.suppress(Exception):  # a lost connection has no lock left
                        await conn.rollback()
                        await conn.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": lock_id})
                        await conn.commit()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the broker or database is away: wait and try again
            if classify(exc) is Fault.MESSAGE:
                log.exception("%s failed; it tries again", what)
            outage.start(describe(exc), loop.time())
            await asyncio.sleep(backoff.next())
