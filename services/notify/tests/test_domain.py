"""Rules of recipients and deliveries, and the backoff schedule."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from notify.domain.deliveries import Cause, Content, Delivery, RetryPolicy, Status
from notify.domain.events import AttemptFailed, DeliveryAddressed, DeliveryRetried, EmailFailed, EmailSent
from notify.domain.recipients import Recipient
from notify.settings import NotifySettings
from portal_runtime.errors import Conflict, InvalidInput
from portal_runtime.lifecycle import InvalidTransition

NOW = datetime(2026, 1, 1, tzinfo=UTC)
CONTENT = Content(subject="s", text="t", html="<p>h</p>")
PENDING, SENT, FAILED, WAITING = Status.PENDING, Status.SENT, Status.FAILED, Status.WAITING


def cause() -> Cause:
    return Cause(
        event_id=uuid.uuid4(), correlation_id=uuid.uuid4(), event_type="RequestSubmitted", version=1, payload={}
    )


def recipient(**over) -> Recipient:
    return Recipient.create(
        **{"account_id": "acme", "email": "ops@acme.test", "language": "de", "changed_at": NOW, **over}
    )


def delivery(address=("ops@acme.test", "de"), content=CONTENT) -> Delivery:
    return Delivery.record(
        account_id="acme",
        template="request_received",
        cause=cause(),
        now=NOW,
        address=address,
        content=content,
    )


# -- recipients --------------------------------------------------------------------------


def test_newer_profile_wins_older_and_equal_are_ignored():
    r = recipient()
    assert r.apply(email="new@acme.test", language="pl", changed_at=NOW + timedelta(seconds=1))
    assert (r.email, r.language) == ("new@acme.test", "pl")
    assert not r.apply(email="old@acme.test", language="en", changed_at=NOW)
    assert not r.apply(email="same@acme.test", language="en", changed_at=NOW + timedelta(seconds=1))
    assert (r.email, r.language, r.changed_at) == ("new@acme.test", "pl", NOW + timedelta(seconds=1))


@pytest.mark.parametrize(
    "over, field",
    [
        ({"email": "not-an-address"}, "email"),
        ({"email": "a@b.test\r\nBcc: x@y.test"}, "email"),
        ({"email": "two@a.test, three@b.test"}, "email"),
        ({"language": "fr"}, "language"),
        ({"account_id": ""}, "account_id"),
    ],
)
def test_invalid_profiles_name_the_field_and_never_repeat_the_address(over, field):
    with pytest.raises(InvalidInput) as err:
        recipient(**over)
    assert err.value.field == field
    assert "@" not in err.value.message


def test_a_newer_but_invalid_profile_changes_nothing():
    r = recipient()
    with pytest.raises(InvalidInput):
        r.apply(email="broken", language="en", changed_at=NOW + timedelta(days=1))
    assert (r.email, r.changed_at) == ("ops@acme.test", NOW)


# -- deliveries --------------------------------------------------------------------------


def test_known_recipient_makes_a_pending_delivery_due_now():
    d = delivery()
    assert d.status == PENDING and d.attempts == 0 and d.is_due(NOW) and d.recipient == "ops@acme.test"
    assert (d.subject, d.text, d.html, d.language) == ("s", "t", "<p>h</p>", "de")


def test_unknown_recipient_waits_then_is_addressed():
    d = delivery(address=None, content=None)
    assert d.status == WAITING and not d.is_due(NOW) and d.recipient is None
    d.address("ops@acme.test", "tr", CONTENT, now=NOW + timedelta(hours=1))
    assert d.status == PENDING and d.language == "tr" and d.next_attempt_at == NOW + timedelta(hours=1)
    with pytest.raises(Conflict) as err:
        d.address("x@acme.test", "en", CONTENT, now=NOW)
    assert err.value.extra["current_status"] == PENDING


def test_success_marks_sent_once():
    d = delivery()
    d.succeeded(NOW)
    assert d.status == SENT and d.attempts == 1 and d.sent_at == NOW
    assert d.events[-1] == EmailSent(
        delivery_id=d.id, account_id="acme", template="request_received", cause_event_id=d.cause_event_id, sent_at=NOW
    )
    with pytest.raises(InvalidTransition) as err:
        d.succeeded(NOW)
    assert err.value.status_code == 409 and err.value.extra["current_status"] == "sent"
    assert [type(e) for e in d.events] == [DeliveryAddressed, EmailSent] and d.attempts == 1


def test_failures_back_off_then_fail_and_say_so():
    policy = RetryPolicy(max_attempts=3, base=timedelta(seconds=10))
    d = delivery()
    d.attempt_failed("ConnectionRefusedError", NOW, policy)
    assert d.status == PENDING and d.attempts == 1 and d.next_attempt_at == NOW + timedelta(seconds=10)
    assert not d.is_due(NOW + timedelta(seconds=9)) and d.is_due(NOW + timedelta(seconds=10))
    d.attempt_failed("ConnectionRefusedError", NOW, policy)
    assert d.next_attempt_at == NOW + timedelta(seconds=20)
    assert [type(e) for e in d.events] == [DeliveryAddressed, AttemptFailed, AttemptFailed]
    d.attempt_failed("ConnectionRefusedError", NOW, policy)
    assert d.status == FAILED and d.attempts == 3 and d.failed_at == NOW
    assert d.events[-1] == EmailFailed(
        delivery_id=d.id,
        account_id="acme",
        template="request_received",
        cause_event_id=d.cause_event_id,
        error="ConnectionRefusedError",
        attempts=3,
        failed_at=NOW,
    )
    assert d.last_error == "ConnectionRefusedError" and d.next_attempt_at is None


def test_permanent_failure_gives_up_at_once():
    d = delivery()
    d.attempt_failed("recipient refused (550)", NOW, RetryPolicy(), permanent=True)
    assert d.status == FAILED and d.attempts == 1


def test_retry_makes_a_failed_delivery_pending_with_fresh_attempts():
    d = delivery()
    d.attempt_failed("x", NOW, RetryPolicy(max_attempts=1))
    d.retry(NOW + timedelta(minutes=5))
    assert d.status == PENDING and d.attempts == 0 and d.is_due(NOW + timedelta(minutes=5))
    assert d.failed_at is None and d.last_error == "x"
    assert d.events[-1] == DeliveryRetried(delivery_id=d.id, at=NOW + timedelta(minutes=5))


@pytest.mark.parametrize(
    "make",
    [
        lambda: delivery(),
        lambda: delivery(address=None, content=None),
    ],
)
def test_only_failed_deliveries_can_be_retried(make):
    d = make()
    with pytest.raises(Conflict) as err:
        d.retry(NOW)
    assert err.value.extra["current_status"] == d.status


def test_waiting_delivery_cannot_be_attempted():
    d = delivery(address=None, content=None)
    with pytest.raises(Conflict):
        d.attempt_failed("x", NOW, RetryPolicy())


# -- backoff -----------------------------------------------------------------------------


def test_backoff_doubles_up_to_the_cap():
    policy = RetryPolicy(max_attempts=8, base=timedelta(seconds=30), cap=timedelta(minutes=10))
    assert [int(d.total_seconds()) for d in policy.schedule()] == [30, 60, 120, 240, 480, 600, 600]


def test_default_schedule_from_settings():
    policy = NotifySettings().retry_policy()
    assert policy.max_attempts == 6
    assert [int(d.total_seconds()) for d in policy.schedule()] == [30, 60, 120, 240, 480]


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("SMTP_HOST", "mail.internal")
    monkeypatch.setenv("SMTP_PORT", "2525")
    monkeypatch.setenv("SEND_MAX_ATTEMPTS", "2")
    s = NotifySettings()
    assert (s.smtp_host, s.smtp_port, s.retry_policy().max_attempts) == ("mail.internal", 2525, 2)


@pytest.mark.parametrize("kw", [{"max_attempts": 0}, {"factor": 0.5}, {"base": timedelta(seconds=-1)}])
def test_a_shrinking_or_empty_policy_is_refused(kw):
    with pytest.raises(ValueError):
        RetryPolicy(**kw)
