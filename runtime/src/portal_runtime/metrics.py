"""The runtime's Prometheus metrics, served at `/metrics` by every role (api, worker, relay and
`run`, on HTTP_PORT) beside Litestar's HTTP metrics (`portal_requests_total`,
`portal_request_duration_seconds`, `portal_requests_in_progress`, `web.py`).

Defined once per process in the default registry; every series is labelled with the service (and
the process's role where the thing counted can happen in more than one role), so several services
run in one test process without clashing. Each is counted where the thing happens: the consumer's
outcomes and lag in `consumer.py`, the outbox backlog in `relay.py`, job runs in `jobs.py`, emails
in notify's sender. Nothing here queries a database or a broker when scraped: the backlog and the
lag are what the relay and the consumer last saw, so a scrape never waits for a dependency that is
away. `deploy/grafana/portal-dashboard.json` charts them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client import Counter, Gauge
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

CONSUMER_EVENTS = Counter(
    "portal_consumer_events",
    "Events handled by this service's consumer, by outcome (applied, duplicate, retried, dead_lettered, ignored)",
    ["service", "role", "outcome"],
)
CONSUMER_LAG = Gauge(
    "portal_consumer_lag",
    "Messages of a partition this process's consumer has not taken yet (the partition's end offset less the "
    "consumer's position), as of its last look (every few seconds)",
    ["service", "role", "topic", "partition"],
)
WAITING = Gauge(
    "portal_waiting_for_dependency",
    "1 while a loop of this process (consumer, relay, kafka connection) waits for the database or "
    "the broker to come back",
    ["service", "loop"],
)
OUTAGE_WAITS = Counter(
    "portal_dependency_waits",
    "Tries that found the database or the broker away and were waited out (never dead-lettered)",
    ["service", "loop"],
)
RELAY_PUBLISHED = Counter("portal_relay_published", "Outbox rows published by the relay", ["service", "role"])
JOB_RUNS = Counter(
    "portal_job_runs",
    "Runs of a scheduled job (by the scheduler or an admin), by outcome (ran, already_ran, failed)",
    ["service", "role", "job", "outcome"],
)
JOB_DURATION = Gauge(
    "portal_job_last_run_duration_seconds",
    "How long the job's last run took (one that ran or failed)",
    ["service", "role", "job"],
)
EMAILS = Counter(
    "portal_emails",
    "Email attempts by outcome: sent (the SMTP server accepted it), failed (not accepted; tried again later), "
    "given_up (not accepted, and no try is left)",
    ["service", "outcome"],
)


Seen = Callable[[], tuple[int, datetime | None, datetime] | None]


class OutboxBacklog(Collector):
    """`portal_outbox_backlog` (unpublished rows) and `portal_outbox_oldest_age_seconds` of every
    relay of this process, from what each relay saw on its last read of the outbox: a relay that
    cannot publish (the broker is away) still reads its first batch on every try, so the age keeps
    growing at each scrape. A relay standing by (another replica holds the lock) reports nothing."""

    def __init__(self) -> None:
        self.relays: dict[tuple[str, str], list[Seen]] = {}

    def watch(self, service: str, role: str, seen: Seen) -> None:
        """`seen()` answers (unpublished rows, creation time of the oldest, now), or None."""
        self.relays.setdefault((service, role), []).append(seen)

    def unwatch(self, service: str, role: str, seen: Seen) -> None:
        watching = self.relays.get((service, role), [])
        if seen in watching:
            watching.remove(seen)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        backlog = GaugeMetricFamily(
            "portal_outbox_backlog", "Outbox rows not yet published, as the relay last saw", labels=["service", "role"]
        )
        age = GaugeMetricFamily(
            "portal_outbox_oldest_age_seconds",
            "Age of the oldest unpublished outbox row (0 when none is waiting), as the relay last saw",
            labels=["service", "role"],
        )
        for (service, role), watching in list(self.relays.items()):
            found = next((s for s in (seen() for seen in list(watching)) if s is not None), None)
            if found is None:
                continue
            rows, oldest, now = found
            backlog.add_metric([service, role], rows)
            age.add_metric([service, role], max((now - oldest).total_seconds(), 0.0) if oldest and rows else 0.0)
        yield backlog
        yield age


OUTBOX = OutboxBacklog()
REGISTRY.register(OUTBOX)


def role_of(*, http: bool, consume: bool, relay: bool) -> str:
    """The role a process plays, as `python -m <service> <role>` names it: `api`, `worker`,
    `relay`, or `run` (all three); a mix that tests make is named by its parts (`api+relay`)."""
    parts = [name for name, on in (("api", http), ("worker", consume), ("relay", relay)) if on]
    return "run" if len(parts) == 3 else "+".join(parts)
