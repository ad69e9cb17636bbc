"""OpenTelemetry tracing: exported over OTLP when configured; tests add an in-memory exporter."""

from __future__ import annotations

import os

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor


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
