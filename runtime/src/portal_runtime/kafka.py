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


async def reachable(bootstrap: str, timeout: float = 10.0) -> None:
    """Raise a Kafka connection error unless a client can bootstrap from `bootstrap`."""
    import contextlib

    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout * 1000))
    try:
        await admin.start()
        await admin.describe_cluster()
    finally:
        with contextlib.suppress(Exception):
            await admin.close()
