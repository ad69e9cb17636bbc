"""Use cases on a real PostgreSQL (no Kafka): recording deliveries from events, confirming an
address and addressing the waiting ones, and the sender's attempts with a fake SMTP transport and
a frozen clock."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from notify_samples import (
    AT,
    first_part_paid,
    information_requested,
    invoice_issued,
    payment_confirmed,
    profile,
    rejected,
    rest_paid,
    submitted,
    units_purchased,
    units_top_up_failed,
)
from sqlalchemy import func, select
from sqlalchemy import text as text_sql
from sqlalchemy.exc import IntegrityError

from notify import consumers
from notify.adapters.causes import cause_of
from notify.adapters.events import to_contract
from notify.adapters.repository import NotifyUnitOfWork
from notify.adapters.smtp import SendError
from notify.adapters.tables import DeliveryRow, RecipientRow
from notify.adapters.templates import TemplateRenderer
from notify.domain.deliveries import Audience, Delivery, RetryPolicy, Status
from notify.domain.recipients import CONFIRMATION_TEMPLATE, Recipient, digest
from notify.service.confirmations import Confirmations
from notify.service.deliveries import DeliveryService
from notify.service.inbound import Inbound
from notify.service.sending import Sender
from portal_contracts import Envelope
from portal_contracts.events.notify import EmailFailed, EmailSent
from portal_runtime.auth import Principal
from portal_runtime.clock import FrozenClock
from portal_runtime.consumer import EventConsumer
from portal_runtime.db import OutboxRecord
from portal_runtime.errors import Conflict, NotFound
from portal_runtime.outbox import Outbox
from portal_runtime.paging import PageRequest
from portal_runtime.uow import UnitsOfWork

POLICY = RetryPolicy(max_attempts=3, base=timedelta(seconds=10), cap=timedelta(minutes=5))


class FakeTransport:
    def __init__(self, fail: list[SendError | None] | None = None, delay: float = 0) -> None:
        self.sent: list = []
        self.fail = list(fail or [])
        self.delay = delay

    async def send(self, delivery) -> None:
        await asyncio.sleep(self.delay)
        if self.fail:
            error = self.fail.pop(0)
            if error is not None:
                raise error
        self.sent.append(delivery)


@pytest.fixture
def clock():
    return FrozenClock(AT)


@pytest.fixture
def units(sessions, clock) -> UnitsOfWork:
    """notify's units of work on the test database, as the service wires them."""
    return UnitsOfWork(sessions, Outbox("notify", clock), to_contract, NotifyUnitOfWork)


@pytest.fixture
def inbound(units, clock):
    return Inbound(units, TemplateRenderer(), clock)


@pytest.fixture
def confirmations(units, clock):
    return Confirmations(units, TemplateRenderer(), clock)


def wrap(event) -> Envelope:
    return Envelope.wrap(event, producer="test", occurred_at=AT)


async def apply(sessions, inbound, event, envelope: Envelope | None = None):
    """The use case an event's handler calls (here in a unit of work of its own): the recipient it
    took, or the account's delivery it recorded (None when it records none)."""
    if event.event_type == "AccountProfileChanged":
        return await inbound.profile_changed(event, cause_of(envelope or wrap(event)))
    recorded = await inbound.email_caused(event, cause_of(envelope or wrap(event)))
    return recorded[0] if recorded else None


async def rows(sessions, model, *where):
    async with sessions() as s:
        return list(await s.scalars(select(model).where(*where)))


async def known(units, account: str = "acme", email: str = "ops@acme.test", language: str = "en") -> None:
    """An account whose address was confirmed before the test (as a confirmation leaves it)."""
    async with units() as uow:
        uow.recipients.add(Recipient(account, language, AT, email=email, confirmed_at=AT))
        await uow.commit()


async def confirm(sessions, confirmations, address: str):
    """What the reader of `address` does: post back the token its confirmation email carries
    (read here from the delivery's secret, which the sender puts into the email)."""
    [row] = await rows(
        sessions, DeliveryRow, DeliveryRow.template == CONFIRMATION_TEMPLATE, DeliveryRow.recipient == address
    )
    return await confirmations.confirm(row.secret)


async def outbox_events(sessions) -> list[Envelope]:
    return [Envelope.model_validate(r.envelope) for r in await rows(sessions, OutboxRecord)]


