"""Scheduled jobs and the test clock, on real PostgreSQL (and Kafka where a worker runs): a job
runs once per date, also when two OS processes ask at once; every job of every service runs on
demand through `POST /v1/admin/jobs/{job}/run`; moving the test clock past a job's next run makes
the scheduler run it by itself, once; the test clock exists only with PORTAL_TEST_CLOCK=1 and
never in production; the api and worker processes of one service read the same moved time."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import select, text

from billing.bootstrap import definition as billing
from catalog.bootstrap import definition as catalog
from notify.bootstrap import definition as notify
from orders.bootstrap import definition as orders
from portal_runtime.clock import FrozenClock, SystemClock
from portal_runtime.db import make_engine
from portal_runtime.jobs import Daily, Every, Job, JobRunRecord, Jobs
from portal_runtime.settings import ServiceSettings
from portal_runtime.testing import TEST_SECRET, bearer, eventually, running_service
from portal_stack._proc import free_port, spawn, tail
from returns.bootstrap import definition as returns

ADMIN = bearer("ops", "admin")
CUSTOMER = bearer("acme", "customer")
HERE = Path(__file__).parent
DEFINITIONS = [catalog, orders, returns, billing, notify]


# -- once per date -----------------------------------------------------------------------------
async def test_a_job_run_twice_for_one_date_does_nothing_the_second_time(migrated_database):
    engine = make_engine(await migrated_database(catalog()))
    effects: list[date] = []

    async def count(as_of: date) -> dict:
        effects.append(as_of)
        return {"counted": len(effects)}

    clock = FrozenClock(datetime(2027, 1, 31, 9, 0, tzinfo=UTC))
    jobs = Jobs(service="catalog", engine=engine, clock=clock, tz=UTC, jobs=[Job("count", Daily(time(3)), count)])
    try:
        first = await jobs.run("count", date(2027, 1, 31))
        second = await jobs.run("count", date(2027, 1, 31))
        assert (first.ran, second.ran) == (True, False)
        assert second.result == first.result == {"counted": 1}  # the second answers what the first did
        assert effects == [date(2027, 1, 31)]
        assert (await jobs.run("count", date(2027, 1, 30))).ran  # another date is another run
        assert effects == [date(2027, 1, 31), date(2027, 1, 30)]
        async with engine.connect() as conn:
            rows = (await conn.execute(select(JobRunRecord.as_of, JobRunRecord.finished_at))).all()
        assert sorted(r.as_of for r in rows) == [date(2027, 1, 30), date(2027, 1, 31)]
        assert all(r.finished_at == clock.now() for r in rows)
    finally:
        await engine.dispose()


async def test_a_failed_run_is_recorded_and_runs_again(migrated_database):
    engine = make_engine(await migrated_database(catalog()))
    tries: list[date] = []

    async def flaky(as_of: date) -> dict:
        tries.append(as_of)
        if len(tries) == 1:
            raise RuntimeError("the first try fails")
        return {"tries": len(tries)}

    jobs = Jobs(service="catalog", engine=engine, clock=SystemClock(), tz=UTC, jobs=[Job("flaky", Daily(), flaky)])
    try:
        with pytest.raises(RuntimeError):
            await jobs.run("flaky", date(2027, 1, 31))
        last = (await jobs.listing())["items"][0]["last_run"]
        assert last["status"] == "failed" and "the first try fails" in last["result"]["error"]
        assert (await jobs.run("flaky", date(2027, 1, 31))).result == {"tries": 2}
        assert not (await jobs.run("flaky", date(2027, 1, 31))).ran
    finally:
        await engine.dispose()


async def test_the_scheduler_waits_out_a_database_that_is_away():
    engine = make_engine(f"postgresql+asyncpg://nobody@127.0.0.1:{free_port()}/none")
    jobs = Jobs(service="catalog", engine=engine, clock=SystemClock(), tz=UTC, jobs=[], poll_seconds=0.05)
    task = asyncio.create_task(jobs.scheduler())
    try:
        await eventually(lambda: jobs.outage.waits >= 2, what="the scheduler to meet the outage twice")
        assert jobs.outage.waiting and not task.done()  # waiting, not crashed
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await engine.dispose()


def test_schedules_in_the_business_time_zone():
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    daily = Daily(time(9, 0))
    now = datetime(2027, 1, 31, 7, 30, tzinfo=UTC)  # 08:30 in Berlin: today's 09:00 has not come
    assert daily.latest(now, berlin) == datetime(2027, 1, 30, 8, 0, tzinfo=UTC)
    assert daily.next_after(now, berlin) == datetime(2027, 1, 31, 8, 0, tzinfo=UTC)
    late = datetime(2027, 1, 31, 23, 30, tzinfo=UTC)  # already 1 February in Berlin
    assert daily.latest(late, berlin) == datetime(2027, 2, 1, 8, 0, tzinfo=UTC) - timedelta(days=1)
    every = Every(minutes=15)
    assert every.latest(datetime(2027, 1, 31, 9, 7, tzinfo=UTC), UTC) == datetime(2027, 1, 31, 9, 0, tzinfo=UTC)
    assert every.next_after(datetime(2027, 1, 31, 9, 7, tzinfo=UTC), UTC) == datetime(2027, 1, 31, 9, 15, tzinfo=UTC)
    assert every.done(datetime(2027, 1, 31, 9, 1, tzinfo=UTC), datetime(2027, 1, 31, 9, 7, tzinfo=UTC), UTC)
    assert not every.done(datetime(2027, 1, 31, 8, 59, tzinfo=UTC), datetime(2027, 1, 31, 9, 7, tzinfo=UTC), UTC)


async def test_two_processes_at_once_run_a_job_once(migrated_database):
    url = await migrated_database(catalog())
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE job_effects (as_of date PRIMARY KEY, n int NOT NULL)"))
        await conn.execute(text("INSERT INTO job_effects VALUES ('2027-01-31', 0)"))
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            str(HERE / "job_process.py"),
            url,
            "2027-01-31",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]
    try:
        for proc in procs:  # both connected before either may start
            line = await asyncio.wait_for(proc.stdout.readline(), 60)
            assert line.strip() == b"ready", (line, await proc.stderr.read())
        for proc in procs:
            proc.stdin.write(b"go\n")
            await proc.stdin.drain()
        outcomes = []
        for proc in procs:
            out, err = await asyncio.wait_for(proc.communicate(), 60)
            assert proc.returncode == 0, err.decode()
            outcomes.append(json.loads(out.decode().strip().splitlines()[-1]))
        assert sorted(o["run_status"] for o in outcomes) == ["already ran", "ran"]
        assert [o["result"] for o in outcomes] == [{"counted": "2027-01-31"}] * 2
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT n FROM job_effects")) == 1
            assert await conn.scalar(text("SELECT count(*) FROM job_runs")) == 1
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        await engine.dispose()


# -- on demand, on every service ---------------------------------------------------------------
@pytest.mark.parametrize("make", DEFINITIONS, ids=lambda make: make.__module__.split(".")[0])
async def test_every_job_of_every_service_runs_on_demand(make, new_database, kafka):
    definition = make()
    async with running_service(
        definition, database_url=await new_database(definition.name), kafka=kafka, consume=False, relay=False
    ) as (rt, http):
        listed = await http.get("/v1/admin/jobs", headers=ADMIN)
        assert listed.status_code == 200, listed.text
        today = listed.json()["today"]
        items = listed.json()["items"]
        assert "purge" in [job["name"] for job in items]
        for job in items:
            assert job["schedule"] and job["next_run"] and job["last_run"] is None
            path = f"/v1/admin/jobs/{job['name']}/run"
            ran = await http.post(path, json={"as_of": today}, headers=ADMIN)
            assert ran.status_code == 200, ran.text
            assert ran.json()["run_status"] == "ran" and ran.json()["as_of"] == today
            assert isinstance(ran.json()["result"], dict)
            again = await http.post(path, json={"as_of": today}, headers=ADMIN)
            assert again.status_code == 409, again.text
            assert "already ran" in again.json()["detail"] and again.json()["result"] == ran.json()["result"]
            assert (await http.post(path, json={"as_of": today}, headers=CUSTOMER)).status_code == 403
        after = {job["name"]: job for job in (await http.get("/v1/admin/jobs", headers=ADMIN)).json()["items"]}
        assert after["purge"]["last_run"]["as_of"] == today and after["purge"]["last_run"]["run_by"] == "admin:ops"
        unknown = await http.post("/v1/admin/jobs/no-such-job/run", json={"as_of": today}, headers=ADMIN)
        assert unknown.status_code == 404 and "no-such-job" in unknown.json()["detail"]
        assert "purge" in unknown.json()["detail"]  # it names the jobs there are
        for bad in ("2027-02-30", "31.01.2027", "yesterday", 20270131):
            answer = await http.post("/v1/admin/jobs/purge/run", json={"as_of": bad}, headers=ADMIN)
            assert answer.status_code == 422 and answer.json()["field"] == "as_of", (bad, answer.text)
        tomorrow = (date.fromisoformat(today) + timedelta(days=1)).isoformat()
        future = await http.post("/v1/admin/jobs/purge/run", json={"as_of": tomorrow}, headers=ADMIN)
        assert future.status_code == 422 and "has not come yet" in future.json()["detail"]


# -- the scheduler and the test clock ----------------------------------------------------------
async def test_with_the_test_clock_moved_past_its_next_run_a_job_runs_by_itself_once(new_database, kafka):
    runs: list[date] = []

    async def tick(as_of: date) -> dict:
        runs.append(as_of)
        return {"ticked": as_of.isoformat()}

    definition = dataclasses.replace(catalog(), jobs=[lambda rt: Job("tick", Daily(time(9, 0)), tick)])
    base = FrozenClock(datetime(2027, 1, 30, 10, 0, tzinfo=UTC))  # today's 09:00 has passed
    async with running_service(
        definition,
        database_url=await new_database("catalog"),
        kafka=kafka,
        clock=base,
        relay=False,
        portal_test_clock=True,
        test_clock_refresh_seconds=0.1,
        job_poll_seconds=0.05,
    ) as (rt, http):
        await eventually(lambda: runs == [date(2027, 1, 30)], what="the run due at start (30 January)")
        listed = {j["name"]: j for j in (await http.get("/v1/admin/jobs", headers=ADMIN)).json()["items"]}
        assert listed["tick"]["next_run"] == "2027-01-31T09:00:00+00:00"
        assert listed["tick"]["last_run"]["run_by"] == "schedule"

        moved = await http.put("/v1/admin/clock", json={"now": "2027-01-31T09:00:01Z"}, headers=ADMIN)
        assert moved.status_code == 200, moved.text
        assert moved.json()["now"] == "2027-01-31T09:00:01+00:00" and moved.json()["today"] == "2027-01-31"
        await eventually(lambda: len(runs) == 2, what="the run due on 31 January")
        assert runs == [date(2027, 1, 30), date(2027, 1, 31)]
        wakes = rt.jobs.wakes
        await eventually(lambda: rt.jobs.wakes >= wakes + 10, what="ten more wake-ups of the scheduler")
        assert runs == [date(2027, 1, 30), date(2027, 1, 31)]  # once: later wake-ups found it done
        async with rt.engine.connect() as conn:
            started = await conn.scalar(
                select(JobRunRecord.started_at).where(
                    JobRunRecord.job == "tick", JobRunRecord.as_of == date(2027, 1, 31)
                )
            )
        assert started == datetime(2027, 1, 31, 9, 0, 1, tzinfo=UTC)  # the job's own timestamps moved too
        shown = (await http.get("/v1/admin/clock", headers=ADMIN)).json()
        assert shown["now"] == "2027-01-31T09:00:01+00:00" and shown["timezone"] == "UTC"
        assert rt.outbox.clock.now() == rt.clock.now()  # what the service stamps reads the same time
        bad = await http.put("/v1/admin/clock", json={"now": "2027-01-31T09:00:00"}, headers=ADMIN)
        assert bad.status_code == 422 and bad.json()["field"] == "now"
        refused = await http.put("/v1/admin/clock", json={"now": "2027-02-01T00:00:00Z"}, headers=CUSTOMER)
        assert refused.status_code == 403
        back = await http.delete("/v1/admin/clock", headers=ADMIN)
        assert back.status_code == 200 and back.json()["now"] == "2027-01-30T10:00:00+00:00"


async def test_a_failing_job_never_stops_the_scheduler_and_answers_what_failed(new_database, kafka):
    async def boom(as_of: date) -> dict:
        raise RuntimeError(f"boom as of {as_of}")

    definition = dataclasses.replace(catalog(), jobs=[lambda rt: Job("boom", Daily(), boom)])
    async with running_service(
        definition, database_url=await new_database("catalog"), kafka=kafka, relay=False, job_poll_seconds=0.05
    ) as (rt, http):

        async def last_runs() -> dict:
            items = (await http.get("/v1/admin/jobs", headers=ADMIN)).json()["items"]
            return {job["name"]: (job["last_run"] or {}).get("status") for job in items}

        await eventually(
            lambda: _equals(last_runs(), {"boom": "failed", "purge": "finished"}), what="boom failed, purge ran"
        )
        wakes = rt.jobs.wakes
        await eventually(lambda: rt.jobs.wakes >= wakes + 5, what="the scheduler to go on waking")
        failed = await http.post("/v1/admin/jobs/boom/run", json={}, headers=ADMIN)
        assert failed.status_code == 500
        assert "boom failed as of" in failed.json()["detail"] and "RuntimeError: boom" in failed.json()["detail"]


async def _equals(answer, expected):
    return (await answer) == expected


async def test_the_test_clock_is_refused_without_the_setting_and_in_production(new_database, kafka):
    async with running_service(
        catalog(), database_url=await new_database("catalog"), kafka=kafka, consume=False, relay=False
    ) as (rt, http):
        assert rt.test_clock is None
        for answer in (
            await http.get("/v1/admin/clock", headers=ADMIN),
            await http.put("/v1/admin/clock", json={"now": "2027-01-31T09:00:00Z"}, headers=ADMIN),
            await http.delete("/v1/admin/clock", headers=ADMIN),
        ):
            assert answer.status_code == 404 and "PORTAL_TEST_CLOCK=1" in answer.json()["detail"]
        assert abs(rt.clock.now() - datetime.now(UTC)) < timedelta(minutes=1)

    with pytest.raises(ValidationError, match="PORTAL_TEST_CLOCK=1 is refused when PORTAL_ENV=production"):
        ServiceSettings(
            service_name="catalog", database_url="x", jwt_secret="y", portal_test_clock=True, portal_env="production"
        )
    env = {
        **os.environ,
        "DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/none",
        "JWT_SECRET": TEST_SECRET,
        "PORTAL_TEST_CLOCK": "1",
        "PORTAL_ENV": "production",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "catalog", "api", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2
    assert "catalog cannot run" in err.decode() and "refused when PORTAL_ENV=production" in err.decode()


async def test_api_and_worker_processes_of_one_service_agree_on_the_moved_time(migrated_database, kafka, tmp_path):
    url = await migrated_database(catalog())
    env = {
        **os.environ,
        "SERVICE_NAME": "catalog",
        "DATABASE_URL": url,
        "KAFKA_BOOTSTRAP_SERVERS": kafka,
        "JWT_SECRET": TEST_SECRET,
        "HTTP_HOST": "127.0.0.1",
        "PORTAL_TEST_CLOCK": "1",
        "TEST_CLOCK_REFRESH_SECONDS": "0.2",
        "JOB_POLL_SECONDS": "0.2",
        "LOG_LEVEL": "WARNING",
    }
    procs = {}
    for role in ("api", "worker"):
        port = free_port()
        procs[role] = (
            spawn(
                [sys.executable, "-m", "catalog", role],
                log_path=tmp_path / f"{role}.log",
                env={**env, "HTTP_PORT": str(port)},
            ),
            f"http://127.0.0.1:{port}",
        )
    try:
        async with httpx.AsyncClient(timeout=10, trust_env=False) as http:

            async def live(role: str) -> bool:
                proc, base = procs[role]
                assert proc.poll() is None, f"catalog {role} exited:\n{tail(tmp_path / f'{role}.log')}"
                try:
                    return (await http.get(f"{base}/health/live")).status_code == 200
                except httpx.HTTPError:
                    return False

            async def clock(role: str) -> dict:
                return (await http.get(f"{procs[role][1]}/v1/admin/clock", headers=ADMIN)).json()

            async def purge_run(as_of: str):
                jobs = (await http.get(f"{procs['api'][1]}/v1/admin/jobs", headers=ADMIN)).json()["items"]
                last = next(j for j in jobs if j["name"] == "purge")["last_run"]
                return last if last and last["as_of"] == as_of and last["status"] == "finished" else None

            for role in procs:
                await eventually(lambda role=role: live(role), timeout=60, what=f"catalog {role} to be live")
            moved = await http.put(
                f"{procs['api'][1]}/v1/admin/clock", json={"now": "2027-01-31T09:00:00Z"}, headers=ADMIN
            )
            assert moved.status_code == 200, moved.text
            seen = await eventually(
                lambda: _on(clock("worker"), "2027-01-31"), what="the worker to read the time the api moved"
            )
            api = await clock("api")
            gap = datetime.fromisoformat(api["now"]) - datetime.fromisoformat(seen["now"])
            assert abs(gap) < timedelta(seconds=30), (api, seen)
            # The worker's scheduler ran the day's purge on the moved date, stamped with the moved time.
            run = await eventually(lambda: purge_run("2027-01-31"), what="the worker to run purge as of 31 January")
            assert run["run_by"] == "schedule" and run["started_at"].startswith("2027-01-31T09:")
    finally:
        for proc, _ in procs.values():
            proc.terminate()
        for proc, _ in procs.values():
            await asyncio.to_thread(proc.wait, 30)


async def _on(answer, day: str):
    got = await answer
    return got if got.get("today") == day else None


async def test_portal_clock_set_moves_every_running_service(new_database, kafka):
    async with running_service(
        catalog(),
        database_url=await new_database("catalog"),
        kafka=kafka,
        consume=False,
        relay=False,
        portal_test_clock=True,
    ) as (rt, http):
        port = http.base_url.port
        nobody = free_port()  # the other four services are not running here
        env = {
            **os.environ,
            "PORTAL_JWT_SECRET": TEST_SECRET,
            **{f"PORTAL_{s.upper()}_HTTP_PORT": str(nobody) for s in ("orders", "returns", "billing", "notify")},
            "PORTAL_CATALOG_HTTP_PORT": str(port),
        }

        async def portal(*args: str) -> tuple[int, str]:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "portal_stack.cli", *args, env=env, stdout=asyncio.subprocess.PIPE
            )
            out, _ = await asyncio.wait_for(proc.communicate(), 60)
            return proc.returncode, out.decode()

        code, out = await portal("clock", "set", "2027-01-31T09:00:00Z")
        assert code == 1, out  # four services cannot be reached: it says so and fails
        lines = {line.split()[0]: line for line in out.splitlines() if line.strip()}
        assert lines["catalog"].split()[1].startswith("2027-01-31T09:00"), out
        assert "not reachable" in lines["orders"], out
        assert rt.clock.now().date() == date(2027, 1, 31)
        code, out = await portal("clock", "show")
        assert "2027-01-31" in next(line for line in out.splitlines() if line.startswith("catalog")), out


async def test_a_refresh_read_begun_before_a_move_does_not_set_the_old_time_back(migrated_database):
    """The clock's refresh reads the shared offset; a read that saw the table before this process moved
    the clock, and returns after the move, must not set the old offset back (it did, for up to a
    refresh: a token issued at the previous time was expired when used). The read is held until the
    move is done."""
    from portal_runtime.testclock import SharedTestClock

    engine = make_engine(await migrated_database(catalog()))
    read, release = asyncio.Event(), asyncio.Event()

    class HeldRead:
        """The engine, whose next read of the clock's row waits (after reading) until released."""

        def begin(self):
            return engine.begin()

        @contextlib.asynccontextmanager
        async def connect(self):
            async with engine.connect() as conn:
                yield self._held(conn)

        @staticmethod
        def _held(conn):
            class Held:
                async def execute(self, statement):
                    result = await conn.execute(statement)
                    read.set()
                    await release.wait()
                    return result

            return Held()

    clock = SharedTestClock(SystemClock(), engine, "catalog", refresh_seconds=60)
    try:
        await clock.move_to(datetime(2027, 1, 31, 9, 0, tzinfo=UTC))
        clock.engine = HeldRead()
        refresh = asyncio.create_task(clock.load())
        await asyncio.wait_for(read.wait(), 10)  # it read the row of 31 January
        clock.engine = engine
        await clock.move_to(datetime(2027, 3, 1, 9, 0, tzinfo=UTC))
        release.set()
        await refresh
        assert clock.now().date() == date(2027, 3, 1), clock.now()
        await clock.load()  # a read begun after the move takes it
        assert clock.now().date() == date(2027, 3, 1), clock.now()
    finally:
        await engine.dispose()
