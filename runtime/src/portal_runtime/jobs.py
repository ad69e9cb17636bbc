"""Scheduled jobs: periodic work of a service, each a use case idempotent for a calendar date.

A `Job` has a name, a schedule (`Daily(at=time(3, 0))`: once a day at a time of day in the
business's time zone; `Every(minutes=15)`) and `run(as_of: date) -> dict` saying what it did.
A run claims its date in `job_runs` (unique job + as_of): a run for a date that already has a
finished row does nothing and answers "already ran" (for an `Every` job: finished in the current
slot). Runs of one job are serialised by a PostgreSQL advisory lock held for the whole run, so
two processes asking at once run it once; a run that crashed (a started row nobody holds the lock
for) is run again, which is why the use case itself must be idempotent for its date.

The worker role's scheduler (one active per service: a second advisory lock, as the relay's)
wakes every JOB_POLL_SECONDS, reads the service's clock (the test clock's time, when it is on)
and runs each job that is due and has not run for its latest date. A missed date (the service was
down, the clock was moved on by weeks) is not run afterwards: each run covers what is due up to
its date. A database that is away is waited out (`Waiting`, backoff); a job that fails is logged
and tried again with backoff; the process never stops because of a job.

Every job also runs on demand, as of a given date: `POST /v1/admin/jobs/{job}/run` (admin.py).
Every service has the runtime's `purge` job (published outbox rows and inbox rows past their
retention); a service adds its own with `ServiceDefinition(jobs=[lambda rt: Job(...)])`.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import math
import zlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from time import perf_counter
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import BigInteger, Date, DateTime, String, UniqueConstraint, delete, select, text, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from portal_runtime.clock import Clock, business_date, start_of
from portal_runtime.db import InboxRecord, OutboxRecord, RuntimeBase
from portal_runtime.errors import Conflict, NotFound
from portal_runtime.faults import Backoff, Fault, Waiting, classify, describe
from portal_runtime.idempotency import purge_expired_keys
from portal_runtime.leader import lead
from portal_runtime.metrics import JOB_DURATION, JOB_RUNS

if TYPE_CHECKING:
    from portal_runtime.service import ServiceRuntime

log = logging.getLogger(__name__)


class JobRunRecord(RuntimeBase):
    """One job's run for one date: started, finished (with what it did) or failed (error in result)."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "as_of"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    job: Mapped[str] = mapped_column(String(100))
    as_of: Mapped[date] = mapped_column(Date)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    result: Mapped[dict | None] = mapped_column(JSONB, nullable=True)
    run_by: Mapped[str] = mapped_column(String(200))  # "schedule" or "admin:<account>"


# -- schedules -------------------------------------------------------------------------------
class Schedule(Protocol):
    def latest(self, now: datetime, tz: tzinfo) -> datetime:
        """The most recent scheduled instant at or before `now`."""
        ...

    def next_after(self, now: datetime, tz: tzinfo) -> datetime: ...

    def done(self, finished_at: datetime, now: datetime, tz: tzinfo) -> bool:
        """Does a run of a date that finished at `finished_at` still count at `now`?"""
        ...

    def describe(self, tz: tzinfo) -> str: ...


@dataclass(frozen=True)
class Daily:
    """Once a day at `at`, a time of day in the business's time zone."""

    at: time = time(0, 0)

    def _on(self, day: date, tz: tzinfo) -> datetime:
        return datetime.combine(day, self.at, tzinfo=tz).astimezone(UTC)

    def latest(self, now: datetime, tz: tzinfo) -> datetime:
        today = business_date(now, tz)
        at = self._on(today, tz)
        return at if at <= now else self._on(today - timedelta(days=1), tz)

    def next_after(self, now: datetime, tz: tzinfo) -> datetime:
        today = business_date(now, tz)
        at = self._on(today, tz)
        return at if at > now else self._on(today + timedelta(days=1), tz)

    def done(self, finished_at: datetime, now: datetime, tz: tzinfo) -> bool:
        return True

    def describe(self, tz: tzinfo) -> str:
        return f"daily at {self.at.strftime('%H:%M')} {tz}"