async def test_known_recipient_gets_a_rendered_pending_delivery(sessions, units, inbound):
    await known(units, language="de")
    delivery = await apply(sessions, inbound, submitted())
    [row] = await rows(sessions, DeliveryRow)
    assert (row.id, row.status, row.attempts, row.recipient, row.language) == (
        delivery.id,
        "pending",
        0,
        "ops@acme.test",
        "de",
    )
    assert row.subject == "Wir haben Ihre Anfrage erhalten" and "Gesamtbetrag" in row.text_body
    assert row.html_body.startswith("<!DOCTYPE html>") and row.next_attempt_at == AT
    assert row.template == "request_received" and row.cause_type == "RequestSubmitted"


async def test_unknown_recipient_waits_then_awaits_the_confirmation_which_renders_it_in_its_language(
    sessions, inbound, confirmations
):
    await apply(sessions, inbound, submitted())
    await apply(sessions, inbound, rejected())
    await apply(sessions, inbound, submitted(account="other"))
    assert {r.status for r in await rows(sessions, DeliveryRow)} == {"waiting_for_recipient"}
    await apply(sessions, inbound, profile("acme", "ops@acme.test", "pl"))
    waiting = DeliveryRow.template != CONFIRMATION_TEMPLATE
    acme = await rows(sessions, DeliveryRow, DeliveryRow.account_id == "acme", waiting)
    assert {(r.status, r.recipient) for r in acme} == {("awaiting_confirmation", None)}
    await confirm(sessions, confirmations, "ops@acme.test")
    acme = await rows(sessions, DeliveryRow, DeliveryRow.account_id == "acme", waiting)
    assert {(r.status, r.language, r.recipient) for r in acme} == {("pending", "pl", "ops@acme.test")}
    assert {r.subject for r in acme} == {"Otrzymaliśmy Twoje zgłoszenie", "Twoje zgłoszenie zostało odrzucone"}
    [other] = await rows(sessions, DeliveryRow, DeliveryRow.account_id == "other")
    assert other.status == "waiting_for_recipient"


def notify_consumer(sessions, units, inbound, clock) -> EventConsumer:
    """notify's handlers, registered as the service does; fed envelopes as they come off the topic."""
    consumer = EventConsumer(
        service="notify", sessions=sessions, broker=None, outbox=units.outbox, units=units, clock=clock
    )
    consumers.register(consumer, inbound)
    return consumer


async def test_a_payment_in_two_parts_sends_two_emails_and_payment_confirmed_none(
    sessions, units, inbound, confirmations, clock
):
    consumer = notify_consumer(sessions, units, inbound, clock)
    assert ("PaymentReceived", 1) in consumer.handlers and ("PaymentConfirmed", 1) not in consumer.handlers
    assert "billing.invoices" in consumer.topics()  # PaymentConfirmed still comes by, on this topic
    first, rest, confirmed = wrap(first_part_paid()), wrap(rest_paid()), wrap(payment_confirmed())
    changed = wrap(profile("acme", "ops@acme.test", "de"))
    await consumer.handle(changed.model_dump_json().encode(), None)
    await confirm(sessions, confirmations, "ops@acme.test")
    for envelope in (first, rest, confirmed):
        await consumer.handle(envelope.model_dump_json().encode(), None)
    assert consumer.stats == {"applied": 3, "duplicates": 0, "dead_lettered": 0, "ignored": 1, "retried": 0}

    deliveries = {r.cause_event_id: r for r in await rows(sessions, DeliveryRow)}
    assert deliveries.pop(changed.event_id).template == CONFIRMATION_TEMPLATE, "the profile's: its confirmation"
    assert set(deliveries) == {first.event_id, rest.event_id}, "no delivery for PaymentConfirmed"
    partial, settled = deliveries[first.event_id], deliveries[rest.event_id]
    assert {(r.template, r.cause_type, r.status) for r in (partial, settled)} == {
        ("payment_received", "PaymentReceived", "pending")
    }
    assert "Erhaltener Betrag: 500,00\u00a0€" in partial.text_body
    assert "Noch offener Betrag: 734,80\u00a0€" in partial.text_body and "vollständig" not in partial.text_body
    assert "Erhaltener Betrag: 734,80\u00a0€" in settled.text_body
    assert "vollständig bezahlt" in settled.text_body and "offener Betrag" not in settled.text_body


