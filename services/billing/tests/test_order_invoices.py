"""Client-area orders' invoices on the fake unit of work (`billing_testkit`): one invoice per order
(cart: source kind order, due the business date; renewal: source kind renewal, due the order's
due date), voided when the order is cancelled unless paid in full, also when the cancellation
comes first or while a payment is in flight; a voided invoice takes no payment (409). What was
paid comes back in a credit note (in detail: `test_credit_notes_service`)."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from billing_testkit import HOSTING, SSL, FakeBillingUnitOfWork, FakeBillingUnitsOfWork, order_cancelled, order_placed

from billing.adapters.gateway import InMemorySandboxGateway
from billing.consumers import orders
from billing.consumers.orders import cancellation, order_command
from billing.domain.cards import Card
from billing.domain.invoices import Status
from billing.domain.orders import VOIDED_BY
from billing.domain.payments import PaymentRequest
from billing.http.invoices import render
from billing.service.invoices import BillingService
from billing.settings import BillingSettings
from portal_contracts import Envelope
from portal_contracts.events.billing import (
    CreditNoteIssued,
    InvoiceIssued,
    InvoiceIssuedV2,
    InvoiceVoided,
    PaymentConfirmed,
    PaymentReceived,
)
from portal_contracts.events.orders import OrderPlaced
from portal_runtime.auth import Principal
from portal_runtime.clock import FrozenClock
from portal_runtime.consumer import Incoming
from portal_runtime.lifecycle import InvalidTransition
from portal_runtime.paging import PageRequest

# 23:30 UTC on 20 March is already 21 March in Berlin: a cart order's invoice is due that day.
NOW = datetime(2026, 3, 20, 23, 30, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
ACME = Principal("alice", "acme", "customer")
OPS = Principal("olga", "ops", "admin")


@pytest.fixture
def uow() -> FakeBillingUnitOfWork:
    return FakeBillingUnitOfWork()


@pytest.fixture
def gateway() -> InMemorySandboxGateway:
    return InMemorySandboxGateway()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def billing(uow, gateway, clock) -> BillingService:
    return BillingService(FakeBillingUnitsOfWork(uow), clock, gateway, BillingSettings().payee(), BERLIN)


def card(invoice_id: uuid.UUID, amount: str) -> PaymentRequest:
    number = Card.parse(number="4242424242424242", expiry_month=12, expiry_year=2030, cvc="123", today=NOW.date())
    return PaymentRequest(
        invoice_id=invoice_id,
        method="card",
        amount=Decimal(amount),
        currency="EUR",
        payer_reference="acme",
        card=number,
    )


def transfer(invoice_id: uuid.UUID, amount: str) -> PaymentRequest:
    return PaymentRequest(
        invoice_id=invoice_id, method="bank_transfer", amount=Decimal(amount), currency="EUR", payer_reference="bank #1"
    )


async def placed(billing, uow, event: OrderPlaced):
    invoice = await billing.invoice_order(order_command(event))
    uow.published.clear()
    return invoice


# -- issuing ------------------------------------------------------------------------------------
async def test_a_cart_order_is_invoiced_with_its_lines_services_and_periods(billing, uow):
    event = order_placed("acme")
    invoice = await billing.invoice_order(order_command(event))
    assert (invoice.source.kind, invoice.source.id, invoice.request_id) == ("order", str(event.order_id), None)
    assert invoice.due_on == date(2026, 3, 21)  # the business date in Berlin, not UTC's 20th
    assert (invoice.total, invoice.status, uow.invoices.rows[invoice.id].status) == (
        Decimal("27.50"),
        Status.ISSUED,
        Status.ISSUED,
    )
    v1, v2 = uow.published
    assert isinstance(v1, InvoiceIssued) and v1.request_id is None and v1.due_on == date(2026, 3, 21)
    assert isinstance(v2, InvoiceIssuedV2) and (v2.source_kind, v2.source_id) == ("order", str(event.order_id))
    hosting, ssl = v2.lines
    order_hosting, order_ssl = event.lines
    assert (hosting.description, hosting.item_id, hosting.sku, hosting.line_total.amount) == (
        "Web hosting (shop.example)",
        HOSTING,
        "HOST-M",
        Decimal("20.00"),
    )
    assert (hosting.subscription_id, hosting.period_start, hosting.period_end) == (
        order_hosting.subscription_id,
        date(2026, 3, 20),
        date(2026, 4, 20),
    )
    # The prorated add-on: its unit price is the cycle's, its total the order's amount.
    assert (ssl.description, ssl.item_id, ssl.unit_price.amount, ssl.line_total.amount) == (
        "Advanced SSL",
        SSL,
        Decimal("12.00"),
        Decimal("7.50"),
    )
    assert ssl.subscription_id == order_ssl.subscription_id and v2.total.amount == Decimal("27.50")


async def test_a_renewal_order_is_invoiced_as_a_renewal_due_on_its_due_date(billing, uow):
    event = order_placed("acme", source="renewal", due_on=date(2026, 4, 3))
    invoice = await billing.invoice_order(order_command(event))
    assert (invoice.source.kind, invoice.source.id, invoice.due_on) == (
        "renewal",
        str(event.order_id),
        date(2026, 4, 3),
    )
    _, v2 = uow.published
    assert v2.source_kind == "renewal" and v2.due_on == date(2026, 4, 3)
    assert [line.description for line in v2.lines] == [
        "Web hosting (shop.example), 2026-04-03 – 2026-05-02",
        "Advanced SSL, 2026-04-03 – 2026-05-02",
    ]
    assert [(line.period_start, line.period_end) for line in v2.lines] == [(date(2026, 4, 3), date(2026, 5, 3))] * 2


async def test_a_second_order_placed_for_one_order_makes_no_second_invoice(billing, uow):
    event = order_placed("acme")
    first = await placed(billing, uow, event)
    again = event.model_copy(update={"placed_at": NOW})  # told again (another event id)
    assert await billing.invoice_order(order_command(again)) is None
    assert list(uow.invoices.rows) == [first.id] and uow.published == [] and uow.invoices.counters == {2026: 1}


async def test_invoices_are_listed_by_source_kind(billing, uow):
    cart = await placed(billing, uow, order_placed("acme"))
    renewal = await placed(billing, uow, order_placed("acme", source="renewal", due_on=date(2026, 4, 3)))
    page = PageRequest(10, 0)
    every = await billing.list_invoices(ACME, account_id=None, status=None, page=page)
    assert [i.id for i in every.items] == [renewal.id, cart.id]  # the newest number first
    only = await billing.list_invoices(ACME, account_id=None, status=None, page=page, source_kind="renewal")
    assert [(i.id, i.source.kind) for i in only.items] == [(renewal.id, "renewal")] and only.total == 1


# -- voiding ------------------------------------------------------------------------------------
async def test_a_cancelled_orders_unpaid_invoice_is_voided_once_with_a_history_row(billing, uow, clock):
    event = order_placed("acme")
    invoice = await placed(billing, uow, event)
    clock.advance(days=14)
    voided = await billing.cancel_order(cancellation(order_cancelled(event, "unpaid")))
    assert voided.id == invoice.id and uow.invoices.rows[invoice.id].status == Status.VOIDED
    assert uow.published == [
        InvoiceVoided(
            invoice_id=invoice.id,
            number=invoice.number,
            account_id="acme",
            source_kind="order",
            source_id=str(event.order_id),
            reason="unpaid",
            voided_at=clock.now(),
        )
    ]
    [(invoice_id, step)] = uow.invoices.history
    assert (invoice_id, step.from_status, step.to_status, step.by, step.note, step.at) == (
        invoice.id,
        Status.ISSUED,
        Status.VOIDED,
        VOIDED_BY,
        "unpaid",
        clock.now(),
    )
    uow.published.clear()
    assert await billing.cancel_order(cancellation(order_cancelled(event, "admin"))) is None  # told again
    assert uow.published == [] and len(uow.invoices.history) == 1


async def test_a_partly_paid_invoice_is_voided_and_keeps_its_payment(billing, uow):
    event = order_placed("acme", source="renewal", due_on=date(2026, 4, 3))
    invoice = await placed(billing, uow, event)
    await billing.pay(card(invoice.id, "10.00"), caller=ACME, idempotency_key="p1", render=render)
    uow.published.clear()
    await billing.cancel_order(cancellation(order_cancelled(event, "terminated")))
    stored = uow.invoices.rows[invoice.id]
    assert (stored.status, stored.amount_paid, len(stored.payments)) == (Status.VOIDED, Decimal("10.00"), 1)
    voided, credited = uow.published  # what was paid comes back (`test_credit_notes_service`)
    assert isinstance(voided, InvoiceVoided) and (voided.source_kind, voided.reason) == ("renewal", "terminated")
    assert isinstance(credited, CreditNoteIssued) and credited.total.amount == Decimal("10.00")


async def test_a_paid_invoice_is_not_voided_but_credited(billing, uow, caplog):
    event = order_placed("acme")
    invoice = await placed(billing, uow, event)
    await billing.pay(card(invoice.id, "27.50"), caller=ACME, idempotency_key="all", render=render)
    uow.published.clear()
    with caplog.at_level(logging.INFO, logger="billing.service.orders"):
        assert await billing.cancel_order(cancellation(order_cancelled(event))) is None
    assert uow.invoices.rows[invoice.id].status == Status.PAID and uow.invoices.history == []
    assert [type(e) for e in uow.published] == [CreditNoteIssued]
    assert "is paid: not voided, credited" in caplog.text


async def test_a_cancellation_before_the_invoice_voids_it_as_it_is_issued(billing, uow):
    event = order_placed("acme")
    assert await billing.cancel_order(cancellation(order_cancelled(event, "admin"))) is None
    assert uow.invoices.rows == {} and uow.published == [] and event.order_id in uow.cancellations.rows
    invoice = await billing.invoice_order(order_command(event))
    assert uow.invoices.rows[invoice.id].status == Status.VOIDED
    assert [type(e) for e in uow.published] == [InvoiceIssued, InvoiceIssuedV2, InvoiceVoided]
    assert uow.published[-1].reason == "admin" and uow.published[1].lines[0].subscription_id is not None


async def test_a_cancellation_during_a_payment_voids_the_invoice_when_the_payment_ends(billing, uow, gateway):
    event = order_placed("acme")
    invoice = await placed(billing, uow, event)
    charge = gateway.charge_card
    seen = {}

    async def cancelled_meanwhile(**kw):
        seen["voided"] = await billing.cancel_order(cancellation(order_cancelled(event)))
        seen["status"] = uow.invoices.rows[invoice.id].status
        return await charge(**kw)

    gateway.charge_card = cancelled_meanwhile
    answer = await billing.pay(card(invoice.id, "5.00"), caller=ACME, idempotency_key="p", render=render)
    assert seen == {"voided": None, "status": Status.ISSUED}  # held back by the payment in flight
    assert answer.status_code == 201 and answer.body["invoice"]["status"] == "voided"
    stored = uow.invoices.rows[invoice.id]
    assert (stored.status, stored.amount_paid, stored.reservations) == (Status.VOIDED, Decimal("5.00"), [])
    assert [type(e) for e in uow.published] == [PaymentReceived, InvoiceVoided, CreditNoteIssued]


async def test_a_payment_in_flight_that_pays_in_full_keeps_the_invoice_paid(billing, uow, gateway):
    event = order_placed("acme")
    invoice = await placed(billing, uow, event)
    charge = gateway.charge_card

    async def cancelled_meanwhile(**kw):
        await billing.cancel_order(cancellation(order_cancelled(event)))
        return await charge(**kw)

    gateway.charge_card = cancelled_meanwhile
    await billing.pay(card(invoice.id, "27.50"), caller=ACME, idempotency_key="p", render=render)
    assert uow.invoices.rows[invoice.id].status == Status.PAID
    assert [type(e) for e in uow.published] == [PaymentReceived, PaymentConfirmed, CreditNoteIssued]


@pytest.mark.parametrize(("caller", "payment"), [(ACME, card), (OPS, transfer)], ids=["customer", "admin"])
async def test_a_payment_on_a_voided_invoice_is_409_voided_and_changes_nothing(billing, uow, gateway, caller, payment):
    event = order_placed("acme")
    invoice = await placed(billing, uow, event)
    await billing.cancel_order(cancellation(order_cancelled(event)))
    uow.published.clear()
    before = uow.invoices.rows[invoice.id]
    with pytest.raises(InvalidTransition) as refused:
        await billing.pay(payment(invoice.id, "1.00"), caller=caller, idempotency_key="late", render=render)
    assert refused.value.status_code == 409 and refused.value.extra["current_status"] == "voided"
    assert uow.invoices.rows[invoice.id] == before and uow.published == [] and gateway.charges == []
    assert uow.idempotency.rows == {}  # the key is free again


async def test_the_consumer_invoices_and_voids_through_the_use_cases(billing, uow):
    handlers = {}

    class Consumer:
        def on(self, event_cls):
            return lambda fn: handlers.setdefault(event_cls, fn)

    orders.register(Consumer(), billing)
    event = order_placed("acme")
    for payload in (event, order_cancelled(event)):
        envelope = Envelope.wrap(payload, producer="orders", occurred_at=NOW)
        await handlers[type(payload)](Incoming(envelope, payload, uow))
    [invoice] = uow.invoices.rows.values()
    assert (invoice.source.id, invoice.status) == (str(event.order_id), Status.VOIDED)
    assert [type(e) for e in uow.published] == [InvoiceIssued, InvoiceIssuedV2, InvoiceVoided]
