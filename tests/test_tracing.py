"""One trace from an HTTP request in catalog, through its outbox and Kafka, into the consumer
of another service."""

from __future__ import annotations

import uuid

import probe_service
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind

from catalog.bootstrap import definition as catalog_definition
from portal_runtime.telemetry import make_tracer_provider
from portal_runtime.testing import bearer, eventually, running_service


async def test_one_trace_spans_http_outbox_kafka_and_the_consumer(new_database, kafka, spans):
    exporter, processor = spans
    catalog_tp: TracerProvider = make_tracer_provider("catalog", processor)
    probe_tp: TracerProvider = make_tracer_provider("probe", processor)
    group, probe_url = await probe_service.prepare(new_database, kafka)
    async with (
        running_service(
            catalog_definition(), database_url=await new_database("catalog"), kafka=kafka, tracer_provider=catalog_tp
        ) as (_, http),
        running_service(
            probe_service.definition(group), database_url=probe_url, kafka=kafka, tracer_provider=probe_tp
        ) as (probe, _),
    ):
        body = {"sku": f"T-{group}", "name": "Traced", "price": "5.00", "currency": "EUR", "billing": "one_time"}
        created = await http.post("/v1/admin/items", json=body, headers=bearer("ops", "admin"))
        assert created.status_code == 201
        item_id = uuid.UUID(created.json()["id"])
        await eventually(lambda: probe_service.applied(probe, item_id), what="the probe to apply the item")

    finished = exporter.get_finished_spans()
    server = [
        s
        for s in finished
        if s.kind == SpanKind.SERVER and "POST" in s.name and s.resource.attributes["service.name"] == "catalog"
    ]
    assert server, f"no HTTP server span; spans: {[s.name for s in finished]}"
    trace_id = server[-1].context.trace_id
    in_trace = [s for s in finished if s.context.trace_id == trace_id]
    services = {s.resource.attributes["service.name"] for s in in_trace}
    kinds = {s.kind for s in in_trace}
    assert services == {"catalog", "probe"}, [(s.name, s.resource.attributes["service.name"]) for s in in_trace]
    assert {SpanKind.SERVER, SpanKind.PRODUCER, SpanKind.CONSUMER} <= kinds
    relay = [s for s in in_trace if s.name.endswith("relay")]
    assert relay, "the relay's span should join the request's trace"
    consumer = [s for s in in_trace if s.kind == SpanKind.CONSUMER]
    assert all(s.resource.attributes["service.name"] == "probe" for s in consumer)