async def test_a_payment_waiting_for_its_recipient_renders_when_its_address_is_confirmed(
    sessions, inbound, confirmations
):
    await apply(sessions, inbound, first_part_paid())
    [row] = await rows(sessions, DeliveryRow)
    assert (row.status, row.template, row.cause_type) == (
        "waiting_for_recipient",
        "payment_received",
        "PaymentReceived",
    )
    await apply(sessions, inbound, profile("acme", "ops@acme.test", "pl"))
    await confirm(sessions, confirmations, "ops@acme.test")
    [row] = await rows(sessions, DeliveryRow, DeliveryRow.template == "payment_received")
    assert row.status == "pending" and row.subject == "Otrzymaliśmy płatność za fakturę INV-2026-0042"
    assert "Otrzymana kwota: 500,00\u00a0€" in row.text_body and "Pozostało do zapłaty: 734,80\u00a0€" in row.text_body


async def test_a_delivery_that_payment_confirmed_caused_before_still_renders_paid_in_full(
    sessions, units, inbound, confirmations
):
    """Recorded while notify still took PaymentConfirmed, waiting for its recipient since."""
    envelope = wrap(payment_confirmed())
    async with units() as uow:
        uow.deliveries.add(
            Delivery.record(account_id="acme", template="payment_received", cause=cause_of(envelope), now=AT)
        )
        await uow.commit()
    await apply(sessions, inbound, profile("acme", "ops@acme.test", "en"))
    await confirm(sessions, confirmations, "ops@acme.test")
    [row] = await rows(sessions, DeliveryRow, DeliveryRow.template == "payment_received")
    assert (row.status, row.subject) == ("pending", "Payment received for invoice INV-2026-0042")
    assert "Amount received: €1,234.80" in row.text_body and "now paid in full" in row.text_body
    assert "Payment method" not in row.text_body


async def test_the_same_cause_twice_records_one_delivery(sessions, units, inbound):
    await known(units)
    event = invoice_issued()
    envelope = wrap(event)
    assert await apply(sessions, inbound, event, envelope) is not None
    assert await apply(sessions, inbound, event, envelope) is None
    assert len(await rows(sessions, DeliveryRow)) == 1


async def test_newest_profile_wins_whatever_the_arrival_order(sessions, inbound, confirmations):
    await apply(sessions, inbound, profile("acme", "new@acme.test", "tr", at=AT + timedelta(hours=1)))
    assert await apply(sessions, inbound, profile("acme", "old@acme.test", "en", at=AT)) is None
    [row] = await rows(sessions, RecipientRow)
    assert (row.confirmation_email, row.language, row.changed_at) == ("new@acme.test", "tr", AT + timedelta(hours=1))
    assert len(await rows(sessions, DeliveryRow)) == 1, "one confirmation: none for the older profile"
    await confirm(sessions, confirmations, "new@acme.test")
    await apply(sessions, inbound, submitted())
    [delivery] = await rows(sessions, DeliveryRow, DeliveryRow.template == "request_received")
    assert (delivery.recipient, delivery.subject) == ("new@acme.test", "Talebinizi aldık")


async def test_sent_delivery_publishes_email_sent_in_the_same_transaction(sessions, units, inbound, clock):
    await known(units)
    delivery = await apply(sessions, inbound, submitted())
    transport = FakeTransport()
    sender = Sender(units, clock, transport, POLICY)
    assert await sender.drain() == 1
    [row] = await rows(sessions, DeliveryRow)
    assert (row.status, row.attempts, row.sent_at) == ("sent", 1, AT)
    assert [d.id for d in transport.sent] == [delivery.id]
    [event] = await outbox_events(sessions)
    sent = event.payload()
    assert isinstance(sent, EmailSent) and sent.delivery_id == delivery.id
    assert sent.cause_event_id == delivery.cause_event_id and event.causation_id == delivery.cause_event_id
    assert event.correlation_id == delivery.correlation_id
    assert await sender.drain() == 0  # nothing is sent twice


