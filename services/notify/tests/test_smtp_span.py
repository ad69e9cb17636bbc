"""The SMTP send's span (notify.adapters.smtp), against a real SMTP server (aiosmtpd): a client
span in the trace the delivery's cause was handled in, naming the template and the delivery, and
never the address, also when the server refuses it."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from opentelemetry import propagate
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from notify.adapters.smtp import SendError, SmtpTransport
from notify.domain.deliveries import Cause, Content, Delivery
from notify.settings import NotifySettings
from portal_runtime.clock import FrozenClock
from portal_runtime.telemetry import make_tracer_provider

NOW = datetime(2026, 1, 1, tzinfo=UTC)
ADDRESS = "jane.doe@customers.test"


def delivery(trace: dict[str, str] | None) -> Delivery:
    return Delivery.record(
        account_id="acme",
        template="payment_received",
        cause=Cause(uuid.uuid4(), uuid.uuid4(), "PaymentReceived", 1, {}, trace),
        now=NOW,
        address=(ADDRESS, "en"),
        content=Content(subject="Payment received", text="Thank you.", html="<p>Thank you.</p>"),
    )


def carried(span: ReadableSpan) -> str:
    events = [[e.name, dict(e.attributes or {})] for e in span.events]
    return json.dumps([span.name, dict(span.attributes or {}), events, span.status.description])


@pytest.fixture
def traced():
    exporter = InMemorySpanExporter()
    return exporter, make_tracer_provider("notify", SimpleSpanProcessor(exporter))


def transport(port: int, provider) -> SmtpTransport:
    return SmtpTransport(NotifySettings(smtp_host="127.0.0.1", smtp_port=port), FrozenClock(NOW), provider)


async def test_a_send_is_a_client_span_continuing_the_trace_of_its_cause(smtp, traced):
    exporter, provider = traced
    with provider.get_tracer("test").start_as_current_span("orders.requests process") as consumed:
        trace: dict[str, str] = {}
        propagate.inject(trace)
    d = delivery(trace)
    await transport(smtp.port, provider).send(d)  # the sender runs outside any trace
    assert len(smtp.mail.to(ADDRESS)) == 1
    [sent] = [s for s in exporter.get_finished_spans() if s.name == "smtp send"]
    assert sent.kind == SpanKind.CLIENT and sent.resource.attributes["service.name"] == "notify"
    assert sent.context.trace_id == consumed.get_span_context().trace_id
    assert sent.parent.span_id == consumed.get_span_context().span_id
    assert dict(sent.attributes) == {
        "smtp.template": "payment_received",
        "notify.delivery.id": str(d.id),
        "notify.delivery.attempt": 1,
        "server.address": "127.0.0.1",
        "server.port": smtp.port,
    }
    assert sent.status.status_code == StatusCode.UNSET


async def test_a_refused_recipient_is_an_error_span_that_does_not_name_the_address(smtp, traced):
    exporter, provider = traced

    async def refuse(server, session, envelope, address, options) -> str:
        return f"550 5.1.1 <{address}>: mailbox unavailable"

    smtp.mail.handle_RCPT = refuse
    with pytest.raises(SendError) as refused:
        await transport(smtp.port, provider).send(delivery(None))
    assert refused.value.permanent
    [sent] = [s for s in exporter.get_finished_spans() if s.name == "smtp send"]
    assert sent.parent is None, "a cause without a trace: the send starts one"
    assert sent.status.status_code == StatusCode.ERROR
    assert sent.status.description == "recipient refused (550)"
    assert sent.attributes["error.type"] == "SMTPRecipientsRefused"
    assert sent.events == (), "the exception (which names the recipient) is not recorded"
    assert ADDRESS not in carried(sent) and "@" not in carried(sent), carried(sent)


async def test_with_tracing_off_a_send_makes_no_span(smtp, monkeypatch):
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    provider = make_tracer_provider("notify")
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    await transport(smtp.port, provider).send(delivery(None))
    assert len(smtp.mail.to(ADDRESS)) == 1 and exporter.get_finished_spans() == ()