@dataclass(frozen=True)
class Every:
    """Every `minutes` minutes, counted from midnight in the business's time zone; a date's row
    keeps its last run."""

    minutes: float

    def __post_init__(self) -> None:
        if self.minutes <= 0:
            raise ValueError("Every(minutes=...) must be more than 0")

    def latest(self, now: datetime, tz: tzinfo) -> datetime:
        midnight = start_of(business_date(now, tz), tz)
        step = timedelta(minutes=self.minutes)
        return midnight + step * math.floor((now - midnight) / step)

    def next_after(self, now: datetime, tz: tzinfo) -> datetime:
        following = self.latest(now, tz) + timedelta(minutes=self.minutes)
        return min(following, start_of(business_date(now, tz) + timedelta(days=1), tz))

    def done(self, finished_at: datetime, now: datetime, tz: tzinfo) -> bool:
        return finished_at >= self.latest(now, tz)

    def describe(self, tz: tzinfo) -> str:
        return f"every {self.minutes:g} minutes"


@dataclass(frozen=True)
class Job:
    """A use case run as of a date: `run(as_of)` answers what it did (JSON-able) and must be
    idempotent for that date."""

    name: str
    schedule: Schedule
    run: Callable[[date], Awaitable[dict[str, Any]] | dict[str, Any]]
    description: str = ""


@dataclass(frozen=True)
class RunOutcome:
    job: str
    as_of: date
    ran: bool  # False: it had already run for that date, nothing was done
    result: dict[str, Any] | None
    started_at: datetime
    finished_at: datetime | None
    run_by: str

    def answer(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "as_of": self.as_of.isoformat(),
            "run_status": "ran" if self.ran else "already ran",
            "result": self.result,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "run_by": self.run_by,
        }


class AlreadyRan(Conflict):
    def __init__(self, outcome: RunOutcome) -> None:
        super().__init__(
            f"{outcome.job} already ran for {outcome.as_of.isoformat()} (finished "
            f"{outcome.finished_at.isoformat() if outcome.finished_at else '?'}); nothing was done",
            **outcome.answer(),
        )
        self.outcome = outcome


def _jsonable(result: Any) -> dict[str, Any]:
    value = result if isinstance(result, dict) else {"result": result}
    return json.loads(json.dumps(value, default=str))