async def test_failures_follow_the_backoff_and_end_failed_with_email_failed(sessions, units, inbound, clock):
    await known(units)
    await apply(sessions, inbound, submitted())
    refused = SendError("SMTPConnectError: Error connecting to 127.0.0.1 on port 1")
    sender = Sender(units, clock, FakeTransport([refused] * 3), POLICY)
    assert await sender.drain() == 1
    [row] = await rows(sessions, DeliveryRow)
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 1, AT + timedelta(seconds=10))
    clock.advance(seconds=9)
    assert await sender.drain() == 0, "not due before its backoff ends"
    clock.advance(seconds=1)
    assert await sender.drain() == 1
    [row] = await rows(sessions, DeliveryRow)
    assert (row.attempts, row.next_attempt_at) == (2, clock.now() + timedelta(seconds=20))
    assert await outbox_events(sessions) == []
    clock.advance(seconds=20)
    assert await sender.drain() == 1
    [row] = await rows(sessions, DeliveryRow)
    assert (row.status, row.attempts, row.failed_at) == ("failed", 3, clock.now())
    assert row.last_error == refused.reason
    [event] = await outbox_events(sessions)
    failed = event.payload()
    assert isinstance(failed, EmailFailed) and failed.attempts == 3 and failed.delivery_id == row.id
    assert "ops@acme.test" not in event.model_dump_json()


async def test_a_permanent_refusal_fails_at_once(sessions, units, inbound, clock):
    await known(units)
    await apply(sessions, inbound, submitted())
    transport = FakeTransport([SendError("recipient refused (550)", permanent=True)])
    await Sender(units, clock, transport, POLICY).drain()
    [row] = await rows(sessions, DeliveryRow)
    assert (row.status, row.attempts) == ("failed", 1)


async def test_an_unexpected_transport_error_is_recorded_too(sessions, units, inbound, clock):
    await known(units)
    await apply(sessions, inbound, submitted())

    class Broken:
        async def send(self, delivery):
            raise RuntimeError(f"boom for {delivery.recipient}")

    await Sender(units, clock, Broken(), POLICY).drain()
    [row] = await rows(sessions, DeliveryRow)
    assert row.attempts == 1 and row.last_error == "RuntimeError: boom for <address>"


async def test_parallel_senders_never_send_the_same_delivery(sessions, units, inbound, clock):
    for n in range(6):  # six accounts: one account's emails go out one after the other
        await known(units, f"acme-{n}", f"ops@acme-{n}.test")
        await apply(sessions, inbound, submitted(f"acme-{n}", request_id=uuid.uuid4()))
    transport = FakeTransport(delay=0.05)
    senders = [Sender(units, clock, transport, POLICY) for _ in range(3)]
    counts = await asyncio.gather(*(s.drain() for s in senders))
    assert sum(counts) == 6 and max(counts) < 6, "the work was shared"
    assert len({d.id for d in transport.sent}) == len(transport.sent) == 6
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(OutboxRecord)) == 6


async def test_one_accounts_emails_go_out_in_the_order_of_their_events(sessions, units, inbound, clock):
    await known(units)
    await known(units, "other", "ops@other.test")
    received = await apply(sessions, inbound, submitted())
    clock.advance(seconds=1)
    asked = await apply(sessions, inbound, information_requested())
    clock.advance(seconds=1)
    elsewhere = await apply(sessions, inbound, submitted("other", request_id=uuid.uuid4()))
    transport = FakeTransport([SendError("451 try again later")])
    sender = Sender(units, clock, transport, POLICY)
    # the first email fails and waits out its backoff; the second waits behind it; another
    # account's email is not held up
    assert await sender.drain() == 2
    assert [d.id for d in transport.sent] == [elsewhere.id]
    clock.advance(seconds=10)
    # parallel senders keep the order too
    await asyncio.gather(*(Sender(units, clock, transport, POLICY).drain() for _ in range(3)))
    assert [d.id for d in transport.sent] == [elsewhere.id, received.id, asked.id]


async def test_a_failed_email_does_not_hold_up_the_next_ones(sessions, units, inbound, clock):
    await known(units)
    await apply(sessions, inbound, submitted())
    clock.advance(seconds=1)
    asked = await apply(sessions, inbound, information_requested())
    transport = FakeTransport([SendError("550 message refused", permanent=True)])
    assert await Sender(units, clock, transport, POLICY).drain() == 2
    assert [d.id for d in transport.sent] == [asked.id]


