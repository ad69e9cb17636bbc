"""Database spans (portal_runtime.telemetry.instrument_engine, via make_engine) on real PostgreSQL:
inside a trace every statement is a client span naming the statement and never its values;
outside a trace (a poll) none; and with tracing off (no exporter) nothing is installed or recorded
while trace ids still travel."""

from __future__ import annotations

import json

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import text

from portal_runtime.db import make_engine
from portal_runtime.telemetry import make_tracer_provider, records

ADDRESS = "jane.doe@example.test"


@pytest.fixture
def no_exporter(monkeypatch):
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)


async def test_a_statement_inside_a_trace_is_a_span_naming_the_statement_not_its_values(new_database, no_exporter):
    exporter = InMemorySpanExporter()
    provider = make_tracer_provider("runtime", SimpleSpanProcessor(exporter))
    engine = make_engine(await new_database("runtime"), tracer_provider=provider)
    try:
        async with engine.begin() as conn:  # outside any trace: a poll, a start-up check
            await conn.execute(text("CREATE TABLE people (email text PRIMARY KEY, name text)"))
        assert exporter.get_finished_spans() == ()
        with provider.get_tracer("test").start_as_current_span("request") as request:
            async with engine.begin() as conn:
                await conn.execute(
                    text("INSERT INTO people VALUES (:email, :name)"), {"email": ADDRESS, "name": "Jane Doe"}
                )
                assert await conn.scalar(text("SELECT name FROM people WHERE email = :email"), {"email": ADDRESS})
    finally:
        await engine.dispose()
    statements = [s for s in exporter.get_finished_spans() if s.name != "request"]
    assert [s.attributes["db.statement"] for s in statements] == [
        "INSERT INTO people VALUES ($1, $2)",
        "SELECT name FROM people WHERE email = $1",
    ]
    for span in statements:
        assert span.kind == SpanKind.CLIENT and span.attributes["db.system"] == "postgresql", span.attributes
        assert span.context.trace_id == request.get_span_context().trace_id
        assert span.parent.span_id == request.get_span_context().span_id
        assert span.resource.attributes["service.name"] == "runtime"
        recorded = json.dumps([dict(span.attributes), [dict(e.attributes or {}) for e in span.events]])
        assert ADDRESS not in recorded and "Jane Doe" not in recorded, recorded


async def test_without_an_exporter_no_span_is_recorded_and_no_engine_is_instrumented(new_database, no_exporter):
    provider = make_tracer_provider("runtime")
    assert not records(provider)
    engine = make_engine(await new_database("runtime"), tracer_provider=provider)
    try:
        assert not engine.sync_engine.dispatch.before_cursor_execute, "no statement listener when tracing is off"
        with provider.get_tracer("test").start_as_current_span("request") as request:
            # trace and span ids still exist (logs and traceparent carry them); nothing is recorded
            assert request.get_span_context().is_valid and not request.is_recording()
            async with engine.connect() as conn:
                assert await conn.scalar(text("SELECT 1")) == 1
    finally:
        await engine.dispose()


async def test_an_engine_without_a_tracer_provider_is_not_instrumented(new_database):
    engine = make_engine(await new_database("runtime"))
    try:
        assert not engine.sync_engine.dispatch.before_cursor_execute
    finally:
        await engine.dispose()
