"""The order manager's emails (issue 15) as deliveries, through notify's consumer on a real PostgreSQL
(no Kafka): shipped, partially shipped and cancelled go to the account's confirmed address in its
language; a message in an order's thread goes to the other side (the business's to the account, the
customer's to BUSINESS_EMAIL in BUSINESS_LANGUAGE, at once); one email per shipment, cancelled order and
message however often, and by however many events, it is told; customers never see the business's email."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from notify_samples import AT, profile
from order_manager_samples import ORDER, first_shipment, last_shipment, message, order_cancelled
from sqlalchemy import select

from notify import consumers
from notify.adapters.causes import cause_of
from notify.adapters.events import to_contract
from notify.adapters.repository import NotifyUnitOfWork
from notify.adapters.smtp import build_message
from notify.adapters.tables import DeliveryRow
from notify.adapters.templates import TemplateRenderer
from notify.domain.deliveries import RetryPolicy
from notify.domain.recipients import CONFIRMATION_TEMPLATE, Recipient
from notify.service.confirmations import Confirmations
from notify.service.deliveries import DeliveryService
from notify.service.inbound import Inbound
from notify.service.sending import Sender
from notify.settings import NotifySettings
from portal_contracts import Envelope
from portal_runtime.auth import Principal
from portal_runtime.clock import FrozenClock
from portal_runtime.consumer import EventConsumer
from portal_runtime.errors import NotFound
from portal_runtime.outbox import Outbox
from portal_runtime.uow import UnitsOfWork

POLICY = RetryPolicy(max_attempts=3, base=timedelta(seconds=10), cap=timedelta(minutes=5))
PORTAL = "https://portal.example.test"
DESK = ("desk@business.test", "pl")  # BUSINESS_EMAIL, BUSINESS_LANGUAGE
CUSTOMER = Principal(user_id="ayla", account_id="acme", role="customer")
ADMIN = Principal(user_id="admin", account_id="admin", role="admin")


class FakeTransport:
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
def renderer():
    return TemplateRenderer(portal_url=PORTAL)


@pytest.fixture
def inbound(units, renderer, clock):
    return Inbound(units, renderer, clock, portal_url=PORTAL, business=DESK)


@pytest.fixture
def consumer(sessions, units, inbound, clock) -> EventConsumer:
    found = EventConsumer(
        service="notify", sessions=sessions, broker=None, outbox=units.outbox, units=units, clock=clock
    )
    consumers.register(found, inbound)
    return found


def wrap(event) -> Envelope:
    return Envelope.wrap(event, producer="test", occurred_at=AT)


async def handle(consumer: EventConsumer, envelope: Envelope) -> None:
    """As the event comes off its topic (the runtime's inbox dedups by event id first)."""
    await consumer.handle(envelope.model_dump_json().encode(), None)


async def rows(sessions, *where) -> list[DeliveryRow]:
    async with sessions() as s:
        return list(await s.scalars(select(DeliveryRow).where(*where).order_by(DeliveryRow.created_at)))


async def known(units, language: str) -> None:
    async with units() as uow:
        uow.recipients.add(Recipient("acme", language, AT, email="ops@acme.test", confirmed_at=AT))
        await uow.commit()


async def test_each_email_goes_to_the_account_once_however_often_and_by_however_many_events_it_is_told(
    sessions, units, consumer
):
    await known(units, "de")
    told = [first_shipment(), last_shipment(), order_cancelled(settlement="refund"), message("business")]
    for event in told:
        envelope = wrap(event)
        await handle(consumer, envelope)
        await handle(consumer, envelope)  # delivered twice
        await handle(consumer, wrap(event))  # and told again by another event (another event id)
    await handle(consumer, wrap(order_cancelled(number=None, order_id=uuid.uuid4())))  # before the order manager
    found = sorted(
        (r.template, r.cause_type, r.recipient, r.language, r.audience, r.status) for r in await rows(sessions)
    )
    assert found == [
        ("order_cancelled", "OrderCancelled", "ops@acme.test", "de", "account", "pending"),
        ("order_message", "OrderMessagePosted", "ops@acme.test", "de", "account", "pending"),
        ("order_partially_shipped", "OrderShipped", "ops@acme.test", "de", "account", "pending"),
        ("order_shipped", "OrderShipped", "ops@acme.test", "de", "account", "pending"),
    ]
    subjects = {r.template: r.subject for r in await rows(sessions)}
    assert subjects == {
        "order_partially_shipped": "Ein Teil Ihrer Bestellung ORD-2026-0042 wurde versandt",
        "order_shipped": "Ihre Bestellung ORD-2026-0042 wurde versandt",
        "order_cancelled": "Ihre Bestellung ORD-2026-0042 wurde storniert",
        "order_message": "Neue Nachricht zu Ihrer Bestellung ORD-2026-0042",
    }
    [cancelled] = await rows(sessions, DeliveryRow.template == "order_cancelled")
    assert "Der gezahlte Betrag wird Ihnen erstattet." in cancelled.text_body
    assert {r.dedup_key for r in await rows(sessions)} == {
        f"shipment:{first_shipment().shipment_id}",
        f"shipment:{last_shipment().shipment_id}",
        f"order-cancelled:{ORDER}",
        f"order-message:{message().message_id}",
    }


async def test_the_customers_message_goes_to_the_business_at_once_in_its_language_and_once(
    sessions, units, consumer, clock
):
    envelope = wrap(message("customer", author_name="Ayla Yılmaz"))
    await handle(consumer, envelope)
    await handle(consumer, envelope)
    await handle(consumer, wrap(message("customer", author_name="Ayla Yılmaz")))
    # the account is not known yet: the business's email does not wait for it
    [row] = await rows(sessions)
    assert (row.template, row.audience, row.recipient, row.language, row.status, row.account_id) == (
        "order_message",
        "business",
        "desk@business.test",
        "pl",
        "pending",
        "acme",
    )
    assert row.subject == "Nowa wiadomość od klienta acme w sprawie zamówienia ORD-2026-0042"
    assert row.dedup_key == f"order-message:{message().message_id}"  # another event telling it is no second email
    transport = FakeTransport(clock)
    assert await Sender(units, clock, transport, POLICY).drain() == 1
    [sent] = transport.sent
    assert sent["To"] == "desk@business.test" and sent["X-Portal-Template"] == "order_message"
    body = sent.get_body(("plain",)).get_content()
    assert "Ayla Yılmaz z konta klienta acme pisze w sprawie zamówienia ORD-2026-0042:" in body
    assert f"{PORTAL}/orders/{ORDER}" in body
    # the business's answer goes to the account, which waits for its profile
    await handle(consumer, wrap(message("business", message_id=uuid.uuid4())))
    answer = [r for r in await rows(sessions) if r.audience == "account"]
    assert [(r.template, r.status, r.recipient) for r in answer] == [("order_message", "waiting_for_recipient", None)]


async def test_customers_do_not_see_the_email_to_the_business_admins_do(sessions, units, inbound, clock):
    await known(units, "en")
    [to_business] = await inbound.email_caused(message("customer"), cause_of(wrap(message("customer"))))
    answer = message("business", message_id=uuid.uuid4())
    [to_account] = await inbound.email_caused(answer, cause_of(wrap(answer)))
    deliveries = DeliveryService(units, clock)
    assert [d.id for d in (await deliveries.list_deliveries(CUSTOMER)).items] == [to_account.id]
    assert {d.id for d in (await deliveries.list_deliveries(ADMIN, account_id="acme")).items} == {
        to_account.id,
        to_business.id,
    }
    with pytest.raises(NotFound):
        await deliveries.get_delivery(CUSTOMER, to_business.id)
    assert (await deliveries.get_delivery(CUSTOMER, to_account.id)).recipient == "ops@acme.test"
    assert (await deliveries.get_delivery(ADMIN, to_business.id)).recipient == "desk@business.test"


async def test_an_email_that_waited_for_the_confirmation_is_rendered_then_with_the_portal_link(
    sessions, units, inbound, renderer, clock
):
    await inbound.email_caused(message("business"), cause_of(wrap(message("business"))))
    await inbound.email_caused(first_shipment(), cause_of(wrap(first_shipment())))
    await inbound.profile_changed(profile("acme", "ops@acme.test", "tr"), cause_of(wrap(profile("acme", "x"))))
    waiting = await rows(sessions, DeliveryRow.template != CONFIRMATION_TEMPLATE)
    assert [r.status for r in waiting] == ["awaiting_confirmation", "awaiting_confirmation"]
    [confirmation] = await rows(sessions, DeliveryRow.template == CONFIRMATION_TEMPLATE)
    await Confirmations(units, renderer, clock).confirm(confirmation.secret)
    released = await rows(sessions, DeliveryRow.template.in_(["order_partially_shipped", "order_message"]))
    assert [(r.status, r.language) for r in released] == [("pending", "tr")] * 2
    by_template = {r.template: r for r in released}
    assert f"{PORTAL}/orders/{ORDER}" in by_template["order_message"].text_body
    assert "Takip numarası: JD014600001" in by_template["order_partially_shipped"].text_body


def test_the_business_address_and_language_are_settings(monkeypatch):
    assert (NotifySettings().business_email, NotifySettings().business_language) == ("orders@portal.invalid", "en")
    monkeypatch.setenv("BUSINESS_EMAIL", " desk@business.test ")
    monkeypatch.setenv("BUSINESS_LANGUAGE", "de")
    assert (NotifySettings().business_email, NotifySettings().business_language) == ("desk@business.test", "de")
    for bad in ({"business_email": "not an address"}, {"business_language": "fr"}):
        with pytest.raises(ValueError):
            NotifySettings(**bad)
