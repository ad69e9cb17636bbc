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
from typing import TYPE_CHECKING, Any

from litestar import Request, Response, delete, get, post, put
from litestar.params import FromPath, JSONBody

from portal_runtime.auth import admin_only
from portal_runtime.clock import business_date
from portal_runtime.errors import InvalidInput, NotFound
from portal_runtime.faults import Fault, classify, describe
from portal_runtime.jobs import AlreadyRan
from portal_runtime.problems import problem

if TYPE_CHECKING:
    from portal_runtime.service import ServiceRuntime

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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

    def clock_answer() -> dict[str, Any]:
        clock = clock_on()
        now = clock.now()
        return {
            "now": now.isoformat(),
            "today": business_date(now, rt.settings.timezone).isoformat(),
            "timezone": rt.settings.business_timezone,
            "offset_seconds": clock.offset.total_seconds(),
            "moved_at": clock.set_at.isoformat() if clock.set_at else None,
        }

    @get("/v1/admin/jobs", guards=[admin_only], tags=["admin"], summary="Scheduled jobs, next and last runs (admin)")
    async def list_jobs() -> dict[str, Any]:
        return await rt.jobs.listing()

    @post(
        "/v1/admin/jobs/{job:str}/run",
        guards=[admin_only],
        tags=["admin"],
        status_code=200,
        summary="Run a job as of a date (admin); 409 when that date already ran",
    )
    async def run_job(request: Request, job: FromPath[str], data: JSONBody[Any] = None) -> Response[dict[str, Any]]:
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
        return Response(outcome.answer(), status_code=200)

    @get("/v1/admin/clock", guards=[admin_only], tags=["admin"], summary="The test clock's time (admin)")
    async def show_clock() -> dict[str, Any]:
        return clock_answer()

    @put("/v1/admin/clock", guards=[admin_only], tags=["admin"], summary="Move the test clock (admin)")
    async def move_clock(data: JSONBody[Any] = None) -> dict[str, Any]:
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

    @delete(
        "/v1/admin/clock", guards=[admin_only], tags=["admin"], status_code=200, summary="Back to the real time (admin)"
    )
    async def reset_clock() -> dict[str, Any]:
        await clock_on().reset()
        return clock_answer()

    return [list_jobs, run_job, show_clock, move_clock, reset_clock]