# -- runs ------------------------------------------------------------------------------------
class Jobs:
    """The jobs of one service: run one as of a date, list them, and the scheduler loop."""

    def __init__(
        self,
        *,
        service: str,
        engine: AsyncEngine,
        clock: Clock,
        tz: tzinfo,
        jobs: Sequence[Job],
        poll_seconds: float = 1.0,
    ) -> None:
        self.service = service
        self.engine = engine
        self.clock = clock
        self.tz = tz
        self.poll_seconds = poll_seconds
        self.by_name: dict[str, Job] = {}
        for job in jobs:
            if job.name in self.by_name:
                raise ValueError(f"{service} has two jobs named {job.name!r}")
            self.by_name[job.name] = job
        self._scheduler_lock = zlib.crc32(f"job-scheduler:{service}".encode())
        self.active = False  # this process's scheduler holds the lock and runs due jobs
        self.wakes = 0  # scheduler wake-ups (tests wait on it)
        self.outage = Waiting(service, "jobs")
        self.observers: list[Callable[[RunOutcome], None]] = []  # each finished run (tests)
        self.role = "run"  # the process's role, for the metrics (ServiceRuntime.app sets it)

    def today(self) -> date:
        return business_date(self.clock.now(), self.tz)

    def job(self, name: str) -> Job:
        try:
            return self.by_name[name]
        except KeyError:
            known = ", ".join(sorted(self.by_name)) or "none"
            raise NotFound(f"{self.service} has no job named {name!r}; its jobs: {known}", field="job") from None

    def _lock_key(self, name: str) -> int:
        return zlib.crc32(f"job:{self.service}:{name}".encode())

    async def run(self, name: str, as_of: date, *, by: str = "schedule") -> RunOutcome:
        """Run `name` as of `as_of` unless that date already ran (then `ran` is False). Two
        callers at once, in any processes: one runs it, the other then finds it done."""
        job = self.job(name)
        key = self._lock_key(name)
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
            await conn.commit()
            try:
                return await self._run_locked(conn, job, as_of, by)
            finally:
                with contextlib.suppress(Exception):  # a lost connection has no lock left
                    await conn.rollback()
                    await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                    await conn.commit()

    async def _run_locked(self, conn: AsyncConnection, job: Job, as_of: date, by: str) -> RunOutcome:
        where = (JobRunRecord.job == job.name) & (JobRunRecord.as_of == as_of)
        row = (await conn.execute(select(JobRunRecord.__table__).where(where))).first()
        await conn.commit()
        now = self.clock.now()
        if row is not None and row.finished_at is not None and job.schedule.done(row.finished_at, now, self.tz):
            JOB_RUNS.labels(self.service, self.role, job.name, "already_ran").inc()
            return RunOutcome(job.name, as_of, False, row.result, row.started_at, row.finished_at, row.run_by)
        claim = {"started_at": now, "finished_at": None, "result": None, "run_by": by}
        await conn.execute(
            insert(JobRunRecord)
            .values(job=job.name, as_of=as_of, **claim)
            .on_conflict_do_update(index_elements=["job", "as_of"], set_=claim)
        )
        await conn.commit()
        began = perf_counter()
        try:
            result = job.run(as_of)
            if inspect.isawaitable(result):
                result = await result
            result = _jsonable(result)
        except Exception as exc:
            JOB_RUNS.labels(self.service, self.role, job.name, "failed").inc()
            JOB_DURATION.labels(self.service, self.role, job.name).set(perf_counter() - began)
            with contextlib.suppress(Exception):
                await conn.rollback()
                await conn.execute(update(JobRunRecord).where(where).values(result={"error": describe(exc)}))
                await conn.commit()
            raise
        took = perf_counter() - began
        finished = self.clock.now()
        await conn.execute(update(JobRunRecord).where(where).values(finished_at=finished, result=result))
        await conn.commit()
        JOB_RUNS.labels(self.service, self.role, job.name, "ran").inc()
        JOB_DURATION.labels(self.service, self.role, job.name).set(took)
        outcome = RunOutcome(job.name, as_of, True, result, now, finished, by)
        log.info("%s job %s ran as of %s: %s", self.service, job.name, as_of, result)
        for observe in self.observers:
            observe(outcome)
        return outcome

    async def last_runs(self) -> dict[str, Any]:
        """Each job's most recent run (by start)."""
        table = JobRunRecord.__table__
        found: dict[str, Any] = {}
        async with self.engine.connect() as conn:
            for name in self.by_name:
                query = select(table).where(table.c.job == name).order_by(table.c.started_at.desc()).limit(1)
                row = (await conn.execute(query)).first()
                if row is not None:
                    found[name] = row
        return found

    async def _finished_for(self, job: Job, as_of: date) -> datetime | None:
        async with self.engine.connect() as conn:
            return await conn.scalar(
                select(JobRunRecord.finished_at).where((JobRunRecord.job == job.name) & (JobRunRecord.as_of == as_of))
            )

    async def _pending(self, job: Job, now: datetime) -> tuple[datetime, date] | None:
        """The scheduled instant and date that is due and has not run, if any."""
        due = job.schedule.latest(now, self.tz)
        as_of = business_date(due, self.tz)
        finished = await self._finished_for(job, as_of)
        if finished is not None and job.schedule.done(finished, now, self.tz):
            return None
        return due, as_of

    async def listing(self) -> dict[str, Any]:
        now = self.clock.now()
        last = await self.last_runs()
        items = []
        for job in self.by_name.values():
            pending = await self._pending(job, now)
            next_run = pending[0] if pending else job.schedule.next_after(now, self.tz)
            row = last.get(job.name)
            items.append(
                {
                    "name": job.name,
                    "description": job.description,
                    "schedule": job.schedule.describe(self.tz),
                    "next_run": next_run.isoformat(),
                    "next_as_of": (pending[1] if pending else business_date(next_run, self.tz)).isoformat(),
                    "last_run": None if row is None else _row_answer(row),
                }
            )
        return {"now": now.isoformat(), "today": business_date(now, self.tz).isoformat(), "items": items}

    # -- the scheduler ---------------------------------------------------------------------
    async def run_due(self, failing: dict[str, tuple[float, Backoff]] | None = None) -> list[RunOutcome]:
        """Run every job that is due now and has not run for its date. A job that fails (its own
        fault) is logged and skipped until its backoff passes; an outage is raised to the caller."""
        failing = {} if failing is None else failing
        loop = asyncio.get_running_loop()
        outcomes = []
        for job in self.by_name.values():
            if job.name in failing and loop.time() < failing[job.name][0]:
                continue
            try:
                pending = await self._pending(job, self.clock.now())
                if pending is None:
                    continue
                outcomes.append(await self.run(job.name, pending[1]))
                failing.pop(job.name, None)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if classify(exc) is not Fault.MESSAGE:
                    raise
                backoff = failing[job.name][1] if job.name in failing else Backoff(initial=5.0, cap=300.0)
                wait = backoff.next()
                failing[job.name] = (loop.time() + wait, backoff)
                log.exception("%s job %s failed; it is tried again in %.0f s", self.service, job.name, wait)
        return outcomes

    async def scheduler(self) -> None:
        """Run due jobs until cancelled; only the holder of the service's scheduler lock does, so
        one runner at a time per service however many workers run."""
        failing: dict[str, tuple[float, Backoff]] = {}

        async def one_round(conn) -> float:
            await self.run_due(failing)
            await conn.execute(text("SELECT 1"))  # the lock's connection is still there
            await conn.commit()
            self.wakes += 1
            return self.poll_seconds

        await lead(
            self.engine,
            self._scheduler_lock,
            one_round,
            holder=self,
            outage=self.outage,
            backoff=Backoff(initial=0.5, cap=30.0),
            standby_seconds=self.poll_seconds * 5,
            what=f"job scheduler of {self.service}",
        )


