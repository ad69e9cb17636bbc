"""Tracing and logs of a service process.

Tracing: OpenTelemetry, on when spans go somewhere: exported over OTLP when
OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is set (sampled as OTEL_TRACES_SAMPLER says), or to the
processors a test hands in. Off (no exporter), the provider samples nothing and no library
instrumentation is installed (`records` tells): no span is recorded, no attribute collected, no
processor runs; only trace and span ids are still made, cheaply, where a request comes in and where
an event is applied, so that they travel in `traceparent` (outbox rows, CloudEvents) and reach
the log lines.

Kafka: on, FastStream's telemetry middleware makes the producer and consumer spans
(`portal_runtime.kafka`). Off, not that middleware (it cost 56 µs of CPU per message relayed,
10% of the relay's, sampling nothing): the trace travels in the CloudEvent's own `traceparent`,
and the consumer goes on with it (`continue_trace`) while it applies the event.

HTTP (`http_tracing`): on, Litestar's OpenTelemetry plugin makes a server span per request (without
its spans per ASGI message, `receive`/`send`, which say nothing a server span does not). Off, not
that plugin: the ASGI instrumentation under it costs about 100 µs of CPU per request even with a
no-op tracer (collecting attributes, wrapping receive and send: measured on a trivial handler,
CPU per request, 225 µs without it, 326 µs with a no-op provider, 374 µs sampling nothing), so a
middleware only takes the caller's W3C trace context and starts a span that is not recorded (the
ids logs and events carry): 242 µs.

Database spans: `instrument_engine` attaches the SQLAlchemy instrumentation's `EngineTracer` to one
engine with the service's tracer provider. Not `SQLAlchemyInstrumentor().instrument(engine=...)`:
that instrumentor is a process-wide singleton, instruments once per process (a second service's
engine in the same process gets nothing, with a warning), and wraps `create_engine` and
`create_async_engine` for every engine made afterwards with the first caller's tracer. A
statement becomes a span only inside a trace (a request, a consumed event, an email's sending):
the relay's and the sender's polls and the job scheduler would otherwise start a trace of one
span several times a second. A span records the statement as SQLAlchemy sends it (placeholders,
never the parameters: addresses, names and email text stay out of spans); sqlcommenter, which
would write trace ids into the SQL, stays off.

Logs: structlog renders every line, the process's own and those of the libraries that log through
the standard library (uvicorn, Litestar, FastStream, aiokafka, Alembic), with the same fields: a
UTC timestamp, level, logger, service and role, the trace and span ids of the current
OpenTelemetry span, and the correlation id and the id of the event being handled (a consumer
applies each event under `portal_runtime.context.caused_by`). LOG_FORMAT=json writes one JSON
object a line (what log collectors read; the image's default), `console` a line for people.
Email addresses and bearer tokens are masked in every line, whatever logged them: a log is no
place for personal data or credentials."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
from typing import TYPE_CHECKING, Any

import structlog
from litestar.plugins import InitPlugin
from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

from portal_runtime import context

if TYPE_CHECKING:
    from litestar.config.app import AppConfig
    from litestar.types import ASGIApp, Receive, Scope, Send
    from sqlalchemy.ext.asyncio import AsyncEngine


def exporter_configured() -> bool:
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def make_tracer_provider(service: str, *extra: SpanProcessor) -> TracerProvider:
    """The service's provider: recording (sampled as OTEL_TRACES_SAMPLER says) when an exporter is
    configured or `extra` processors are given, else sampling nothing (trace ids only)."""
    on = exporter_configured() or bool(extra)
    resource = Resource.create({"service.name": service})
    provider = TracerProvider(resource=resource) if on else TracerProvider(resource=resource, sampler=ALWAYS_OFF)
    if exporter_configured():
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    for processor in extra:
        provider.add_span_processor(processor)
    return provider


def records(provider: trace.TracerProvider | None) -> bool:
    """Whether spans of `provider` can be recorded: an SDK provider that does not sample nothing."""
    return isinstance(provider, TracerProvider) and provider.sampler is not ALWAYS_OFF


def tracer(provider: trace.TracerProvider | None, name: str) -> trace.Tracer:
    """`provider`'s tracer when it records, else a no-op one (for spans made by hand)."""
    return provider.get_tracer(name) if provider is not None and records(provider) else trace.NoOpTracer()


