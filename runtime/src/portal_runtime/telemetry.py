"""Tracing and logs of a service process.

Tracing: OpenTelemetry, exported over OTLP when configured; tests add an in-memory exporter.

Logs: structlog renders every line, the process's own and those of the libraries that log through
the standard library (uvicorn, Litestar, FastStream, aiokafka, Alembic), with the same fields: a
UTC timestamp, level, logger, service and role, the trace and span ids of the current
OpenTelemetry span, and the correlation id and the id of the event being handled (a consumer
applies each event under `portal_runtime.context.caused_by`). LOG_FORMAT=json writes one JSON
object a line (what log collectors read; the image's default), `console` a line for people.
Email addresses and bearer tokens are masked in every line, whatever logged them: a log is no
place for personal data or credentials."""

from __future__ import annotations

import logging
import os
import re
import sys
from typing import Any

import structlog
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from portal_runtime import context


def make_tracer_provider(service: str, *extra: SpanProcessor) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    for processor in extra:
        provider.add_span_processor(processor)
    return provider


def install_global(provider: TracerProvider) -> None:
    """Make it the process's provider (once per process), so library spans join the trace."""
    trace.set_tracer_provider(provider)


# -- logs ----------------------------------------------------------------------------------------

EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
# A JWT (three base64url parts, the first two JSON objects: `eyJ`) or what follows `Bearer`.
TOKEN = re.compile(r"\beyJ[\w-]*\.eyJ[\w-]*\.[\w-]*|(?<=Bearer )[\w.~+/=-]+", re.IGNORECASE)
# Loggers that install handlers of their own, so that their records reach ours instead.
LIBRARY_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "litestar", "faststream", "aiokafka", "alembic")


def mask(text: str) -> str:
    return TOKEN.sub("[token]", EMAIL.sub("[email]", text))


def _mask_values(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    for key, value in event.items():
        if isinstance(value, str):
            event[key] = mask(value)
    return event


def _trace_ids(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    span = trace.get_current_span().get_span_context()
    if span.is_valid:
        event.setdefault("trace_id", f"{span.trace_id:032x}")
        event.setdefault("span_id", f"{span.span_id:016x}")
    return event


def _causation(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    """The conversation and, in a consumer, the event being handled (its id is the causation of
    everything done meanwhile)."""
    now = context.current()
    if now.correlation_id is not None:
        event.setdefault("correlation_id", str(now.correlation_id))
    if now.causation_id is not None:
        event.setdefault("event_id", str(now.causation_id))
    return event


def configure_logging(service: str, role: str, *, level: str = "INFO", fmt: str = "console") -> None:
    """Route every log record of the process through structlog, rendered as `fmt` (json or
    console) on stderr. Called once the web app exists (Litestar sets up logging of its own when
    it is made), so that this is what stays."""

    def identity(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
        event["service"] = service
        event["role"] = role
        return event

    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        identity,
        _trace_ids,
        _causation,
    ]
    if fmt == "json":
        tail: list[Any] = [
            structlog.processors.format_exc_info,
            structlog.processors.EventRenamer("message"),
            _mask_values,
            structlog.processors.JSONRenderer(),
        ]
    else:
        tail = [_mask_values, structlog.dev.ConsoleRenderer(colors=False)]
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared, processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *tail]
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    for name in LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        library.handlers = []
        library.propagate = True
    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, *shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