async def test_retry_only_from_failed_and_reads_are_scoped(sessions, units, inbound, clock):
    await known(units)
    delivery = await apply(sessions, inbound, submitted())
    service = DeliveryService(units, clock)
    acme, stranger, admin = (
        Principal("alice", "acme", "customer"),
        Principal("sam", "someone-else", "customer"),
        Principal("olga", "ops", "admin"),
    )
    with pytest.raises(Conflict) as err:
        await service.retry(delivery.id)
    assert err.value.extra["current_status"] == "pending"
    sender = Sender(units, clock, FakeTransport([SendError("x", permanent=True)]), POLICY)
    await sender.drain()
    clock.advance(minutes=1)
    retried = await service.retry(delivery.id)
    assert (retried.status, retried.attempts, retried.next_attempt_at) == ("pending", 0, clock.now())
    assert await sender.drain() == 1
    assert (await service.get_delivery(acme, delivery.id)).status == "sent"
    with pytest.raises(NotFound):
        await service.get_delivery(stranger, delivery.id)
    with pytest.raises(NotFound):
        await service.retry(uuid.uuid4())
    page = await service.list_deliveries(admin, account_id="acme", status=Status.SENT, page=PageRequest(10, 0))
    assert page.total == 1 and page.items[0].id == delivery.id
    assert (await service.list_deliveries(admin, account_id="other", page=PageRequest(10, 0))).total == 0
    assert (await service.list_deliveries(acme, page=PageRequest(10, 0))).total == 1
    assert (await service.list_deliveries(stranger, account_id="acme", page=PageRequest(10, 0))).items == []


# -- confirming an address -------------------------------------------------------------------------


class Mailbox(FakeTransport):
    """A transport that keeps each email's text as its reader sees it (the secret filled in)."""

    def __init__(self, fail: list[SendError | None] | None = None) -> None:
        super().__init__(fail)
        self.texts: dict[str, list[str]] = {}

    async def send(self, delivery) -> None:
        await super().send(delivery)
        self.texts.setdefault(delivery.recipient, []).append(delivery.to_send().text)


async def test_a_new_address_gets_its_confirmation_and_no_table_keeps_the_token_once_it_is_sent(
    sessions, units, inbound, confirmations, clock
):
    await apply(sessions, inbound, profile("acme", "ops@acme.test", "de"))
    [recipient] = await rows(sessions, RecipientRow)
    [delivery] = await rows(sessions, DeliveryRow)
    token = delivery.secret
    assert (recipient.email, recipient.confirmation_email) == (None, "ops@acme.test")
    assert recipient.confirmation_token_hash == digest(token) and recipient.confirmation_expires_at == AT + timedelta(
        hours=48
    )
    assert (delivery.template, delivery.status, delivery.recipient) == (
        CONFIRMATION_TEMPLATE,
        "pending",
        "ops@acme.test",
    )
    assert token not in delivery.text_body + delivery.html_body

    mailbox = Mailbox()
    assert await Sender(units, clock, mailbox, POLICY).drain() == 1
    [text] = mailbox.texts["ops@acme.test"]
    assert f"token={token}" in text
    async with sessions() as s:
        for table in ("recipients", "deliveries", "outbox"):
            dump = await s.scalar(text_sql(f"SELECT string_agg(t::text, ' ') FROM {table} t"))
            assert token not in (dump or ""), f"{table} keeps the token"

    confirmed = await confirmations.confirm(token)
    [recipient] = await rows(sessions, RecipientRow)
    assert (confirmed.email, recipient.email, recipient.confirmed_at) == ("ops@acme.test", "ops@acme.test", AT)
    assert recipient.confirmation_confirmed_at == AT


async def test_a_confirmation_slow_to_be_accepted_holds_up_nothing_sent_to_the_confirmed_address(
    sessions, units, inbound, clock
):
    await known(units, email="old@acme.test")
    await apply(sessions, inbound, profile("acme", "new@acme.test", "en", at=AT + timedelta(minutes=1)))
    clock.advance(seconds=1)
    received = await apply(sessions, inbound, submitted())
    mailbox = Mailbox([SendError("451 greylisted, try again later")])
    assert await Sender(units, clock, mailbox, POLICY).drain() == 2
    assert [d.id for d in mailbox.sent] == [received.id], "sent to the confirmed address meanwhile"
    [confirmation] = await rows(sessions, DeliveryRow, DeliveryRow.template == CONFIRMATION_TEMPLATE)
    assert (confirmation.status, confirmation.attempts, confirmation.secret is not None) == ("pending", 1, True)


