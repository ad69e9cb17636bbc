"""The emails of returns and the account's money (issue 16) as deliveries, through notify's consumer on a
real PostgreSQL (no Kafka): each goes to the account's confirmed address in its language, once per RMA step,
goods receipt, credit note and statement however often (and by however many events) it is told; each move
of the expected date is an email of its own; a cancelled order's credit note and an unnumbered RMA request
cause none; an email that waited for the account's address is rendered when the address is confirmed."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from notify_samples import profile
from returns_finance_samples import (
    AT,
    CREDIT_NOTE,
    FIRST_RECEIPT,
    LAST_RECEIPT,
    RMA,
    STATEMENT,
    credit_note_issued,
    expected_date_changed,
    goods_received,
    return_approved,
    return_rejected,
    return_requested,
    statement_issued,
)
from sqlalchemy import select

from notify import consumers
from notify.adapters.causes import cause_of
from notify.adapters.events import to_contract
from notify.adapters.repository import NotifyUnitOfWork
from notify.adapters.tables import DeliveryRow
from notify.adapters.templates import TemplateRenderer
from notify.domain.recipients import CONFIRMATION_TEMPLATE, Recipient
from notify.service.confirmations import Confirmations
from notify.service.inbound import Inbound
from portal_contracts import Envelope
from portal_runtime.clock import FrozenClock
from portal_runtime.consumer import EventConsumer
from portal_runtime.outbox import Outbox
from portal_runtime.uow import UnitsOfWork

PORTAL = "https://portal.example.test"


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
    return Inbound(units, renderer, clock, portal_url=PORTAL)


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
    told = [
        return_requested(),
        return_approved("credit"),
        return_rejected(),
        expected_date_changed(),
        goods_received("first"),
        goods_received("last"),
        credit_note_issued("credit", applied="0.00", rest="724.70"),
        statement_issued(),
    ]
    for event in told:
        envelope = wrap(event)
        await handle(consumer, envelope)
        await handle(consumer, envelope)  # delivered twice
        await handle(consumer, wrap(event))  # and told again by another event (another event id)
    await handle(consumer, wrap(return_requested(number=None)))  # before RMAs were numbered: none
    await handle(consumer, wrap(credit_note_issued(reason="cancelled_order", credit_note_id=uuid.uuid4())))
    found = sorted(
        (r.template, r.cause_type, r.recipient, r.language, r.audience, r.status) for r in await rows(sessions)
    )
    assert found == [
        ("credit_note_issued", "CreditNoteIssued", "ops@acme.test", "de", "account", "pending"),
        ("goods_received", "GoodsReceived", "ops@acme.test", "de", "account", "pending"),
        ("goods_received", "GoodsReceived", "ops@acme.test", "de", "account", "pending"),
        ("rma_approved", "ReturnApproved", "ops@acme.test", "de", "account", "pending"),
        ("rma_expected_date_changed", "ReturnExpectedDateChanged", "ops@acme.test", "de", "account", "pending"),
        ("rma_received", "ReturnRequested", "ops@acme.test", "de", "account", "pending"),
        ("rma_rejected", "ReturnRejected", "ops@acme.test", "de", "account", "pending"),
        ("statement_issued", "StatementIssued", "ops@acme.test", "de", "account", "pending"),
    ]
    subjects = {r.dedup_key: r.subject for r in await rows(sessions)}
    assert subjects == {
        f"rma-requested:{RMA}": "Wir haben Ihre Rücksendeanfrage RMA-2026-000001 erhalten",
        f"rma-approved:{RMA}": "Ihre Rücksendeanfrage RMA-2026-000001 wurde genehmigt",
        f"rma-rejected:{RMA}": "Ihre Rücksendeanfrage RMA-2026-000001 wurde abgelehnt",
        f"rma-expected-date:{RMA}:{AT.isoformat()}": "Neuer voraussichtlicher Abschluss Ihrer Rücksendeanfrage "
        "RMA-2026-000001",
        f"goods-receipt:{FIRST_RECEIPT}": "Ware zu Ihrer Rücksendeanfrage RMA-2026-000001 erhalten",
        f"goods-receipt:{LAST_RECEIPT}": "Ware zu Ihrer Rücksendeanfrage RMA-2026-000001 erhalten",
        f"credit-note:{CREDIT_NOTE}": "Gutschrift CN-2026-000007 zur Rechnung INV-2026-000042",
        f"statement:{STATEMENT}": "Saldenbestätigung ST-2026-000003",
    }
    [approved] = await rows(sessions, DeliveryRow.template == "rma_approved")
    assert "Voraussichtlicher Abschluss: 15. Februar 2026" in approved.text_body
    [credited] = await rows(sessions, DeliveryRow.template == "credit_note_issued")
    assert "Gesamtbetrag inkl. Steuer: 724,70\u00a0€" in credited.text_body


async def test_each_move_of_the_expected_date_is_its_own_email(sessions, units, consumer):
    await known(units, "en")
    first = expected_date_changed()
    second = expected_date_changed(at=AT + timedelta(days=3)).model_copy(
        update={"previous_expected_on": first.expected_on, "expected_on": first.expected_on + timedelta(days=7)}
    )
    for event in (first, second, second):
        await handle(consumer, wrap(event))
    texts = [r.text_body for r in await rows(sessions, DeliveryRow.template == "rma_expected_date_changed")]
    assert len(texts) == 2
    assert "from February 15, 2026 to March 1, 2026." in texts[0]
    assert "from March 1, 2026 to March 8, 2026." in texts[1]


async def test_emails_that_waited_for_the_confirmation_are_rendered_then_in_the_accounts_language(
    sessions, units, inbound, renderer, clock
):
    for event in (credit_note_issued("refund", applied="500.00", rest="224.70"), statement_issued("-20.00")):
        await inbound.email_caused(event, cause_of(wrap(event)))
    assert [r.status for r in await rows(sessions)] == ["waiting_for_recipient"] * 2
    await inbound.profile_changed(profile("acme", "ops@acme.test", "pl"), cause_of(wrap(profile("acme", "x"))))
    [confirmation] = await rows(sessions, DeliveryRow.template == CONFIRMATION_TEMPLATE)
    await Confirmations(units, renderer, clock).confirm(confirmation.secret)
    templates = ["credit_note_issued", "statement_issued"]
    released = {r.template: r for r in await rows(sessions, DeliveryRow.template.in_(templates))}
    assert {(r.status, r.language, r.recipient) for r in released.values()} == {("pending", "pl", "ops@acme.test")}
    credit_note = released["credit_note_issued"].text_body
    assert "Razem z podatkiem: 724,70\u00a0€" in credit_note
    assert "Kwota 224,70\u00a0€ zostanie Ci zwrócona." in credit_note
    assert "Saldo końcowe 20,00\u00a0€ jest na Twoją korzyść." in released["statement_issued"].text_body
