"""Admin endpoints every service has (admins only):

- `GET /v1/admin/jobs`: its scheduled jobs with their schedule, next run and last run;
- `POST /v1/admin/jobs/{job}/run {"as_of": "YYYY-MM-DD"}`: run one as of a date (default today);
  answers what it did, 409 when that date already ran, 404 naming an unknown job, 422 for a
  date that is malformed or has not come yet;
- `GET | PUT | DELETE /v1/admin/clock`: the test clock (`portal_runtime.testclock`), only when
  PORTAL_TEST_CLOCK=1; 404 otherwise. `PUT {"now": "2027-01-31T09:00:00Z"}` moves the service's
  time there (it runs on from there); `DELETE` goes back to the real time."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.params import FromPath, JSONBody
from pydantic import BaseModel, ConfigDict, Field

from portal_runtime.auth import admin_only
from portal_runtime.clock import business_date
from portal_runtime.errors import InvalidInput, NotFound
from portal_runtime.faults import Fault, classify, describe
from portal_runtime.jobs import AlreadyRan
from portal_runtime.openapi import problems
from portal_runtime.problems import problem

if TYPE_CHECKING:
    from portal_runtime.service import ServiceRuntime

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Every service has these at the same paths, each about its own jobs and clock: the gateway's
# document leaves them out (portal_runtime.openapi), they are reached at each service's address.
PER_SERVICE = {"per_service": True}
CLOCK_OFF = {404: "The service runs without a test clock (PORTAL_TEST_CLOCK is not 1)"}


# Times and dates are answered as ISO 8601 text (`2027-01-31T09:00:00+00:00`, `2027-01-31`).
Time = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
Day = Annotated[str, Field(json_schema_extra={"format": "date"})]


class LastRunOut(BaseModel):
    as_of: Day
    status: Literal["finished", "failed", "running"]
    started_at: Time
    finished_at: Time | None
    result: dict[str, Any] | None
    run_by: str | None


class JobOut(BaseModel):
    name: str
    description: str
    schedule: str
    next_run: Time
    next_as_of: Day
    last_run: LastRunOut | None


class JobsOut(BaseModel):
    now: Time
    today: Day
    items: list[JobOut]


class JobRunOut(BaseModel):
    job: str
    as_of: Day
    run_status: Literal["ran"]
    result: dict[str, Any] | None
    started_at: Time
    finished_at: Time | None
    run_by: str


class RunJobIn(BaseModel):
    """The body of a run (it may be left out): `as_of`, today or an earlier date."""

    model_config = ConfigDict(extra="forbid")
    as_of: Day | None = None


class ClockIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    now: Annotated[str, Field(json_schema_extra={"format": "date-time"}, description="with its offset")]


class ClockOut(BaseModel):
    now: Time
    today: Day
    timezone: str
    offset_seconds: float
    moved_at: Time | None


def _fields(data: Any, allowed: set[str]) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InvalidInput("the body must be a JSON object")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise InvalidInput(f"unknown field {unknown[0]!r}; expected {', '.join(sorted(allowed))}", field=unknown[0])
    return data


def _as_of(value: Any, today: date) -> date:
    if value is None:
        return today
    if not isinstance(value, str) or not _DATE.match(value):
        raise InvalidInput(f"as_of must be a date YYYY-MM-DD, not {value!r}", field="as_of")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"as_of {value!r} is not a calendar date", field="as_of") from None
    if day > today:
        raise InvalidInput(
            f"as_of {value} has not come yet (today is {today.isoformat()}); a job runs as of today or an "
            "earlier date (move the test clock to run it later)",
            field="as_of",
        )
    return day


def admin_routes(rt: ServiceRuntime) -> list:
    def clock_on() -> Any:
        if rt.test_clock is None:
            raise NotFound(
                f"{rt.definition.name} has no test clock: it is on only when the service runs with "
                "PORTAL_TEST_CLOCK=1 (never with PORTAL_ENV=production)"
            )
        return rt.test_clock

    def clock_answer() -> ClockOut:
        clock = clock_on()
        now = clock.now()
        return ClockOut(
            now=now.isoformat(),
            today=business_date(now, rt.settings.timezone).isoformat(),
            timezone=rt.settings.business_timezone,
            offset_seconds=clock.offset.total_seconds(),
            moved_at=clock.set_at.isoformat() if clock.set_at else None,
        )

    @get(
        "/v1/admin/jobs",
        guards=[admin_only],
        tags=["admin"],
        opt=PER_SERVICE,
        summary="Scheduled jobs, next and last runs (admin)",
    )
    async def list_jobs() -> JobsOut:
        return JobsOut.model_validate(await rt.jobs.listing())

    @post(
        "/v1/admin/jobs/{job:str}/run",
        guards=[admin_only],
        tags=["admin"],
        status_code=200,
        opt={**PER_SERVICE, "body": RunJobIn},
        summary="Run a job as of a date (admin); 409 when that date already ran",
        responses=problems(
            {
                404: "No job of that name (`field`: job)",
                409: "The job already ran for that date; nothing was done",
                422: "`as_of` is not a date YYYY-MM-DD, or has not come yet",
                500: "The job failed (`job-failed`); it can be run again",
            }
        ),
    )
    async def run_job(request: Request, job: FromPath[str], data: JSONBody[Any] = None) -> Response[JobRunOut]:
        rt.jobs.job(job)  # 404 naming an unknown job, before the body is looked at
        body = _fields(data, {"as_of"})
        as_of = _as_of(body.get("as_of"), rt.jobs.today())
        try:
            outcome = await rt.jobs.run(job, as_of, by=f"admin:{request.user.account_id}")
        except Exception as exc:
            if classify(exc) is not Fault.MESSAGE:
                raise  # the database is away: the usual answer of an outage
            raise problem(
                500,
                f"{job} failed as of {as_of.isoformat()}: {describe(exc)}; it can be run again",
                kind="job-failed",
                job=job,
                as_of=as_of.isoformat(),
            ) from exc
        if not outcome.ran:
            raise AlreadyRan(outcome)
        return Response(JobRunOut.model_validate(outcome.answer()), status_code=200)

    class ClockController(Controller):
        """The test clock: read it, move it, set it back to the real time."""

        path = "/v1/admin/clock"
        guards = [admin_only]
        tags = ["admin"]
        opt = PER_SERVICE

        @get("/", summary="The test clock's time (admin)", responses=problems(CLOCK_OFF))
        async def show_clock(self) -> ClockOut:
            return clock_answer()

        @put("/", opt={"body": ClockIn}, summary="Move the test clock (admin)", responses=problems(CLOCK_OFF))
        async def move_clock(self, data: JSONBody[Any] = None) -> ClockOut:
            clock = clock_on()
            body = _fields(data, {"now"})
            raw = body.get("now")
            try:
                now = datetime.fromisoformat(raw) if isinstance(raw, str) else None
            except ValueError:
                now = None
            if now is None or now.tzinfo is None:
                raise InvalidInput(
                    f"now must be a time with its offset, e.g. 2027-01-31T09:00:00Z, not {raw!r}", field="now"
                )
            await clock.move_to(now)
            return clock_answer()

        @delete("/", status_code=200, summary="Back to the real time (admin)", responses=problems(CLOCK_OFF))
        async def reset_clock(self) -> ClockOut:
            await clock_on().reset()
            return clock_answer()

    return [list_jobs, run_job, ClockController]
