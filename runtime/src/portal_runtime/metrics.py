"""The runtime's Prometheus metrics (served at `/metrics` with Litestar's HTTP metrics).

Defined once per process in the default registry; every series is labelled with the service,
so several services run in one test process without clashing."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

CONSUMER_EVENTS = Counter(
    "portal_consumer_events",
    "Events handled by this service's consumer, by outcome (applied, duplicate, retried, dead_lettered, ignored)",
    ["service", "outcome"],
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
RELAY_PUBLISHED = Counter("portal_relay_published", "Outbox rows published by the relay", ["service"])