async def test_two_confirmations_at_once_release_the_waiting_emails_once(
    sessions, units, inbound, confirmations, clock
):
    await apply(sessions, inbound, profile("acme", "ops@acme.test", "en"))
    await apply(sessions, inbound, submitted())
    clock.advance(seconds=1)
    await apply(sessions, inbound, information_requested())
    [row] = await rows(sessions, DeliveryRow, DeliveryRow.template == CONFIRMATION_TEMPLATE)
    both = await asyncio.gather(confirmations.confirm(row.secret), confirmations.confirm(row.secret))
    assert {(r.email, r.confirmed_at) for r in both} == {("ops@acme.test", AT + timedelta(seconds=1))}
    mailbox = Mailbox()
    await Sender(units, clock, mailbox, POLICY).drain()
    assert sorted(d.template for d in mailbox.sent) == sorted(
        [CONFIRMATION_TEMPLATE, "request_received", "information_requested"]
    ), "each once"


# -- prepaid units (issue 13): one event, two recipients ----------------------------------------------


async def test_a_plan_notice_is_one_delivery_per_recipient_however_often_it_comes(sessions, units, inbound, clock):
    await known(units, language="pl")
    consumer = notify_consumer(sessions, units, inbound, clock)
    envelope = wrap(units_top_up_failed())
    for _ in range(2):  # redelivered: the inbox knows it
        await consumer.handle(envelope.model_dump_json().encode(), None)
    assert (consumer.stats["applied"], consumer.stats["duplicates"]) == (1, 1)
    assert await inbound.email_caused(units_top_up_failed(), cause_of(envelope)) == [], "past the inbox too"
    stored = await rows(sessions, DeliveryRow)
    assert sorted((r.audience, r.recipient, r.language, r.status, r.cause_event_id) for r in stored) == [
        ("account", "ops@acme.test", "pl", "pending", envelope.event_id),
        ("billing_contact", "billing@acme.test", "pl", "pending", envelope.event_id),
    ]
    contact = next(r for r in stored if r.audience == "billing_contact")
    assert contact.text_body.startswith("Dzień dobry Berta <Billing>,\n")

    with pytest.raises(IntegrityError):  # the table holds one per event and audience, whoever writes it
        async with units() as uow:
            uow.deliveries.add(
                Delivery.record(
                    account_id="acme",
                    template="units_top_up_failed",
                    cause=cause_of(envelope),
                    now=AT,
                    audience=Audience.BILLING_CONTACT,
                )
            )
            await uow.commit()
    assert len(await rows(sessions, DeliveryRow)) == 2


async def test_a_contacts_email_that_waited_for_the_profile_goes_to_the_contact_in_the_accounts_language(
    sessions, inbound, confirmations
):
    await apply(sessions, inbound, units_purchased(source="plan"))
    assert {(r.audience, r.status) for r in await rows(sessions, DeliveryRow)} == {
        ("account", "waiting_for_recipient"),
        ("billing_contact", "waiting_for_recipient"),
    }
    await apply(sessions, inbound, profile("acme", "ops@acme.test", "de"))
    receipts = DeliveryRow.template == "units_purchased"
    contact, account = sorted(await rows(sessions, DeliveryRow, receipts), key=lambda r: r.audience, reverse=True)
    assert (contact.audience, contact.status, contact.recipient, contact.language) == (
        "billing_contact",
        "pending",
        "billing@acme.test",
        "de",
    )
    assert contact.subject == "Automatische Aufladung: Quittung und Rechnung INV-2026-0200"
    assert (account.status, account.recipient) == ("awaiting_confirmation", None)
    await confirm(sessions, confirmations, "ops@acme.test")
    [account] = await rows(sessions, DeliveryRow, receipts, DeliveryRow.audience == "account")
    assert (account.status, account.recipient, account.subject) == ("pending", "ops@acme.test", contact.subject)
    assert account.text_body.startswith("Guten Tag,\n")
