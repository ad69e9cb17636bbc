"""What `curl /metrics` shows of each metric of the production issue (item 4) during one seller
flow on real Kafka, PostgreSQL and SMTP: each service's `/metrics` scraped before and after,
parsed with prometheus_client's parser. And the Grafana dashboard (`deploy/grafana/`) charts only
metrics the runtime defines, every one of them, through its Prometheus datasource variable.

Duplicates, retries and dead letters are driven one each in `runtime/tests/test_metrics.py`,
where the consumer's input is the test's; the flow has none of them."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from flow import ADMIN, approved_and_paid_in_two_parts, running_portal
from litestar import get
from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families

import portal_runtime.metrics  # noqa: F401  (its metrics are what the dashboard may name)
from portal_runtime.auth import jwt_auth_from
from portal_runtime.settings import ServiceSettings
from portal_runtime.testing import TEST_SECRET, bearer, eventually
from portal_runtime.web import create_app

DASHBOARD = Path(__file__).resolve().parents[1] / "deploy" / "grafana" / "portal-dashboard.json"
Samples = list[tuple[str, dict[str, str], float]]


async def scrape(client: httpx.AsyncClient) -> Samples:
    answer = await client.get("/metrics")
    assert answer.status_code == 200, answer.text
    return [(s.name, s.labels, s.value) for f in text_string_to_metric_families(answer.text) for s in f.samples]


def values(samples: Samples, name: str, **labels: str) -> list[float]:
    return [v for n, ls, v in samples if n == name and labels.items() <= ls.items()]


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return sum(values(after, name, **labels)) - sum(values(before, name, **labels))


async def test_each_metric_moves_during_the_seller_flow(infra, new_database, kafka):
    async with running_portal(infra, new_database, kafka, test_clock=True) as portal:
        services = list(portal.runtimes)
        consuming = [name for name, rt in portal.runtimes.items() if rt.consumer.handlers]
        before = {name: await scrape(portal.http[name]) for name in services}

        approved = await approved_and_paid_in_two_parts(portal, "en")
        await eventually(portal.settled, what="the system to settle after the flow", timeout=60)
        # A date the scheduler's first round did not run (it runs the latest due: today or yesterday).
        as_of = (datetime.now(UTC).date() - timedelta(days=2)).isoformat()
        for name in services:
            ran = await portal.http[name].post("/v1/admin/jobs/purge/run", headers=ADMIN, json={"as_of": as_of})
            assert ran.status_code == 200, ran.text
            again = await portal.http[name].post("/v1/admin/jobs/purge/run", headers=ADMIN, json={"as_of": as_of})
            assert again.status_code == 409, again.text

        async def quiet(name: str) -> Samples | None:
            """Its backlog 0 with no age, and (a consumer) lag 0 on every partition it has."""
            now = await scrape(portal.http[name])
            outbox = values(now, "portal_outbox_backlog", service=name) + values(
                now, "portal_outbox_oldest_age_seconds", service=name
            )
            lag = values(now, "portal_consumer_lag", service=name)
            caught_up = (lag and set(lag) == {0}) if name in consuming else not lag
            return now if outbox == [0, 0] and caught_up else None

        after = {
            name: await eventually(lambda n=name: quiet(n), what=f"{name}'s backlog and lag at 0") for name in services
        }

    figures = [
        ("HTTP requests", "portal_requests_total", {}),
        ("events applied", "portal_consumer_events_total", {"outcome": "applied"}),
        ("rows relayed", "portal_relay_published_total", {}),
        ("emails sent", "portal_emails_total", {"outcome": "sent"}),
    ]
    for name in services:  # what `curl /metrics` showed move, printed for the record (-s)
        moves = [(what, moved(before[name], after[name], metric, service=name, **ls)) for what, metric, ls in figures]
        print(f"{name}: {', '.join(f'{what} +{n:g}' for what, n in moves if n)}; backlog 0, oldest age 0 s, lag 0")
    for name in services:
        b, a = before[name], after[name]
        assert moved(b, a, "portal_requests_total", service=name, role="run") > 0, name
        assert moved(b, a, "portal_request_duration_seconds_count", service=name, role="run") > 0, name
        assert moved(b, a, "portal_relay_published_total", service=name, role="run") > 0, name
        assert moved(b, a, "faststream_published_messages_total", app_name=name) > 0, name
        runs = {
            o: moved(b, a, "portal_job_runs_total", service=name, job="purge", outcome=o)
            for o in ("ran", "already_ran", "failed")
        }
        assert runs == {"ran": 1, "already_ran": 1, "failed": 0}, (name, runs)
        assert values(a, "portal_job_last_run_duration_seconds", service=name, job="purge"), name
    for name in consuming:
        if set(portal.runtimes[name].consumer.topics()) <= {"orders.users"}:
            continue  # it reads only users' access changes (catalog): the seller flow makes none
        applied = moved(before[name], after[name], "portal_consumer_events_total", service=name, outcome="applied")
        assert applied > 0, name
        # FastStream's own counters of the same messages (its Prometheus middleware)
        received = moved(before[name], after[name], "faststream_received_messages_total", app_name=name)
        acked = moved(
            before[name], after[name], "faststream_received_processed_messages_total", app_name=name, status="acked"
        )
        assert received >= applied and acked >= applied, (name, received, acked, applied)
    assert set(consuming) >= {"orders", "billing", "notify"}, consuming
    # the seller's seven emails at least (notify may also mail the business)
    assert moved(before["notify"], after["notify"], "portal_emails_total", service="notify", outcome="sent") >= 7
    assert moved(before["notify"], after["notify"], "portal_emails_total", service="notify", outcome="given_up") == 0
    assert approved.invoice["status"] == "issued"


# -- the Grafana dashboard -------------------------------------------------------------------------
@get("/v1/ping", sync_to_thread=False)
def ping() -> dict[str, str]:
    return {"pong": "yes"}


@get("/v1/fail", sync_to_thread=False)
def fail() -> None:
    raise RuntimeError("a 500, so that the error counter exists")


async def defined_metrics() -> set[str]:
    """Every name of a series the runtime serves at /metrics (its own and Litestar's HTTP ones),
    as PromQL names them (`_total` of a counter, `_bucket`, `_sum`, `_count` of a histogram)."""
    settings = ServiceSettings(service_name="probe", database_url="x", jwt_secret=TEST_SECRET)
    app = create_app(
        service="probe", description="metrics", route_handlers=[ping, fail], auth=jwt_auth_from(settings), readiness={}
    )
    async with AsyncTestClient(app) as client:
        assert (await client.get("/v1/ping", headers=bearer("acme"))).status_code == 200
        assert (await client.get("/v1/fail", headers=bearer("acme"))).status_code == 500
        exposition = (await client.get("/metrics")).text
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
    return {
        family.name + suffix
        for family in text_string_to_metric_families(exposition)
        if family.name.startswith("portal_") and not family.name.endswith("_created")  # creation times
        for suffix in suffixes.get(family.type, ("",))
    }


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for panel in dashboard["panels"]:
        found += panels(panel) if "panels" in panel else [panel]
    return found


async def test_the_dashboard_charts_each_metric_the_runtime_defines_and_no_other():
    dashboard = json.loads(DASHBOARD.read_text())
    [datasource] = [v for v in dashboard["templating"]["list"] if v["type"] == "datasource"]
    assert datasource["query"] == "prometheus"
    defined = await defined_metrics()
    charted: set[str] = set()
    for panel in panels(dashboard):
        assert panel["datasource"] == {"type": "prometheus", "uid": f"${{{datasource['name']}}}"}, panel["title"]
        assert panel["targets"], f"panel {panel['title']!r} has no query"
        for target in panel["targets"]:
            names = set(re.findall(r"\bportal_[a-zA-Z0-9_]+", target["expr"]))
            assert names, f"panel {panel['title']!r}: {target['expr']} names no portal metric"
            assert names <= defined, (
                f"panel {panel['title']!r} names {names - defined}, which the runtime does not define"
            )
            charted |= names
    families = {re.sub(r"_(total|bucket|sum|count)$", "", name) for name in defined}
    uncharted = {f for f in families if not any(c == f or c.startswith(f + "_") for c in charted)}
    assert not uncharted, f"no panel charts {sorted(uncharted)}"
