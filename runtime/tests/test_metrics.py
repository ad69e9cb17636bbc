"""The runtime's metrics, read as Prometheus reads them (`GET /metrics`, parsed with
prometheus_client's parser) on real Kafka and PostgreSQL: each consumer outcome (applied,
duplicate, retried, dead-lettered) counted once where it happens, the consumer's lag, every role
serving `/metrics` labelled with its role, HTTP requests, errors and latency, job runs by outcome,
and the outbox backlog whose oldest row's age keeps growing while the relay cannot publish."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import probe_service
from aiokafka import AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from catalog.bootstrap import definition as catalog_definition
from portal_contracts import Envelope, Money
from portal_contracts.envelope import CONTENT_TYPE
from portal_contracts.events.catalog import CatalogItemPublished
from portal_runtime.jobs import Daily, Job
from portal_runtime.testing import Seen, bearer, eventually, running_service

ADMIN = bearer("ops", "admin")


# -- reading /metrics ------------------------------------------------------------------------------
Samples = list[tuple[str, dict[str, str], float]]


async def scrape(client: httpx.AsyncClient) -> Samples:
    answer = await client.get("/metrics")
    assert answer.status_code == 200, answer.text
    return [(s.name, s.labels, s.value) for f in text_string_to_metric_families(answer.text) for s in f.samples]


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels`."""
    return sum(v for n, ls, v in samples if n == name and labels.items() <= ls.items())


def series(samples: Samples, name: str, **labels: str) -> list[tuple[dict[str, str], float]]:
    return [(ls, v) for n, ls, v in samples if n == name and labels.items() <= ls.items()]


async def caught_up(client: httpx.AsyncClient, service: str) -> Samples:
    """A scrape once the consumer of `service` has a lag series for each assigned partition, all 0,
    and its counters stand still (the last message it took is done)."""
    last: list[Samples] = []

    async def quiet() -> Samples | None:
        now = await scrape(client)
        lag = series(now, "portal_consumer_lag", service=service)
        events = series(now, "portal_consumer_events_total", service=service)
        still = bool(last) and events == series(last[-1], "portal_consumer_events_total", service=service)
        last.append(now)
        return now if lag and all(v == 0 for _, v in lag) and still else None

    return await eventually(quiet, what=f"{service}'s consumer to catch up (lag 0)", timeout=60, interval=0.5)


def item(name: str) -> dict[str, str]:
    return {"sku": f"M-{uuid.uuid4().hex[:8]}", "name": name, "price": "9.90", "currency": "EUR", "billing": "one_time"}


def envelope(name: str) -> Envelope:
    payload = CatalogItemPublished(
        item_id=uuid.uuid4(),
        sku="X",
        name=name,
        price=Money(amount=Decimal(1), currency="EUR"),
        billing="one_time",
        revision=1,
        published_at=datetime.now(UTC),
    )
    return Envelope.wrap(payload, producer="test", occurred_at=datetime.now(UTC))


# -- the consumer's outcomes, and its lag -------------------------------------------------------------
async def test_each_consumer_outcome_is_counted_once_where_it_happens(new_database, kafka):
    """On one partition: an event that fails once (retried, then applied), the same event again
    (duplicate), a poison pill (retried, then dead-lettered after 3 attempts). The worker role's
    `/metrics` counts exactly these, and its lag comes back to 0."""
    group, url = await probe_service.prepare(new_database, kafka)
    seen = Seen()
    probe = probe_service.definition(group)
    async with running_service(
        probe, database_url=url, kafka=kafka, http=False, relay=False, consumer_max_attempts=3, before_start=seen.watch
    ) as (rt, client):
        before = await caught_up(client, group)  # the topic's earlier events are behind it
        flaky, pill, key = envelope("flaky one"), envelope("poison pill"), str(uuid.uuid4()).encode()
        producer = AIOKafkaProducer(bootstrap_servers=kafka, enable_idempotence=True)
        await producer.start()
        try:
            for message in (flaky, flaky, pill):
                await producer.send_and_wait(
                    "catalog.items",
                    message.model_dump_json().encode(),
                    key=key,
                    headers=[("content-type", CONTENT_TYPE.encode())],
                )
        finally:
            await producer.stop()
        await seen.wait(flaky.event_id, "duplicate")
        await seen.wait(pill.event_id, "dead_lettered")
        after = await caught_up(client, group)

    def moved(outcome: str) -> float:
        labels = {"service": group, "role": "worker", "outcome": outcome}
        return total(after, "portal_consumer_events_total", **labels) - total(
            before, "portal_consumer_events_total", **labels
        )

    assert {o: moved(o) for o in ("applied", "duplicate", "retried", "dead_lettered")} == {
        "applied": 1,  # the flaky one, on its second try
        "duplicate": 1,  # its second copy
        "retried": 3,  # the flaky one once, the pill twice before its third and last attempt
        "dead_lettered": 1,  # the pill
    }
    lag = series(after, "portal_consumer_lag", service=group, role="worker", topic="catalog.items")
    assert lag and {v for _, v in lag} == {0}, lag