def http_tracing(provider: trace.TracerProvider | None) -> InitPlugin:
    """The app's plugin for tracing requests (see above): recording server spans, or ids only."""
    if records(provider):
        return OpenTelemetryPlugin(
            OpenTelemetryConfig(
                tracer_provider=provider,
                exclude_spans=["receive", "send"],
                server_request_hook_handler=_forget_the_client,
            )
        )
    return _TraceContextPlugin((provider or trace.get_tracer_provider()).get_tracer("portal.http"))


# What the ASGI instrumentation records of the caller (either semantic conventions): its address
# and port and its user agent are personal data, not sent with any span.
CLIENT_ATTRIBUTES = {
    "client.address": "-",
    "client.port": 0,
    "net.peer.ip": "-",
    "net.peer.port": 0,
    "http.client_ip": "-",
    "user_agent.original": "-",
    "http.user_agent": "-",
}


def _forget_the_client(span: trace.Span, _scope: Any) -> None:
    """The server span's caller attributes overwritten as the span starts (the instrumentation
    has no option to leave them out, and an attribute set cannot be removed)."""
    present = getattr(span, "attributes", None) or {}
    for key, blank in CLIENT_ATTRIBUTES.items():
        if key in present:
            span.set_attribute(key, blank)


def continue_trace(carrier: dict[str, str], name: str) -> contextlib.AbstractContextManager:
    """With no span current (tracing off: no consumer span), the trace of `carrier` (its W3C
    `traceparent`) goes on under a span that is not recorded; otherwise nothing changes."""
    if trace.get_current_span().get_span_context().is_valid:
        return contextlib.nullcontext()
    return _CONSUMED.start_as_current_span(name, context=propagate.extract(carrier), kind=trace.SpanKind.CONSUMER)


_CONSUMED = trace.get_tracer("portal.consumer")  # the process's provider (`install_global`)


class _TraceContextPlugin(InitPlugin):
    """Outermost middleware: each request under a span of the caller's trace (or a new one) that is
    never recorded."""

    def __init__(self, tracer: trace.Tracer) -> None:
        self.tracer = tracer

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.middleware.insert(0, self.middleware)
        return app_config

    def middleware(self, app: ASGIApp) -> ASGIApp:
        async def traced(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            carrier = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
            with self.tracer.start_as_current_span(
                "HTTP request", context=propagate.extract(carrier), kind=trace.SpanKind.SERVER
            ):
                await app(scope, receive, send)

        return traced


class _InTraceOnly(trace.Tracer):
    """A tracer whose spans exist only inside a trace: without a current span it starts none."""

    def __init__(self, inner: trace.Tracer) -> None:
        self.inner = inner

    def start_span(self, name: str, context: Any = None, *args: Any, **kwargs: Any) -> trace.Span:
        if not trace.get_current_span(context).get_span_context().is_valid:
            return trace.INVALID_SPAN
        return self.inner.start_span(name, context, *args, **kwargs)

    def start_as_current_span(self, name: str, context: Any = None, *args: Any, **kwargs: Any) -> Any:
        if not trace.get_current_span(context).get_span_context().is_valid:
            return trace.use_span(trace.INVALID_SPAN)
        return self.inner.start_as_current_span(name, context, *args, **kwargs)


def instrument_engine(engine: AsyncEngine, provider: trace.TracerProvider | None) -> None:
    """A span per statement of `engine` inside a trace, when `provider` records (see above)."""
    if not records(provider):
        return
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.instrumentation.sqlalchemy.version import __version__
    from opentelemetry.metrics import NoOpMeterProvider

    # The instrumentation's pool-usage counter is an OpenTelemetry metric; metrics here are
    # Prometheus' (portal_runtime.metrics), so it counts into nothing.
    usage = NoOpMeterProvider().get_meter(__name__).create_up_down_counter("db.client.connections.usage")
    inner = provider.get_tracer("opentelemetry.instrumentation.sqlalchemy", __version__)
    EngineTracer(_InTraceOnly(inner), engine.sync_engine, usage)


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


class _NoClientAddress(logging.Filter):
    """uvicorn's access line without the caller's address and port (personal data): its first
    argument, `host:port`, becomes `-`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = ("-", *record.args[1:])
        return True


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
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _NoClientAddress) for f in access.filters):
        access.addFilter(_NoClientAddress())
    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, *shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
