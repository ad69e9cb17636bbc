"""Users as recipients and the B2B emails' delivery rules, on a real PostgreSQL (no Kafka): the
invitation goes to the invited address unconfirmed with its token only as the delivery's secret
(never stored in its cause, never logged); a support request's emails go to its sender once its
address is proven (activation, a confirmation after a change, or the account's confirmed address);
one email per event and per order (a second delivery, OrderPlaced v1 and v2)."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

import pytest
from b2b_samples import (
    TOKEN,
    order_placed_v2,
    quote_sent,
    support_answered,
    support_received,
    user_activated,
    user_contact_changed,
    user_invited,
)
from notify_samples import AT, order_placed
from sqlalchemy import select

from notify import consumers
from notify.adapters.causes import cause_of
from notify.adapters.events import to_contract
from notify.adapters.repository import NotifyUnitOfWork
from notify.adapters.smtp import build_message
from notify.adapters.tables import DeliveryRow, UserRow
from notify.adapters.templates import TemplateRenderer
from notify.domain.deliveries import RetryPolicy
from notify.domain.recipients import CONFIRMATION_TEMPLATE, Recipient
from notify.service.confirmations import Confirmations
from notify.service.inbound import Inbound
from notify.service.sending import Sender
from portal_contracts import Envelope
from portal_runtime.clock import FrozenClock
from portal_runtime.consumer import EventConsumer
from portal_runtime.outbox import Outbox
from portal_runtime.uow import UnitsOfWork

POLICY = RetryPolicy(max_attempts=3, base=timedelta(seconds=10), cap=timedelta(minutes=5))


class FakeTransport:
    """Keeps each email as it is handed over (the secret is put in then, and forgotten once sent)."""

    def __init__(self, clock) -> None:
        self.clock = clock
        self.sent: list = []

    async def send(self, delivery) -> None:
        self.sent.append(build_message(delivery, "Portal <no-reply@portal.test>", self.clock))


@pytest.fixture
def clock():
    return FrozenClock(AT)


@pytest.fixture
def units(sessions, clock) -> UnitsOfWork:
    return UnitsOfWork(sessions, Outbox("notify", clock), to_contract, NotifyUnitOfWork)


@pytest.fixture
def inbound(units, clock):
    return Inbound(units, TemplateRenderer(), clock)


@pytest.fixture
def confirmations(units, clock):
    return Confirmations(units, TemplateRenderer(), clock)


def wrap(event) -> Envelope:
    return Envelope.wrap(event, producer="test", occurred_at=AT)


async def rows(sessions, model, *where):
    async with sessions() as s:
        return list(await s.scalars(select(model).where(*where)))


async def known(units, account: str = "acme", email: str = "ops@acme.test", language: str = "en") -> None:
    async with units() as uow:
        uow.recipients.add(Recipient(account, language, AT, email=email, confirmed_at=AT))
        await uow.commit()


async def handle(consumer: EventConsumer, event, envelope: Envelope | None = None) -> None:
    """As the event comes off its topic (the runtime's inbox dedups by event id first)."""
    await consumer.handle((envelope or wrap(event)).model_dump_json().encode(), None)


def notify_consumer(sessions, units, inbound, clock) -> EventConsumer:
    consumer = EventConsumer(
        service="notify", sessions=sessions, broker=None, outbox=units.outbox, units=units, clock=clock
    )
    consumers.register(consumer, inbound)
    return consumer


async def test_the_invitation_goes_to_the_unconfirmed_address_and_keeps_its_token_only_until_sent(
    sessions, units, inbound, clock, caplog
):
    caplog.set_level(logging.DEBUG)
    consumer = notify_consumer(sessions, units, inbound, clock)
    envelope = wrap(user_invited())
    await handle(consumer, None, envelope)
    await handle(consumer, None, envelope)  # delivered twice: one email
    [row] = await rows(sessions, DeliveryRow)
    assert (row.template, row.status, row.recipient, row.audience) == (
        "portal_access_granted",
        "pending",
        "ayla@acme.test",
        "user",
    )
    assert row.secret == TOKEN
    assert TOKEN not in row.text_body + row.html_body + str(row.cause_payload)
    [user] = await rows(sessions, UserRow)
    assert (user.login, user.email, user.confirmed_email) == ("ayla", "ayla@acme.test", None)
    transport = FakeTransport(clock)
    assert await Sender(units, clock, transport, POLICY).drain() == 1
    [message] = transport.sent
    assert message["X-Portal-Template"] == "portal_access_granted"
    body = message.get_body(("plain",)).get_content()
    assert f"http://127.0.0.1:3000/set-password?token={TOKEN}" in body
    [row] = await rows(sessions, DeliveryRow)
    assert row.status == "sent" and row.secret is None
    assert TOKEN not in caplog.text


async def test_without_a_token_the_invitation_says_to_sign_in_and_has_no_secret(sessions, inbound):
    delivery = await inbound.user_invited(user_invited(token=None), cause_of(wrap(user_invited(token=None))))
    assert delivery.secret is None and "set-password" not in delivery.text


async def test_a_support_email_waits_for_the_invited_address_until_the_user_activates(sessions, units, inbound):
    await inbound.user_invited(user_invited(language="de"), cause_of(wrap(user_invited())))
    [received] = await inbound.email_caused(support_received("de"), cause_of(wrap(support_received("de"))))
    assert (received.status, received.recipient, received.pending_address) == (
        "awaiting_confirmation",
        None,
        "ayla@acme.test",
    )
    await inbound.user_activated(user_activated(), cause_of(wrap(user_activated())))
    [row] = await rows(sessions, DeliveryRow, DeliveryRow.template == "support_request_received")
    assert (row.status, row.recipient, row.language) == ("pending", "ayla@acme.test", "de")
    assert row.subject == "Wir haben Ihre Supportanfrage SR-000001 erhalten"
    # the user is proven now: its next email goes at once
    [answered] = await inbound.email_caused(support_answered("de"), cause_of(wrap(support_answered("de"))))
    assert answered.status == "pending" and answered.recipient == "ayla@acme.test"


async def test_a_sender_with_the_accounts_confirmed_address_is_mailed_at_once(sessions, units, inbound):
    await known(units, email="ops@acme.test")
    event = support_received(email="OPS@acme.test")
    [delivery] = await inbound.email_caused(event, cause_of(wrap(event)))
    assert delivery.status == "pending" and delivery.recipient == "OPS@acme.test"


async def test_a_changed_user_address_is_confirmed_again_before_it_is_mailed(sessions, units, inbound, confirmations):
    await inbound.user_invited(user_invited(), cause_of(wrap(user_invited())))
    await inbound.user_activated(user_activated(), cause_of(wrap(user_activated())))
    later = AT.replace(hour=12)
    changed = user_contact_changed("ayla.new@acme.test", at=later)
    await inbound.user_contact_changed(changed, cause_of(wrap(changed)))
    await inbound.user_contact_changed(changed, cause_of(wrap(changed)))  # a replay asks nothing more
    [confirmation] = await rows(sessions, DeliveryRow, DeliveryRow.template == CONFIRMATION_TEMPLATE)
    assert (confirmation.recipient, confirmation.audience, confirmation.status) == (
        "ayla.new@acme.test",
        "user",
        "pending",
    )
    event = support_answered(email="ayla.new@acme.test")
    [waiting] = await inbound.email_caused(event, cause_of(wrap(event)))
    assert waiting.status == "awaiting_confirmation"
    await confirmations.confirm(confirmation.secret)
    [row] = await rows(sessions, DeliveryRow, DeliveryRow.template == "support_request_answered")
    assert (row.status, row.recipient) == ("pending", "ayla.new@acme.test")
    [user] = await rows(sessions, UserRow)
    assert user.confirmed_email == "ayla.new@acme.test"
    older = user_contact_changed("old@acme.test", at=AT)
    await inbound.user_contact_changed(older, cause_of(wrap(older)))  # older than what we hold: ignored
    [user] = await rows(sessions, UserRow)
    assert user.email == "ayla.new@acme.test"


async def test_quotes_and_orders_go_to_the_account_once_per_event_and_per_order(sessions, units, inbound, clock):
    await known(units, language="pl")
    consumer = notify_consumer(sessions, units, inbound, clock)
    quote = wrap(quote_sent())
    await handle(consumer, None, quote)
    await handle(consumer, None, quote)
    v2 = order_placed_v2(source="cart", order_id=order_placed().order_id)
    await handle(consumer, order_placed())  # the same order, told by v1 ...
    await handle(consumer, v2)  # ... and by v2: one email
    await handle(consumer, order_placed_v2("renewal", order_id=uuid.uuid4()))  # told by its invoice
    other = order_placed_v2("reorder", order_id=uuid.uuid4())
    await handle(consumer, other)
    await handle(consumer, other)
    found = sorted((r.template, r.cause_type, r.cause_version, r.recipient) for r in await rows(sessions, DeliveryRow))
    assert found == [
        ("order_received", "OrderPlaced", 1, "ops@acme.test"),
        ("order_received", "OrderPlaced", 2, "ops@acme.test"),
        ("quote_sent", "QuoteSent", 1, "ops@acme.test"),
    ]
    orders = await rows(sessions, DeliveryRow, DeliveryRow.template == "order_received")
    assert {r.dedup_key for r in orders} == {f"order:{order_placed().order_id}", f"order:{other.order_id}"}