def _row_answer(row: Any) -> dict[str, Any]:
    failed = row.finished_at is None and isinstance(row.result, dict) and "error" in row.result
    return {
        "as_of": row.as_of.isoformat(),
        "status": "finished" if row.finished_at else ("failed" if failed else "running"),
        "started_at": row.started_at.isoformat(),
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
        "result": row.result,
        "run_by": row.run_by,
    }


# -- the runtime's own job: outbox and inbox retention ---------------------------------------
@dataclass
class Purge:
    """Published outbox rows and inbox rows that were past their retention when the date began
    go, and Idempotency-Keys older than 24 h (where the service keeps them); an unpublished event
    is never dropped, however old. Run again for the same date, it finds nothing more to drop."""

    sessions: async_sessionmaker[AsyncSession]
    tz: tzinfo
    outbox_retention: timedelta = timedelta(hours=72)
    inbox_retention: timedelta = timedelta(days=14)

    async def __call__(self, as_of: date) -> dict[str, Any]:
        return await self.before(start_of(as_of, self.tz))

    async def before(self, reference: datetime) -> dict[str, Any]:
        outbox_cutoff = reference - self.outbox_retention
        inbox_cutoff = reference - self.inbox_retention
        async with self.sessions() as session, session.begin():
            out = await session.execute(delete(OutboxRecord).where(OutboxRecord.published_at < outbox_cutoff))
            inbox = await session.execute(delete(InboxRecord).where(InboxRecord.processed_at < inbox_cutoff))
            keys = await purge_expired_keys(session, reference)  # Idempotency-Keys after 24 h
        return {
            "outbox_deleted": out.rowcount,
            "inbox_deleted": inbox.rowcount,
            "idempotency_keys_deleted": keys,
            "outbox_published_before": outbox_cutoff.isoformat(),
            "inbox_processed_before": inbox_cutoff.isoformat(),
        }


def purge_job(rt: ServiceRuntime) -> Job:
    settings = rt.settings
    purge = Purge(
        rt.sessions,
        settings.timezone,
        outbox_retention=timedelta(hours=settings.outbox_retention_hours),
        inbox_retention=timedelta(hours=settings.inbox_retention_hours),
    )
    return Job(
        "purge",
        Daily(settings.purge_at),
        purge,
        description=f"drops published outbox rows older than {settings.outbox_retention_hours:g} h and inbox "
        f"rows older than {settings.inbox_retention_hours:g} h (OUTBOX_RETENTION_HOURS, INBOX_RETENTION_HOURS)",
    )
