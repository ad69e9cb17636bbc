"""The service's Kafka broker: idempotent producer, acks=all, telemetry on every message when
tracing is on (`portal_runtime.telemetry`); and the connection options (TLS, SASL) every Kafka
client of the process uses, from KafkaSecuritySettings."""

from __future__ import annotations

from typing import Any

from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.kafka.security import parse_security
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512
from opentelemetry.trace import TracerProvider
from prometheus_client import REGISTRY

from portal_runtime.settings import KafkaSecuritySettings
from portal_runtime.telemetry import records

_SASL = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}


def security(settings: KafkaSecuritySettings | None = None) -> BaseSecurity | None:
    """FastStream's security object for these settings (read from the environment when not
    given); None for PLAINTEXT."""
    s = settings if settings is not None else KafkaSecuritySettings()
    if s.kafka_security_protocol == "PLAINTEXT":
        return None
    use_ssl = s.kafka_security_protocol in ("SSL", "SASL_SSL")
    ssl_context = None
    if use_ssl:
        from aiokafka.helpers import create_ssl_context

        ssl_context = create_ssl_context(
            cafile=s.kafka_ssl_cafile, certfile=s.kafka_ssl_certfile, keyfile=s.kafka_ssl_keyfile
        )
    if s.kafka_security_protocol == "SSL":
        return BaseSecurity(ssl_context=ssl_context, use_ssl=True)
    password = s.kafka_sasl_password.get_secret_value() if s.kafka_sasl_password else ""
    return _SASL[s.kafka_sasl_mechanism](
        s.kafka_sasl_username or "", password, ssl_context=ssl_context, use_ssl=use_ssl
    )


def client_options(settings: KafkaSecuritySettings | None = None) -> dict[str, Any]:
    """Keyword arguments for an aiokafka client (admin, consumer, producer): security_protocol,
    ssl_context and the SASL mechanism and credentials; empty for PLAINTEXT."""
    return parse_security(security(settings))


def make_broker(
    bootstrap: str,
    service: str,
    tracer_provider: TracerProvider | None = None,
    settings: KafkaSecuritySettings | None = None,
) -> KafkaBroker:
    """FastStream's Prometheus middleware counts and times every message received and published
    (`faststream_received_messages_total`, `faststream_received_processed_messages_total` by
    status, `faststream_published_messages_total`, ..., labelled `app_name` = the service), beside
    the runtime's own `portal_consumer_events_total` (applied, duplicate, retried, dead-lettered:
    what the inbox decided, which FastStream cannot know). Its metrics are registered once per
    process and shared by every broker of it."""
    middlewares: list = [KafkaPrometheusMiddleware(registry=REGISTRY, app_name=service)]
    if records(tracer_provider):
        middlewares.append(KafkaTelemetryMiddleware(tracer_provider=tracer_provider))
    return KafkaBroker(
        bootstrap,
        client_id=service,
        enable_idempotence=True,
        acks="all",
        security=security(settings),
        middlewares=middlewares,
        logger=None,
    )


async def reachable(bootstrap: str, timeout: float = 10.0) -> None:
    """Raise a Kafka connection error unless a client can bootstrap from `bootstrap`."""
    import contextlib

    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout * 1000), **client_options())
    try:
        await admin.start()
        await admin.describe_cluster()
    finally:
        with contextlib.suppress(Exception):
            await admin.close()