# -- every role, HTTP and jobs ---------------------------------------------------------------------
async def test_every_role_serves_its_metrics_labelled_with_its_role(new_database, kafka):
    """catalog's api role (with a job that fails) and its relay role on one database: the api
    counts its requests, errors and latency and each job run by outcome; the relay role publishes
    the api's event, counts it, and shows the backlog back at 0; the api shows no backlog (it
    runs no relay)."""

    def boom(as_of: date) -> dict:
        raise RuntimeError("this job always fails")

    base = catalog_definition()
    catalog = dataclasses.replace(base, jobs=[*base.jobs, lambda rt: Job("boom", Daily(), boom)])
    url = await new_database("catalog")
    async with (
        running_service(catalog, database_url=url, kafka=kafka, consume=False, relay=False) as (_, api),
        running_service(catalog, database_url=url, kafka=kafka, http=False, consume=False) as (relay, relay_http),
    ):
        api_before, relay_before = await scrape(api), await scrape(relay_http)
        created = await api.post("/v1/admin/items", headers=ADMIN, json=item("Metered"))
        assert created.status_code == 201, created.text
        assert (await api.post("/v1/admin/jobs/boom/run", headers=ADMIN)).status_code == 500
        assert (await api.post("/v1/admin/jobs/purge/run", headers=ADMIN)).status_code == 200
        assert (await api.post("/v1/admin/jobs/purge/run", headers=ADMIN)).status_code == 409
        await eventually(lambda: relay.relay.published >= 1, what="the relay role to publish the item's event")
        api_after = await scrape(api)
        relay_after = await eventually(
            lambda: _backlog_empty(relay_http, "catalog", "relay"), what="the relay role's backlog at 0"
        )

    def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    http = {"service": "catalog", "role": "api"}
    post_item = {**http, "method": "POST", "path": "/v1/admin/items", "status_code": "201"}
    assert moved(api_before, api_after, "portal_requests_total", **post_item) == 1
    assert moved(api_before, api_after, "portal_request_duration_seconds_count", **post_item) == 1
    assert moved(api_before, api_after, "portal_requests_total", **http, status_code="500") == 1
    assert moved(api_before, api_after, "portal_requests_error_total", **http) == 1
    runs = {
        o: moved(api_before, api_after, "portal_job_runs_total", **http, job=j, outcome=o)
        for j, o in (("boom", "failed"), ("purge", "ran"), ("purge", "already_ran"))
    }
    assert runs == {"failed": 1, "ran": 1, "already_ran": 1}, runs
    for job in ("boom", "purge"):
        [(_, took)] = series(api_after, "portal_job_last_run_duration_seconds", **http, job=job)
        assert 0 < took < 60, (job, took)
    assert not series(api_after, "portal_outbox_backlog", **http), "the api role runs no relay"
    assert moved(relay_before, relay_after, "portal_relay_published_total", service="catalog", role="relay") >= 1


async def _backlog_empty(client: httpx.AsyncClient, service: str, role: str) -> Samples | None:
    now = await scrape(client)
    backlog = series(now, "portal_outbox_backlog", service=service, role=role)
    age = series(now, "portal_outbox_oldest_age_seconds", service=service, role=role)
    return now if [v for _, v in backlog] == [0] and [v for _, v in age] == [0] else None


# -- the outbox backlog while the relay cannot publish ----------------------------------------------
async def test_the_oldest_unpublished_rows_age_grows_while_the_relay_cannot_publish(new_database, kafka):
    """The broker refuses every publish (as when it is away): the backlog shows the row and its
    age grows from one scrape to the next, with no query per scrape; once publishing works again
    the backlog and the age are 0."""
    url = await new_database("catalog")
    async with running_service(catalog_definition(), database_url=url, kafka=kafka, consume=False) as (rt, client):
        await eventually(lambda: _backlog_empty(client, "catalog", "api+relay"), what="an empty backlog at first")

        async def away(row) -> None:
            raise ConnectionError("the broker is away (test)")

        rt.relay.send = away
        created = await client.post("/v1/admin/items", headers=ADMIN, json=item("Aged"))
        assert created.status_code == 201, created.text

        async def stuck() -> float | None:
            now = await scrape(client)
            backlog = series(now, "portal_outbox_backlog", service="catalog", role="api+relay")
            ages = series(now, "portal_outbox_oldest_age_seconds", service="catalog", role="api+relay")
            if not backlog:  # between a failed round letting the lock go and its outage being told
                return None
            [(_, rows)], [(_, age)] = backlog, ages
            return age if rows == 1 and age > 0 else None

        first = await eventually(stuck, what="the row to show in the backlog with an age")

        async def grown() -> bool:
            age = await stuck()
            return age is not None and age >= first + 1

        await eventually(grown, what=f"the age ({first:.2f} s) to grow by a second, scrape after scrape")
        del rt.relay.send  # the broker is back
        await eventually(lambda: _backlog_empty(client, "catalog", "api+relay"), what="the backlog at 0 again")
        assert rt.relay.published == 1
