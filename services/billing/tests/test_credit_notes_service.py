"""Credit notes of cancelled orders on the fake unit of work (`billing_testkit`): a paid order's
invoice is credited in full, a part-paid one voided and its payments credited, refunded or put on
the account's credit as the cancellation says (default credit); once however often the
cancellation is told; a payment in flight at the cancellation is credited when it ends. Read back
by their owner (another account's: 404) and the account's credit per currency. OrderPlaced v2's
payment terms make the invoice due that many days after its business date."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from billing_testkit import FakeBillingUnitOfWork, FakeBillingUnitsOfWork, order_cancelled, order_placed

from billing.adapters.gateway import InMemorySandboxGateway
from billing.consumers import orders
from billing.consumers.orders import cancellation, order_command
from billing.domain.cards import Card
from billing.domain.invoices import Status
from billing.domain.payments import PaymentRequest
from billing.http.invoices import render
from billing.service.invoices import BillingService
from billing.settings import BillingSettings
from portal_contracts import Envelope, Money
from portal_contracts.events.billing import CreditNoteIssued, InvoiceVoided
from portal_contracts.events.orders import OrderLineV2, OrderPlacedV2
from portal_runtime.auth import Principal
from portal_runtime.clock import FrozenClock
from portal_runtime.consumer import Incoming
from portal_runtime.errors import InvalidInput, NotFound
from portal_runtime.paging import PageRequest

NOW = datetime(2026, 3, 20, 23, 30, tzinfo=UTC)  # 21 March in Berlin
BERLIN = ZoneInfo("Europe/Berlin")
ACME = Principal("alice", "acme", "customer")
GLOBEX = Principal("gina", "globex", "customer")
OPS = Principal("olga", "ops", "admin")
PAGE = PageRequest(50, 0)


@pytest.fixture
def uow() -> FakeBillingUnitOfWork:
    return FakeBillingUnitOfWork()


@pytest.fixture
def gateway() -> InMemorySandboxGateway:
    return InMemorySandboxGateway()


@pytest.fixture
def billing(uow, gateway) -> BillingService:
    return BillingService(FakeBillingUnitsOfWork(uow), FrozenClock(NOW), gateway, BillingSettings().payee(), BERLIN)


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
        invoice_id=invoice_id, method="bank_transfer", amount=Decimal(amount), currency="EUR", payer_reference="bank 1"
    )


async def paid_order(billing, uow, *payments):
    """An order (27.50) invoiced and paid `payments` (request makers with amounts)."""
    event = order_placed("acme")
    invoice = await billing.invoice_order(order_command(event))
    for n, (method, amount) in enumerate(payments):
        caller = ACME if method is card else OPS
        await billing.pay(method(invoice.id, amount), caller=caller, idempotency_key=f"{invoice.id}-{n}", render=render)
    uow.published.clear()
    return event, invoice


def credit_notes(uow) -> list[CreditNoteIssued]:
    return [e for e in uow.published if isinstance(e, CreditNoteIssued)]


async def test_a_paid_order_cancelled_with_refund_credits_every_line_and_refunds_the_payers(billing, uow):
    event, invoice = await paid_order(billing, uow, (transfer, "7.50"), (card, "20.00"))
    cancel = order_cancelled(event, "admin", settlement="refund", note="Customer changed their mind")
    assert await billing.cancel_order(cancellation(cancel)) is None  # paid: not voided
    assert uow.invoices.rows[invoice.id].status == Status.PAID
    [told] = uow.published
    assert isinstance(told, CreditNoteIssued)
    assert (told.number, told.invoice_id, told.invoice_number, told.account_id) == (
        "CN-2026-000001",
        invoice.id,
        invoice.number,
        "acme",
    )
    assert (told.source_kind, told.source_id, told.currency, told.reason, told.settlement) == (
        "order",
        str(event.order_id),
        "EUR",
        "cancelled_order",
        "refund",
    )
    assert [(line.invoice_line_id, line.description, line.quantity, line.line_total) for line in told.lines] == [
        (line.line_id, line.description, line.quantity, Money(amount=line.line_total, currency="EUR"))
        for line in invoice.lines
    ]
    eur = lambda amount: Money(amount=Decimal(amount), currency="EUR")  # noqa: E731
    assert (told.total, told.tax_total, told.refunded, told.credited) == (
        eur("27.50"),
        eur("0"),
        eur("27.50"),
        eur("0"),
    )
    [note] = (await billing.list_credit_notes(ACME, page=PAGE)).items
    assert [(r.method, r.amount, r.payer_reference) for r in note.refunds] == [
        ("card", Decimal("20.00"), "acme"),
        ("bank_transfer", Decimal("7.50"), "bank 1"),
    ]
    assert note.note == "Customer changed their mind"
    assert (await billing.account_credit(ACME)).balances == []  # refunded: nothing stays on the account


async def test_credit_is_the_default_settlement_and_adds_to_the_accounts_credit(billing, uow):
    event, invoice = await paid_order(billing, uow, (card, "27.50"))
    await billing.cancel_order(cancellation(order_cancelled(event, "terminated")))  # no settlement told
    [told] = credit_notes(uow)
    assert (told.settlement, told.credited.amount, told.refunded.amount) == ("credit", Decimal("27.50"), 0)
    credit = await billing.account_credit(ACME)
    assert (credit.account_id, [(b.currency, b.amount) for b in credit.balances]) == (
        "acme",
        [("EUR", Decimal("27.50"))],
    )
    # The credit pays the next order's invoice at once (`billing.service.ledger.spend_credit`) ...
    other = order_placed("acme")
    second = await billing.invoice_order(order_command(other))
    assert (second.status, [(p.method, p.amount) for p in second.payments]) == (
        Status.PAID,
        [("account_credit", Decimal("27.50"))],
    )
    assert [(b.currency, b.amount) for b in (await billing.account_credit(ACME)).balances] == [("EUR", 0)]
    # ... and comes back when that order is cancelled too
    await billing.cancel_order(cancellation(order_cancelled(other, "admin", settlement="credit")))
    assert [(b.currency, b.amount) for b in (await billing.account_credit(OPS, "acme")).balances] == [
        ("EUR", Decimal("27.50"))
    ]
    numbers = [n.number for n in (await billing.list_credit_notes(OPS, account_id="acme", page=PAGE)).items]
    assert numbers == ["CN-2026-000002", "CN-2026-000001"]  # newest first, one series


async def test_a_part_paid_invoice_is_voided_and_its_payments_credited_without_tax(billing, uow):
    event, invoice = await paid_order(billing, uow, (card, "10.00"))
    voided = await billing.cancel_order(cancellation(order_cancelled(event, "admin", settlement="credit")))
    assert voided.id == invoice.id and uow.invoices.rows[invoice.id].status == Status.VOIDED
    assert [type(e) for e in uow.published] == [InvoiceVoided, CreditNoteIssued]
    [line] = uow.published[1].lines
    assert (line.description, line.invoice_line_id, line.quantity, line.line_total.amount, line.tax.amount) == (
        f"Payments received on invoice {invoice.number} for cancelled order",
        None,
        1,
        Decimal("10.00"),
        0,
    )
    assert uow.published[1].total.amount == Decimal("10.00")


async def test_a_cancellation_told_again_makes_no_second_credit_note(billing, uow):
    event, invoice = await paid_order(billing, uow, (card, "27.50"))
    first = order_cancelled(event, "admin", settlement="refund")
    for told in (first, first, first.model_copy(update={"settlement": "credit"}), order_cancelled(event, "unpaid")):
        await billing.cancel_order(cancellation(told))
    assert len(credit_notes(uow)) == 1 and len(uow.credit_notes.rows) == 1
    assert uow.credit_notes.counters == {2026: 1} and uow.credit_notes.credits == []  # the first telling's refund


async def test_an_unpaid_order_cancelled_makes_no_credit_note(billing, uow):
    event, invoice = await paid_order(billing, uow)
    await billing.cancel_order(cancellation(order_cancelled(event, "admin", settlement="refund")))
    assert [type(e) for e in uow.published] == [InvoiceVoided] and uow.credit_notes.rows == {}


async def test_a_payment_in_flight_at_the_cancellation_is_credited_when_it_ends(billing, uow, gateway):
    event, invoice = await paid_order(billing, uow)
    charge = gateway.charge_card

    async def cancelled_meanwhile(**kw):
        await billing.cancel_order(cancellation(order_cancelled(event, "admin", settlement="refund")))
        assert credit_notes(uow) == []  # held back by the payment in flight
        return await charge(**kw)

    gateway.charge_card = cancelled_meanwhile
    await billing.pay(card(invoice.id, "5.00"), caller=ACME, idempotency_key="p", render=render)
    [told] = credit_notes(uow)
    assert (told.settlement, told.refunded.amount, len(told.lines), told.lines[0].invoice_line_id) == (
        "refund",
        Decimal("5.00"),
        1,
        None,
    )
    assert uow.invoices.rows[invoice.id].status == Status.VOIDED


async def test_credit_notes_are_read_by_their_owner_and_filtered(billing, uow):
    event, invoice = await paid_order(billing, uow, (card, "27.50"))
    await billing.cancel_order(cancellation(order_cancelled(event, "admin", settlement="credit")))
    [note] = uow.credit_notes.rows.values()
    assert (await billing.get_credit_note(note.id, ACME)).number == note.number
    assert (await billing.get_credit_note(note.id, OPS)).id == note.id
    with pytest.raises(NotFound):
        await billing.get_credit_note(note.id, GLOBEX)
    with pytest.raises(NotFound):
        await billing.get_credit_note(uuid.uuid4(), OPS)
    assert (await billing.list_credit_notes(GLOBEX, page=PAGE)).total == 0
    assert (await billing.list_credit_notes(GLOBEX, account_id="acme", page=PAGE)).total == 0
    assert (await billing.list_credit_notes(OPS, order_id=event.order_id, page=PAGE)).total == 1
    assert (await billing.list_credit_notes(OPS, invoice_id=invoice.id, page=PAGE)).total == 1
    assert (await billing.list_credit_notes(OPS, order_id=uuid.uuid4(), page=PAGE)).total == 0
    assert (await billing.list_credit_notes(OPS, account_id="globex", page=PAGE)).total == 0


async def test_the_account_credit_is_the_callers_own_and_an_admin_names_the_account(billing):
    with pytest.raises(InvalidInput) as unnamed:
        await billing.account_credit(OPS)
    assert unnamed.value.field == "account_id"
    with pytest.raises(NotFound):
        await billing.account_credit(ACME, "globex")
    assert (await billing.account_credit(ACME, "acme")).balances == []


def goods_order(*, terms: int | None, source: str = "cart", due_on: date | None = None) -> OrderPlacedV2:
    eur = Money(amount=Decimal("9.00"), currency="EUR")
    line = OrderLineV2(
        line_id=uuid.uuid4(),
        kind="good",
        item_id=uuid.uuid4(),
        name="Paper",
        cycle="one_time",
        quantity=1,
        unit_price=eur,
        amount=eur,
    )
    return OrderPlacedV2(
        order_id=uuid.uuid4(),
        number="ORD-2026-000009",
        account_id="acme",
        source=source,
        due_on=due_on,
        currency="EUR",
        lines=[line],
        total=eur,
        placed_at=NOW,
        payment_terms_days=terms,
    )


@pytest.mark.parametrize(
    ("terms", "source", "due_on", "due"),
    [
        (None, "cart", None, date(2026, 3, 21)),  # at once: the business date
        (30, "cart", None, date(2026, 4, 20)),  # 30 days net from the business date
        (30, "channel", None, date(2026, 4, 20)),
        (7, "renewal", date(2026, 4, 3), date(2026, 4, 3)),  # a renewal is not due before its services
        (30, "renewal", date(2026, 4, 3), date(2026, 4, 20)),
    ],
)
async def test_payment_terms_make_the_invoice_due_that_many_days_after_its_date(billing, terms, source, due_on, due):
    invoice = await billing.invoice_order(order_command(goods_order(terms=terms, source=source, due_on=due_on)))
    assert invoice.due_on == due


async def test_the_consumer_credits_with_the_events_settlement(billing, uow):
    handlers = {}

    class Consumer:
        def on(self, event_cls):
            return lambda fn: handlers.setdefault(event_cls, fn)

    orders.register(Consumer(), billing)
    event, invoice = await paid_order(billing, uow, (card, "27.50"))
    cancel = order_cancelled(event, "admin", settlement="refund", note="duplicate order")
    for _ in range(2):  # told twice
        await handlers[type(cancel)](Incoming(Envelope.wrap(cancel, producer="orders", occurred_at=NOW), cancel, uow))
    [told] = credit_notes(uow)
    assert (told.settlement, told.refunded.amount) == ("refund", Decimal("27.50"))
    kept = uow.cancellations.rows[event.order_id]
    assert (kept.number, kept.note, kept.settlement, kept.cancelled_by) == (
        event.number,
        "duplicate order",
        "refund",
        "ops/olga",
    )
