"""The MIME message built from a delivery, and what errors may say."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from notify.adapters.smtp import SendError, build_message, redact
from notify.domain.deliveries import Cause, Content, Delivery
from portal_runtime.clock import FrozenClock

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def rendered() -> Delivery:
    return Delivery.record(
        account_id="acme",
        template="payment_received",
        cause=Cause(uuid.uuid4(), uuid.uuid4(), "PaymentReceived", 1, {}),
        now=NOW,
        address=("ops@acme.test", "tr"),
        content=Content(subject="Ödemeniz alındı", text="Merhaba,\nÖdeme alındı.", html="<p>Merhaba,</p>"),
    )


def test_message_is_multipart_alternative_with_text_and_html():
    d = rendered()
    msg = build_message(d, "Portal <no-reply@portal.test>", FrozenClock(NOW))
    assert msg.get_content_type() == "multipart/alternative"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert parts[0].get_content() == "Merhaba,\nÖdeme alındı.\n"
    assert parts[1].get_content() == "<p>Merhaba,</p>\n"
    assert msg["To"] == "ops@acme.test" and msg["Subject"] == "Ödemeniz alındı"
    assert msg["Message-ID"] == f"<{d.id}@portal.test>"
    assert msg["Content-Language"] == "tr" and msg["Auto-Submitted"] == "auto-generated"


def test_an_unrendered_delivery_cannot_become_a_message():
    d = Delivery.record(
        account_id="acme",
        template="payment_received",
        cause=Cause(uuid.uuid4(), uuid.uuid4(), "PaymentReceived", 1, {}),
        now=NOW,
        address=None,
        content=None,
    )
    with pytest.raises(ValueError):
        build_message(d, "no-reply@portal.test", FrozenClock(NOW))


def test_errors_never_carry_addresses():
    assert redact("550 5.1.1 <ops@acme.test>: mailbox unavailable") == "550 5.1.1 <<address>>: mailbox unavailable"
    assert "@" not in SendError("refused jane.doe+x@mail.acme.test twice").reason
