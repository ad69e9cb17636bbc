"""The service's Kafka broker: idempotent producer, acks=all, telemetry on every message."""

from __future__ import annotations

from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from opentelemetry.trace import TracerProvider


def make_broker(bootstrap: str, service: str, tracer_provider: TracerProvider | None = None) -> KafkaBroker:
    return KafkaBroker(
        bootstrap,
        client_id=service,
        enable_idempotence=True,
        acks="all",
        middlewares=[KafkaTelemetryMiddleware(tracer_provider=tracer_provider)],
        logger=None,
    )
