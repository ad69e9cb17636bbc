"""The test clock, as Stripe's test clocks and Kill Bill's clock API offer: with PORTAL_TEST_CLOCK=1
(refused with PORTAL_ENV=production, see `portal_runtime.settings`) an admin moves the time one
service reads everywhere (timestamps, due dates, jobs on their schedule) with
`PUT /v1/admin/clock {"now": "2027-01-31T09:00:00Z"}`; the time then runs on from there.

Several processes of one service (api, worker, relay) share its database, so the clock's offset
is kept in the one-row table `test_clock` and every process reads it every
TEST_CLOCK_REFRESH_SECONDS (a clock's `now()` is synchronous: it answers the cached offset). The
process that moves the clock uses the new offset at once; the others within one refresh."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import BigInteger, DateTime, SmallInteger, delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from portal_runtime.clock import Clock, OffsetClock
from portal_runtime.db import RuntimeBase
from portal_runtime.faults import Backoff, Waiting, describe

log = logging.getLogger(__name__)


class ClockOffsetRecord(RuntimeBase):
    """The test clock of one service: at most one row (id 1); no row is the real time."""

    __tablename__ = "test_clock"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    offset_us: Mapped[int] = mapped_column(BigInteger)  # moved time minus real time, microseconds
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # real time when it was moved
    set_to: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # the time it was moved to


def _us(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


class SharedTestClock(OffsetClock):
    """The base clock (the real one) plus the offset every process of the service reads from
    `test_clock`."""

    def __init__(self, base: Clock, engine: AsyncEngine, service: str, *, refresh_seconds: float = 1.0) -> None:
        super().__init__(base)
        self.engine = engine
        self.refresh_seconds = refresh_seconds
        self.set_at: datetime | None = None
        self.outage = Waiting(service, "test-clock")
        self.loads = 0  # reads of the table (tests wait on it)
        self._moves = 0  # moves made in this process: a read begun before one is older than it

    async def load(self) -> None:
        """Take the shared offset; unless this process moved the clock while the read was on its way
        (what it read may be from before that move, which must not be undone)."""
        moves = self._moves
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(ClockOffsetRecord).where(ClockOffsetRecord.id == 1))).first()
        self.loads += 1
        if moves != self._moves:
            return
        self.offset = timedelta(microseconds=row.offset_us) if row else timedelta(0)
        self.set_at = row.set_at if row else None

    async def move_to(self, now: datetime) -> None:
        """From now on this service reads `now` (and on from there); the other processes within
        one refresh."""
        if now.tzinfo is None:
            raise ValueError("the time must name its offset, e.g. 2027-01-31T09:00:00Z")
        real = self.base.now()
        offset = now.astimezone(UTC) - real
        row = {"id": 1, "offset_us": _us(offset), "set_at": real, "set_to": now}
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(ClockOffsetRecord).values(row).on_conflict_do_update(index_elements=["id"], set_=row)
            )
        self.offset = offset
        self.set_at = real
        self._moves += 1

    async def reset(self) -> None:
        """Back to the real time."""
        async with self.engine.begin() as conn:
            await conn.execute(delete(ClockOffsetRecord))
        self.offset = timedelta(0)
        self.set_at = None
        self._moves += 1

    async def follow(self) -> None:
        """Read the shared offset every `refresh_seconds`, until cancelled; a database that is away
        is waited out (the last offset read stays)."""
        loop = asyncio.get_running_loop()
        backoff = Backoff(initial=0.5, cap=10.0)
        while True:
            try:
                await self.load()
                self.outage.end(loop.time())
                backoff.reset()
                await asyncio.sleep(self.refresh_seconds)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is away (or not migrated yet): keep the last offset
                self.outage.start(describe(exc), loop.time())
                await asyncio.sleep(backoff.next())
