"""Sending a rendered delivery over SMTP (aiosmtplib) as multipart/alternative (text + HTML).

Each attempt is a span (SpanKind.CLIENT, `smtp send`) in the trace of the request that caused
the email (the trace context stored with its cause, `notify.adapters.causes`). aiosmtplib has
no OpenTelemetry instrumentation, so the span is made here by hand. It names the template, the
delivery, the attempt and the server, never the address: a failure's status carries the
redacted reason, and the exception is not recorded (aiosmtplib's messages name recipients)."""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

from notify.adapters.causes import trace_of
from notify.domain.deliveries import Delivery
from notify.settings import NotifySettings
from portal_runtime.clock import Clock
from portal_runtime.telemetry import tracer

_ADDRESS = re.compile(r"[^\s<>\"'@,;:()]+@[^\s<>\"'@,;:()]+")


def redact(text: str) -> str:
    """Errors are logged and published (EmailFailed): they must never carry an address."""
    return _ADDRESS.sub("<address>", text)


class SendError(Exception):
    """An attempt failed. `permanent` when retrying cannot help (the server refused for good)."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = redact(reason)[:1000]
        self.permanent = permanent


def build_message(delivery: Delivery, sender: str, clock: Clock) -> EmailMessage:
    content = delivery.to_send()  # the only place a delivery's secret is put into its email
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = delivery.recipient
    msg["Subject"] = content.subject
    msg["Date"] = format_datetime(clock.now())
    # The same id on every attempt: a resend after a crash can be recognised as the same email.
    domain = sender.rsplit("@", 1)[-1].strip(" >") or "portal.invalid"
    msg["Message-ID"] = f"<{delivery.id}@{domain}>"
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Portal-Template"] = delivery.template
    msg.set_content(content.text)
    msg.add_alternative(content.html, subtype="html")
    msg["Content-Language"] = delivery.language or "en"  # after the parts: they take Content-* headers
    return msg


class SmtpTransport:
    def __init__(
        self, settings: NotifySettings, clock: Clock, tracer_provider: trace.TracerProvider | None = None
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.tracer = tracer(tracer_provider, "notify.smtp")

    async def send(self, delivery: Delivery) -> None:
        message = build_message(delivery, self.settings.smtp_from, self.clock)
        with self.tracer.start_as_current_span(
            "smtp send",
            context=trace_of(delivery.cause),
            kind=trace.SpanKind.CLIENT,
            attributes={
                "smtp.template": delivery.template,
                "notify.delivery.id": str(delivery.id),
                "notify.delivery.attempt": delivery.attempts + 1,
                "server.address": self.settings.smtp_host,
                "server.port": self.settings.smtp_port,
            },
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                await self._hand_over(message)
            except SendError as exc:
                span.set_status(Status(StatusCode.ERROR, exc.reason))
                span.set_attribute("error.type", type(exc.__cause__ or exc).__name__)
                raise

    async def _hand_over(self, message: EmailMessage) -> None:
        s = self.settings
        try:
            await aiosmtplib.send(
                message,
                hostname=s.smtp_host,
                port=s.smtp_port,
                timeout=s.smtp_timeout_seconds,
                use_tls=s.smtp_use_tls,
                start_tls=bool(s.smtp_starttls),
                username=s.smtp_username,
                password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = sorted({r.code for r in exc.recipients})
            raise SendError(
                f"recipient refused ({', '.join(map(str, codes))})", permanent=all(c >= 500 for c in codes)
            ) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise SendError(f"{type(exc).__name__}: {exc.code} {exc.message}", permanent=exc.code >= 500) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise SendError(f"{type(exc).__name__}: {exc}") from exc
