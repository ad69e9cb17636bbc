"""Billing's use cases on a fake unit of work (no database, milliseconds; `billing_testkit`): what
each one stores and publishes, and what it refuses."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from billing_testkit import FakeBillingUnitOfWork, FakeBillingUnitsOfWork, approved

from billing.adapters.gateway import InMemorySandboxGateway
from billing.consumers import orders
from billing.consumers.orders import issue_command
from billing.domain.cards import Card
from billing.domain.invoices import Invoice, Status
from billing.domain.payments import Forbidden, PaymentRequest
from billing.http.invoices import render
from billing.service.invoices import BillingService
from billing.settings import BillingSettings
from portal_contracts import Envelope, Money
from portal_contracts.events.billing import (
    InvoiceIssued,
    InvoiceIssuedV2,
    InvoiceLine,
    PaymentConfirmed,
    PaymentFailed,
    PaymentInstruction,
    PaymentReceived,
)
from portal_contracts.events.orders import RequestApproved
from portal_runtime.auth import Principal
from portal_runtime.clock import FrozenClock
from portal_runtime.consumer import Incoming
from portal_runtime.errors import InvalidInput, NotFound
from portal_runtime.lifecycle import InvalidTransition
from portal_runtime.paging import PageRequest

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
ACME = Principal("alice", "acme", "customer")
GLOBEX = Principal("gina", "globex", "customer")
OPS = Principal("olga", "ops", "admin")


class CountingGateway(InMemorySandboxGateway):
    def __init__(self) -> None:
        super().__init__()
        self.keys: list[str] = []

    async def _charge(self, attempt):
        self.keys.append(attempt.idempotency_key)
        return await super()._charge(attempt)


@pytest.fixture
def uow() -> FakeBillingUnitOfWork:
    return FakeBillingUnitOfWork()


@pytest.fixture
def gateway() -> CountingGateway:
    return CountingGateway()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def billing(uow, gateway, clock) -> BillingService:
    return BillingService(FakeBillingUnitsOfWork(uow), clock, gateway, BillingSettings().payee())


async def issued(billing: BillingService, uow: FakeBillingUnitOfWork, account: str = "acme", **kw) -> Invoice:
    invoice = await billing.issue_invoice(issue_command(approved(account, **kw)))
    uow.published.clear()
    return invoice


def card_payment(invoice_id, amount="50.00", number="4242424242424242", payer="acme-ap") -> PaymentRequest:
    card = Card.parse(number=number, expiry_month=12, expiry_year=2030, cvc="123", today=NOW.date())
    return PaymentRequest(
        invoice_id=invoice_id, method="card", amount=Decimal(amount), currency="EUR", payer_reference=payer, card=card
    )


def other_payment(invoice_id, method, amount="129.70", payer="bank stmt 2026-03-20 #17") -> PaymentRequest:
    return PaymentRequest(
        invoice_id=invoice_id, method=method, amount=Decimal(amount), currency="EUR", payer_reference=payer
    )


def eur(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="EUR")


# -- issuing ------------------------------------------------------------------------------------
async def test_request_approved_issues_a_numbered_invoice_and_publishes_it(billing, uow):
    event = approved("acme")
    invoice = await billing.issue_invoice(issue_command(event))
    stored = uow.invoices.rows[invoice.id]
    assert (stored.number, stored.status, stored.total) == ("INV-2026-000001", Status.ISSUED, Decimal("129.70"))
    assert uow.commits == 1
    published, v2 = uow.published  # version 1 for its readers, then version 2 (sources, line ids)
    assert isinstance(v2, InvoiceIssuedV2) and v2.source_kind == "service_request"
    assert v2.source_id == str(event.request_id) and [line.line_id for line in v2.lines] == [
        line.line_id for line in invoice.lines
    ]
    assert published == InvoiceIssued(
        invoice_id=invoice.id,
        number="INV-2026-000001",
        account_id="acme",
        request_id=event.request_id,
        lines=[
            InvoiceLine(description="SEO boost", quantity=2, unit_price=eur("49.90"), line_total=eur("99.80")),
            InvoiceLine(description="Setup", quantity=1, unit_price=eur("29.90"), line_total=eur("29.90")),
        ],
        total=eur("129.70"),
        due_on=date(2026, 4, 3),
        payment_instructions=[PaymentInstruction(method=i.method, details=i.details) for i in invoice.instructions],
        issued_at=NOW,
    )
    assert [i.method for i in published.payment_instructions] == ["card", "bank_transfer", "paypal"]
    assert published.payment_instructions[1].details["reference"] == "INV-2026-000001"


async def test_one_invoice_per_request_and_a_second_approval_publishes_nothing(billing, uow):
    event = approved("acme")
    first = await billing.issue_invoice(issue_command(event))
    uow.published.clear()
    assert await billing.issue_invoice(issue_command(event.model_copy(update={"approved_by": "other"}))) is None
    assert list(uow.invoices.rows) == [first.id] and uow.published == []
    assert uow.invoices.counters == {2026: 1}  # the duplicate took no number


async def test_a_total_that_does_not_add_up_is_refused_and_gives_its_number_back(billing, uow, clock):
    with pytest.raises(InvalidInput) as err:
        await billing.issue_invoice(issue_command(approved("acme", total="1.00")))
    assert err.value.field == "total" and uow.invoices.rows == {} and uow.published == []
    assert (await billing.issue_invoice(issue_command(approved("acme")))).number == "INV-2026-000001"
    clock.advance(days=300)
    assert (await billing.issue_invoice(issue_command(approved("acme")))).number == "INV-2027-000001"


async def test_the_consumer_issues_through_the_use_case_in_its_unit_of_work(billing, uow):
    handlers = {}

    class Consumer:
        def on(self, event_cls):
            return lambda fn: handlers.setdefault(event_cls, fn)

    orders.register(Consumer(), billing)
    event = approved("acme")
    handler = handlers[RequestApproved]
    await handler(Incoming(Envelope.wrap(event, producer="orders", occurred_at=NOW), event, uow))
    [invoice] = uow.invoices.rows.values()
    assert invoice.request_id == event.request_id
    assert [type(e) for e in uow.published] == [InvoiceIssued, InvoiceIssuedV2]


# -- reading ------------------------------------------------------------------------------------
async def test_an_invoice_is_read_by_its_account_and_admins_and_is_404_to_others(billing, uow):
    invoice = await issued(billing, uow)
    assert (await billing.get_invoice(invoice.id, ACME)).number == invoice.number
    assert (await billing.get_invoice(invoice.id, OPS)).number == invoice.number
    with pytest.raises(NotFound):
        await billing.get_invoice(invoice.id, GLOBEX)
    with pytest.raises(NotFound):
        await billing.get_invoice(uuid.uuid4(), OPS)


async def test_lists_are_scoped_by_account_and_paged(billing, uow, clock):
    mine = []
    for _ in range(3):
        mine.append(await issued(billing, uow, "acme"))
        clock.advance(days=1)
    theirs = await issued(billing, uow, "globex")
    await billing.pay(other_payment(mine[0].id, "bank_transfer"), caller=OPS, idempotency_key="k", render=render)
    page = PageRequest(limit=2, offset=0)

    own = await billing.list_invoices(ACME, account_id=None, status=None, page=page)
    assert [i.id for i in own.items] == [mine[2].id, mine[1].id] and (own.total, own.limit, own.offset) == (3, 2, 0)
    rest = await billing.list_invoices(ACME, account_id="acme", status=None, page=PageRequest(2, 2))
    assert [i.id for i in rest.items] == [mine[0].id] and rest.total == 3
    other = await billing.list_invoices(ACME, account_id="globex", status=None, page=page)
    assert (other.items, other.total) == ([], 0)

    everything = await billing.list_invoices(OPS, account_id=None, status=None, page=PageRequest(10, 0))
    assert {i.id for i in everything.items} == {theirs.id, *(i.id for i in mine)} and everything.total == 4
    globex = await billing.list_invoices(OPS, account_id="globex", status=None, page=page)
    assert [i.id for i in globex.items] == [theirs.id]
    paid = await billing.list_invoices(OPS, account_id=None, status=Status.PAID, page=page)
    assert [(i.id, i.status, i.balance_due) for i in paid.items] == [(mine[0].id, Status.PAID, Decimal("0.00"))]


# -- paying -------------------------------------------------------------------------------------
async def test_a_card_payment_in_part_is_stored_answered_and_published(billing, uow, gateway):
    invoice = await issued(billing, uow)
    answer = await billing.pay(card_payment(invoice.id, "100.00"), caller=ACME, idempotency_key="p1", render=render)
    body = answer.body
    assert answer.status_code == 201 and body["invoice"]["status"] == "partially_paid"
    assert body["invoice"]["balance_due"] == "29.70" and body["payment"]["card_last4"] == "4242"
    stored = uow.invoices.rows[invoice.id]
    [payment] = stored.payments
    assert stored.status == Status.PARTIALLY_PAID and stored.amount_paid == Decimal("100.00")
    assert (payment.method, payment.card_brand, payment.recorded_by, payment.paid_at) == (
        "card",
        "visa",
        "acme/alice",
        NOW,
    )
    assert uow.published == [
        PaymentReceived(
            invoice_id=invoice.id,
            number=invoice.number,
            account_id="acme",
            request_id=invoice.request_id,
            payment_id=payment.id,
            method="card",
            amount=eur("100.00"),
            amount_paid=eur("100.00"),
            balance_due=eur("29.70"),
            invoice_status="partially_paid",
            received_at=NOW,
            source_kind="service_request",
        )
    ]
    assert gateway.keys == [f"acme:p1:{uow.idempotency.rows[('acme', 'p1')].fingerprint[:16]}"]
    assert uow.idempotency.rows[("acme", "p1")].answer == answer


async def test_paying_the_rest_by_paypal_pays_the_invoice_and_confirms_it(billing, uow, gateway):
    invoice = await issued(billing, uow)
    await billing.pay(card_payment(invoice.id, "100.00"), caller=ACME, idempotency_key="p1", render=render)
    uow.published.clear()
    paypal = other_payment(invoice.id, "paypal", "29.70", payer="ap@acme.example")
    answer = await billing.pay(paypal, caller=ACME, idempotency_key="p2", render=render)
    assert answer.status_code == 201 and answer.body["invoice"]["status"] == "paid"
    received, confirmed = uow.published
    assert isinstance(received, PaymentReceived) and received.invoice_status == "paid"
    assert (received.method, received.amount, received.balance_due) == ("paypal", eur("29.70"), eur("0.00"))
    assert confirmed == PaymentConfirmed(
        invoice_id=invoice.id,
        number=invoice.number,
        account_id="acme",
        request_id=invoice.request_id,
        amount_paid=eur("129.70"),
        confirmed_at=NOW,
    )
    assert uow.invoices.rows[invoice.id].status == Status.PAID and len(gateway.charges) == 2


async def test_a_paid_invoice_refuses_a_payment_with_409_and_nothing_is_saved_or_published(billing, uow, gateway):
    invoice = await issued(billing, uow)
    await billing.pay(other_payment(invoice.id, "bank_transfer"), caller=OPS, idempotency_key="bt", render=render)
    uow.published.clear()
    before, charged = copy.deepcopy(uow.invoices.rows), len(gateway.keys)
    with pytest.raises(InvalidTransition) as refused:
        await billing.pay(card_payment(invoice.id, "1.00"), caller=ACME, idempotency_key="late", render=render)
    assert refused.value.status_code == 409 and refused.value.extra["current_status"] == "paid"
    assert uow.invoices.rows == before and uow.published == [] and len(gateway.keys) == charged
    assert ("acme", "late") not in uow.idempotency.rows  # the claim rolled back with the rest


async def test_a_retry_with_the_same_key_gets_the_first_answer_and_moves_no_money(billing, uow, gateway):
    invoice = await issued(billing, uow)
    first = await billing.pay(card_payment(invoice.id, "10.00"), caller=ACME, idempotency_key="once", render=render)
    await billing.pay(card_payment(invoice.id, "20.00"), caller=ACME, idempotency_key="twice", render=render)
    uow.published.clear()
    again = await billing.pay(card_payment(invoice.id, "10"), caller=ACME, idempotency_key="once", render=render)
    assert again == first and again.body["invoice"]["amount_paid"] == "10.00"
    assert uow.published == [] and len(gateway.keys) == 2 and len(uow.invoices.rows[invoice.id].payments) == 2
    with pytest.raises(InvalidInput) as reused:
        await billing.pay(card_payment(invoice.id, "11.00"), caller=ACME, idempotency_key="once", render=render)
    assert reused.value.field == "Idempotency-Key" and len(gateway.keys) == 2


async def test_keys_belong_to_their_caller(billing, uow):
    mine, theirs = await issued(billing, uow, "acme"), await issued(billing, uow, "globex")
    a = await billing.pay(card_payment(mine.id), caller=ACME, idempotency_key="same", render=render)
    b = await billing.pay(card_payment(theirs.id), caller=GLOBEX, idempotency_key="same", render=render)
    assert a.status_code == b.status_code == 201 and a.body != b.body


async def test_a_declined_card_is_answered_402_stored_told_and_changes_nothing(billing, uow, gateway):
    invoice = await issued(billing, uow)
    declined = card_payment(invoice.id, number="4000000000000002")
    answer = await billing.pay(declined, caller=ACME, idempotency_key="d", render=render)
    body = answer.body
    assert answer.status_code == 402 and (body["reason"], body["field"], body["invoice_status"]) == (
        "card_declined",
        "card",
        "issued",
    )
    assert body["status"] == 402 and body["type"].endswith("/payment-declined")
    assert uow.published == [
        PaymentFailed(invoice_id=invoice.id, account_id="acme", method="card", reason="card_declined", failed_at=NOW)
    ]
    stored = uow.invoices.rows[invoice.id]
    assert stored.status == Status.ISSUED and stored.payments == []
    uow.published.clear()
    assert await billing.pay(declined, caller=ACME, idempotency_key="d", render=render) == answer
    assert uow.published == [] and len(gateway.keys) == 1


async def test_a_declined_paypal_payer_is_a_402_naming_the_payer_reference(billing, uow):
    invoice = await issued(billing, uow)
    declined = other_payment(invoice.id, "paypal", "10.00", payer="declined@paypal.example")
    answer = await billing.pay(declined, caller=ACME, idempotency_key="pp", render=render)
    body = answer.body
    assert answer.status_code == 402 and (body["reason"], body["field"]) == ("payer_action_required", "payer_reference")
    assert [type(e) for e in uow.published] == [PaymentFailed]


async def test_admins_record_bank_transfers_and_only_they_do(billing, uow, gateway):
    invoice = await issued(billing, uow)
    transfer = other_payment(invoice.id, "bank_transfer")
    with pytest.raises(Forbidden) as by_customer:
        await billing.pay(transfer, caller=ACME, idempotency_key="bt1", render=render)
    with pytest.raises(Forbidden) as admin_card:
        await billing.pay(card_payment(invoice.id), caller=OPS, idempotency_key="bt2", render=render)
    assert by_customer.value.field == admin_card.value.field == "method" and uow.published == []
    answer = await billing.pay(transfer, caller=OPS, idempotency_key="bt3", render=render)
    body = answer.body
    assert (
        answer.status_code == 201
        and body["payment"]["recorded_by"] == "ops/olga"
        and body["invoice"]["status"] == "paid"
    )
    assert [type(e) for e in uow.published] == [PaymentReceived, PaymentConfirmed] and gateway.keys == []


async def test_another_accounts_invoice_is_404_and_charges_nothing(billing, uow, gateway):
    invoice = await issued(billing, uow, "acme")
    with pytest.raises(NotFound):
        await billing.pay(card_payment(invoice.id), caller=GLOBEX, idempotency_key="s1", render=render)
    with pytest.raises(NotFound):
        await billing.pay(card_payment(uuid.uuid4()), caller=ACME, idempotency_key="s2", render=render)
    assert gateway.keys == [] and uow.published == [] and uow.idempotency.rows == {}


async def test_more_than_is_due_is_refused_before_any_money_moves(billing, uow, gateway):
    invoice = await issued(billing, uow)
    with pytest.raises(InvalidInput) as err:
        await billing.pay(card_payment(invoice.id, "129.71"), caller=ACME, idempotency_key="x", render=render)
    assert err.value.field == "amount" and err.value.extra["balance_due"] == "129.70"
    assert gateway.keys == [] and uow.published == [] and uow.invoices.rows[invoice.id].payments == []
    assert uow.idempotency.rows == {}  # the key is free for a corrected request
