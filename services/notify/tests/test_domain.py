"""Rules of recipients (an address is mailed only once confirmed) and deliveries, and the backoff
schedule."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from notify.domain.deliveries import SECRET_SLOT, Cause, Content, Delivery, RetryPolicy, Status
from notify.domain.events import (
    AddressConfirmed,
    AttemptFailed,
    ConfirmationRequested,
    DeliveryAddressed,
    DeliveryAwaitsConfirmation,
    DeliveryRetried,
    EmailFailed,
    EmailSent,
)
from notify.domain.recipients import ConfirmationExpired, Recipient, digest
from notify.settings import NotifySettings
from portal_runtime.errors import Conflict, InvalidInput, NotFound
from portal_runtime.lifecycle import InvalidTransition

NOW = datetime(2026, 1, 1, tzinfo=UTC)
CONTENT = Content(subject="s", text="t", html="<p>h</p>")
PENDING, SENT, FAILED, WAITING, AWAITING = Status.PENDING, Status.SENT, Status.FAILED, Status.WAITING, Status.AWAITING


def cause() -> Cause:
    return Cause(
        event_id=uuid.uuid4(), correlation_id=uuid.uuid4(), event_type="RequestSubmitted", version=1, payload={}
    )


VALID = timedelta(hours=48)


def recipient(**over) -> Recipient:
    return Recipient.create(
        **{
            "account_id": "acme",
            "email": "ops@acme.test",
            "language": "de",
            "changed_at": NOW,
            "now": NOW,
            "valid_for": VALID,
            **over,
        }
    )


def token_of(r: Recipient) -> str:
    """The token the recipient asked to mail (its only plain copy besides that email)."""
    [asked] = [e for e in r.events if isinstance(e, ConfirmationRequested)]
    r.events.clear()
    return asked.token


def confirmed(**over) -> Recipient:
    r = recipient(**over)
    assert r.confirm(token_of(r), NOW)
    r.events.clear()
    return r


def change(r: Recipient, email: str, *, after: timedelta = timedelta(seconds=1), language: str = "de") -> bool:
    return r.apply(email=email, language=language, changed_at=r.changed_at + after, now=NOW + after, valid_for=VALID)


def delivery(address=("ops@acme.test", "de"), content=CONTENT) -> Delivery:
    return Delivery.record(
        account_id="acme",
        template="request_received",
        cause=cause(),
        now=NOW,
        address=address,
        content=content,
    )


# -- recipients ----------------------------------------------------------------------------


def test_a_first_address_is_only_asked_to_confirm_and_its_token_is_kept_as_a_digest():
    r = recipient()
    assert (r.email, r.pending_email, r.language) == (None, "ops@acme.test", "de")
    [asked] = r.events
    assert isinstance(asked, ConfirmationRequested)
    assert (asked.email, asked.language, asked.expires_at) == ("ops@acme.test", "de", NOW + VALID)
    assert len(asked.token) >= 43 and asked.token not in repr(asked)
    assert r.confirmation.token_hash == digest(asked.token) != asked.token
    assert r.confirmation.expires_at == NOW + VALID


def test_the_token_confirms_the_address_once_and_again_changes_nothing():
    r = recipient()
    token = token_of(r)
    assert r.confirm(token, NOW + timedelta(hours=1))
    assert (r.email, r.confirmed_at, r.pending_email) == ("ops@acme.test", NOW + timedelta(hours=1), None)
    assert r.events == [AddressConfirmed("acme", NOW + timedelta(hours=1))]
    r.events.clear()
    assert not r.confirm(token, NOW + timedelta(hours=2)), "the same token again: as the first time"
    assert r.confirmed_at == NOW + timedelta(hours=1) and r.events == []


def test_a_change_keeps_the_confirmed_address_until_the_new_one_is_confirmed():
    r = confirmed()
    assert change(r, "new@acme.test", language="pl")
    assert (r.email, r.pending_email, r.language) == ("ops@acme.test", "new@acme.test", "pl")
    token = token_of(r)
    assert r.confirm(token, NOW + timedelta(minutes=5))
    assert (r.email, r.pending_email) == ("new@acme.test", None)


def test_a_newer_change_replaces_the_pending_one_whose_token_stops_working():
    r = confirmed()
    change(r, "first@acme.test")
    first = token_of(r)
    change(r, "second@acme.test", after=timedelta(seconds=2))
    second = token_of(r)
    with pytest.raises(NotFound):
        r.confirm(first, NOW + timedelta(seconds=3))
    assert r.email == "ops@acme.test"
    assert r.confirm(second, NOW + timedelta(seconds=3)) and r.email == "second@acme.test"


def test_the_same_pending_address_again_sends_nothing_until_its_token_expired():
    r = recipient()
    token = token_of(r)
    assert change(r, "ops@acme.test", language="tr"), "taken: the language changed"
    assert r.language == "tr" and r.events == [], "no second confirmation"
    assert change(r, "ops@acme.test", after=VALID + timedelta(seconds=1))
    renewed = token_of(r)
    assert renewed != token and r.confirmation.expires_at == NOW + VALID + timedelta(seconds=1) + VALID
    with pytest.raises(NotFound):
        r.confirm(token, NOW + VALID + timedelta(seconds=2))


def test_the_confirmed_address_again_drops_a_pending_change_and_sends_nothing():
    r = confirmed()
    change(r, "new@acme.test")
    token = token_of(r)
    change(r, "ops@acme.test", after=timedelta(seconds=2))
    assert (r.email, r.pending_email, r.confirmation, r.events) == ("ops@acme.test", None, None, [])
    with pytest.raises(NotFound):
        r.confirm(token, NOW + timedelta(seconds=3))


def test_an_expired_token_is_410_and_changes_nothing():
    r = recipient()
    token = token_of(r)
    with pytest.raises(ConfirmationExpired) as err:
        r.confirm(token, NOW + VALID)
    assert err.value.status_code == 410 and err.value.extra["expired_at"] == (NOW + VALID).isoformat()
    assert (r.email, r.pending_email, r.events) == (None, "ops@acme.test", [])


def test_an_unknown_token_is_404():
    with pytest.raises(NotFound):
        recipient().confirm("not-the-token", NOW)
    with pytest.raises(NotFound):
        Recipient(account_id="acme", language="de", changed_at=NOW, email="ops@acme.test").confirm("x", NOW)


def test_newer_profile_wins_older_and_equal_are_ignored():
    r = confirmed()
    assert change(r, "new@acme.test", language="pl")
    assert not r.apply(email="old@acme.test", language="en", changed_at=NOW, now=NOW, valid_for=VALID)
    assert not change(r, "same@acme.test", after=timedelta(0), language="en")
    assert (r.pending_email, r.language, r.changed_at) == ("new@acme.test", "pl", NOW + timedelta(seconds=1))


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
    r = confirmed()
    with pytest.raises(InvalidInput):
        change(r, "broken", after=timedelta(days=1), language="en")
    assert (r.email, r.language, r.changed_at, r.pending_email) == ("ops@acme.test", "de", NOW, None)


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


def test_a_delivery_awaiting_the_confirmation_is_never_due_and_is_addressed_on_it():
    d = delivery(address=None, content=None)
    d.await_confirmation(NOW)
    assert d.status == AWAITING and not d.is_due(NOW) and d.recipient is None
    assert d.events == [DeliveryAwaitsConfirmation(d.id, "acme", NOW)]
    with pytest.raises(InvalidTransition):
        d.succeeded(NOW)
    d.address("ops@acme.test", "pl", CONTENT, now=NOW + timedelta(days=1))
    assert d.status == PENDING and d.is_due(NOW + timedelta(days=1)) and d.language == "pl"
    with pytest.raises(InvalidTransition):
        d.await_confirmation(NOW)


def test_a_secret_is_put_in_its_slot_only_as_the_email_is_handed_over_and_forgotten_once_sent():
    content = Content(subject="s", text=f"code: {SECRET_SLOT}", html=f'<a href="https://p.test/?t={SECRET_SLOT}">')
    d = Delivery.record(
        account_id="acme",
        template="email_confirmation",
        cause=cause(),
        now=NOW,
        address=("new@acme.test", "en"),
        content=content,
        secret="s3cr3t-token",
    )
    assert "s3cr3t-token" not in d.text + d.html + repr(d), "the stored rendering holds the slot only"
    sent = d.to_send()
    assert (sent.text, sent.html) == ("code: s3cr3t-token", '<a href="https://p.test/?t=s3cr3t-token">')
    d.attempt_failed("451 later", NOW, RetryPolicy())
    assert d.secret == "s3cr3t-token", "kept for the next attempt"
    d.succeeded(NOW)
    assert d.secret is None and d.text == f"code: {SECRET_SLOT}"
    assert delivery().to_send() == CONTENT, "an email without a secret is sent as rendered"


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
    monkeypatch.setenv("EMAIL_CONFIRMATION_HOURS", "24")
    monkeypatch.setenv("EMAIL_CONFIRMATION_URL", "https://portal.example/confirm?t={token}")
    s = NotifySettings()
    assert (s.smtp_host, s.smtp_port, s.retry_policy().max_attempts) == ("mail.internal", 2525, 2)
    assert s.confirming().valid_for == timedelta(hours=24) and s.confirming().link.endswith("?t={token}")


def test_a_confirmation_link_without_the_tokens_place_is_refused():
    with pytest.raises(ValueError, match="token"):
        NotifySettings(email_confirmation_url="https://portal.example/confirm")
    assert NotifySettings().email_confirmation_hours == 48


@pytest.mark.parametrize("kw", [{"max_attempts": 0}, {"factor": 0.5}, {"base": timedelta(seconds=-1)}])
def test_a_shrinking_or_empty_policy_is_refused(kw):
    with pytest.raises(ValueError):
        RetryPolicy(**kw)
