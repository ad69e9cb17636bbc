"""Tracing off (no exporter configured, portal_runtime.telemetry): a service records no span and
installs no database instrumentation, yet every request runs in a trace, the caller's when it
sent one, and the events it stages carry that trace on (`traceparent`, for the consumers' logs)."""

from __future__ import annotations

from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import select

from catalog.bootstrap import definition as catalog
from portal_runtime.db import OutboxRecord
from portal_runtime.telemetry import make_tracer_provider, records
from portal_runtime.testing import bearer, running_service

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


async def test_without_an_exporter_no_span_is_recorded_but_the_callers_trace_travels(new_database, kafka, monkeypatch):
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    provider = make_tracer_provider("catalog")
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))  # would see any span that were recorded
    assert not records(provider)
    async with running_service(
        catalog(), database_url=await new_database("catalog"), kafka=kafka, tracer_provider=provider, relay=False
    ) as (rt, http):
        assert not rt.engine.sync_engine.dispatch.before_cursor_execute, "no database instrumentation"
        for sku, headers in (("OFF-1", {"traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"}), ("OFF-2", {})):
            body = {"sku": sku, "name": "Untraced", "price": "5.00", "currency": "EUR", "billing": "one_time"}
            created = await http.post("/v1/admin/items", json=body, headers={**bearer("ops", "admin"), **headers})
            assert created.status_code == 201, created.text
        async with rt.sessions() as session:
            rows = (await session.scalars(select(OutboxRecord).order_by(OutboxRecord.id))).all()
    traceparents = [row.envelope["traceparent"] for row in rows]
    assert len(traceparents) == 2, traceparents
    assert traceparents[0].split("-")[1] == TRACE_ID, "the caller's trace goes on with the event"
    fresh = traceparents[1].split("-")[1]
    assert len(fresh) == 32 and fresh not in (TRACE_ID, "0" * 32), "a request without one gets a trace id"
    assert exporter.get_finished_spans() == ()
