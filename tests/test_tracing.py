"""One trace from an HTTP request in catalog, through its outbox and Kafka, into the consumer
of another service; and one from an HTTP request in orders to the email notify sends for it over
SMTP (the real mail sink), with the database statements on the way as spans of it and no personal
data in any span; with tracing off (no exporter), no span recorded, and the trace id on its way all
the same (in `traceparent`, for the logs)."""

from __future__ import annotations

import json
import re
import uuid

import probe_service
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import select

from catalog.bootstrap import definition as catalog_definition
from notify.adapters.tables import DeliveryRow
from notify.bootstrap import definition as notify_definition
from notify.settings import NotifySettings
from orders.bootstrap import definition as orders_definition
from portal_runtime.telemetry import CLIENT_ATTRIBUTES, make_tracer_provider
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


def recorded(span: ReadableSpan) -> str:
    """Everything a span carries that an exporter would send: name, attributes, events, status."""
    events = [[e.name, dict(e.attributes or {})] for e in span.events]
    return json.dumps([span.name, dict(span.attributes or {}), events, span.status.description], default=str)


async def test_one_trace_from_an_orders_request_to_the_smtp_send_of_its_email(infra, new_database, kafka, spans):
    exporter, processor = spans
    account = f"traced-{uuid.uuid4().hex[:8]}"
    address = f"{account}@example.test"
    smtp = NotifySettings(smtp_host=infra.smtp_host, smtp_port=infra.smtp_port, send_poll_seconds=0.05)
    async with (
        running_service(
            orders_definition(),
            database_url=await new_database("orders"),
            kafka=kafka,
            tracer_provider=make_tracer_provider("orders", processor),
        ) as (_, orders),
        running_service(
            notify_definition(smtp),
            database_url=await new_database("notify"),
            kafka=kafka,
            tracer_provider=make_tracer_provider("notify", processor),
        ) as (notify, _),
    ):
        # A new address: notify mails its confirmation, caused by this request.
        changed = await orders.put(
            "/v1/account/profile", headers=bearer(account), json={"email": address, "language": "en"}
        )
        assert changed.status_code == 200, changed.text
        [mail] = await eventually(lambda: infra.messages(to=address), what="the confirmation email at the sink")
        assert mail["headers"]["X-Portal-Template"] == "email_confirmation", mail["subject"]
        token = re.search(r"token=([A-Za-z0-9_-]+)", mail["text"]).group(1)
        async with notify.sessions() as session:
            delivery_id = await session.scalar(select(DeliveryRow.id).where(DeliveryRow.account_id == account))

        def smtp_spans() -> list[ReadableSpan]:
            # this delivery's: the notify here may also send what earlier test modules left on the topics
            return [
                s
                for s in exporter.get_finished_spans()
                if s.name == "smtp send" and s.attributes.get("notify.delivery.id") == str(delivery_id)
            ]

        [sent] = await eventually(smtp_spans, what="the SMTP send's span to end")
        await eventually(
            lambda: any(
                s.attributes.get("db.statement", "").startswith("UPDATE deliveries")
                and s.context.trace_id == sent.context.trace_id
                for s in exporter.get_finished_spans()
            ),
            what="the sender's update of the delivery to commit",
        )

    finished = exporter.get_finished_spans()
    [server] = [
        s
        for s in finished
        if s.kind == SpanKind.SERVER and "PUT" in s.name and s.resource.attributes["service.name"] == "orders"
    ]
    in_trace = [s for s in finished if s.context.trace_id == server.context.trace_id]
    by_service = {(s.resource.attributes["service.name"], s.kind) for s in in_trace}
    assert {
        ("orders", SpanKind.SERVER),
        ("orders", SpanKind.PRODUCER),
        ("notify", SpanKind.CONSUMER),
        ("notify", SpanKind.CLIENT),
    } <= by_service, [(s.name, s.resource.attributes["service.name"]) for s in in_trace]
    assert any(s.name.endswith("relay") for s in in_trace), "the relay's span joins the request's trace"

    def statements(service: str) -> list[str]:
        return [
            s.attributes["db.statement"]
            for s in in_trace
            if s.resource.attributes["service.name"] == service and "db.statement" in s.attributes
        ]

    assert any(q.startswith("INSERT INTO outbox") for q in statements("orders")), statements("orders")
    notify_statements = statements("notify")
    for table in ("inbox", "deliveries"):
        assert any(q.startswith(f"INSERT INTO {table}") for q in notify_statements), notify_statements
    assert any(q.startswith("UPDATE deliveries") for q in notify_statements), "the sender's commit is in the trace"

    # The email's send: notify's client span in the same trace, naming the template and the delivery.
    assert sent.context.trace_id == server.context.trace_id
    assert sent.resource.attributes["service.name"] == "notify" and sent.kind == SpanKind.CLIENT
    assert sent.attributes["smtp.template"] == "email_confirmation"
    assert sent.attributes["notify.delivery.id"] == str(delivery_id)
    assert sent.parent is not None and sent.parent.span_id in {s.context.span_id for s in in_trace}

    # No personal data or secret in any span of either service, nor the caller's address or agent.
    for span in finished:
        carried = recorded(span)
        assert address not in carried and account + "@" not in carried and token not in carried, carried
        if span.kind == SpanKind.SERVER:  # the caller's address and port, its user agent
            caller = {k: v for k, v in span.attributes.items() if k in CLIENT_ATTRIBUTES}
            assert caller and set(caller.values()) <= {"-", 0}, caller
            assert "python-httpx" not in carried, carried


async def test_with_tracing_off_the_callers_trace_id_still_reaches_the_email_and_nothing_is_recorded(
    infra, new_database, kafka, monkeypatch
):
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    exporter = InMemorySpanExporter()
    providers = {name: make_tracer_provider(name) for name in ("orders", "notify")}  # no exporter: off
    for provider in providers.values():
        provider.add_span_processor(SimpleSpanProcessor(exporter))  # would see any span that were recorded
    trace_id = uuid.uuid4().hex
    account = f"untraced-{uuid.uuid4().hex[:8]}"
    address = f"{account}@example.test"
    smtp = NotifySettings(smtp_host=infra.smtp_host, smtp_port=infra.smtp_port, send_poll_seconds=0.05)
    async with (
        running_service(
            orders_definition(),
            database_url=await new_database("orders"),
            kafka=kafka,
            tracer_provider=providers["orders"],
        ) as (_, orders),
        running_service(
            notify_definition(smtp),
            database_url=await new_database("notify"),
            kafka=kafka,
            tracer_provider=providers["notify"],
        ) as (notify, _),
    ):
        headers = {**bearer(account), "traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"}
        changed = await orders.put("/v1/account/profile", headers=headers, json={"email": address, "language": "en"})
        assert changed.status_code == 200, changed.text
        await eventually(lambda: infra.messages(to=address), what="the confirmation email at the sink")
        async with notify.sessions() as session:
            stored = await session.scalar(select(DeliveryRow.trace_context).where(DeliveryRow.account_id == account))
    assert stored["traceparent"].split("-")[1] == trace_id, stored
    assert exporter.get_finished_spans() == ()
