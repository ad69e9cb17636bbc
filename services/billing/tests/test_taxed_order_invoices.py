"""Tax from the catalog to the invoice (issue 16): an order's invoice line takes its order line's
`tax_rate` and its `line_id` (so returns match shipped order lines to invoice lines); the invoice's
total is its net plus each line's tax (cents(net × rate), half-up), `expected_total` checks the net
(the order's `total`), and InvoiceIssued v2 carries the gross total and the tax. An untaxed order is
invoiced as before. On the fake unit of work through the consumer (no database, no Kafka)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from billing_testkit import FakeBillingUnitOfWork, FakeBillingUnitsOfWork

from billing.adapters.gateway import InMemorySandboxGateway
from billing.consumers import orders
from billing.consumers.orders import order_command
from billing.domain.invoices import Invoice, Line, Payment, Source, Status
from billing.http.invoices import InvoiceOut
from billing.service.invoices import BillingService
from billing.settings import BillingSettings
from portal_contracts import Envelope, Money
from portal_contracts.events.billing import InvoiceIssuedV2
from portal_contracts.events.orders import OrderLineV2, OrderPlacedV2
from portal_runtime.clock import FrozenClock
from portal_runtime.consumer import Incoming
from portal_runtime.errors import InvalidInput

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
PAPER, TONER, BOOK = (uuid.UUID(f"00000000-0000-4000-8000-00000000c00{n}") for n in (1, 2, 3))


def eur(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="EUR")


def good(item_id: uuid.UUID, name: str, quantity: int, unit: str, rate: str | None) -> OrderLineV2:
    return OrderLineV2(
        line_id=uuid.uuid4(),
        kind="good",
        item_id=item_id,
        sku=name.upper(),
        name=name,
        cycle="one_time",
        quantity=quantity,
        unit_price=eur(unit),
        amount=eur(str(Decimal(unit) * quantity)),
        tax_rate=None if rate is None else Decimal(rate),
    )


def taxed_order(account: str = "acme") -> OrderPlacedV2:
    lines = [
        good(PAPER, "Paper", 3, "4.50", "0.19"),  # 13.50 net, 2.565 → 2.57 tax
        good(BOOK, "Book", 1, "9.99", "0.07"),  # 9.99 net, 0.6993 → 0.70 tax
        good(TONER, "Toner", 1, "20.00", None),  # not taxed
    ]
    return OrderPlacedV2(
        order_id=uuid.uuid4(),
        number="ORD-2026-000077",
        account_id=account,
        source="cart",
        currency="EUR",
        lines=lines,
        total=eur("43.49"),  # the NET total, as orders publishes it
        placed_at=NOW,
    )


@pytest.fixture
def uow() -> FakeBillingUnitOfWork:
    return FakeBillingUnitOfWork()


@pytest.fixture
def billing(uow) -> BillingService:
    return BillingService(
        FakeBillingUnitsOfWork(uow),
        FrozenClock(NOW),
        InMemorySandboxGateway(),
        BillingSettings().payee(),
        ZoneInfo("Europe/Berlin"),
    )


async def consume(billing, uow, event: OrderPlacedV2) -> None:
    handlers = {}

    class Consumer:
        def on(self, event_cls):
            return lambda fn: handlers.setdefault(event_cls, fn)

    orders.register(Consumer(), billing)
    await handlers[OrderPlacedV2](Incoming(Envelope.wrap(event, producer="orders", occurred_at=NOW), event, uow))


async def test_an_orders_invoice_lines_take_the_order_lines_ids_and_tax_rates(billing, uow):
    event = taxed_order()
    await consume(billing, uow, event)
    [invoice] = uow.invoices.rows.values()
    assert [line.line_id for line in invoice.lines] == [line.line_id for line in event.lines]
    assert [(line.tax_rate, line.line_total, line.tax_amount) for line in invoice.lines] == [
        (Decimal("0.19"), Decimal("13.50"), Decimal("2.57")),
        (Decimal("0.07"), Decimal("9.99"), Decimal("0.70")),
        (0, Decimal("20.00"), Decimal("0.00")),
    ]
    assert (invoice.net_total, invoice.tax_total, invoice.total) == (
        Decimal("43.49"),
        Decimal("3.27"),
        Decimal("46.76"),
    )
    assert invoice.balance_due == Decimal("46.76")
    [v2] = [e for e in uow.published if isinstance(e, InvoiceIssuedV2)]
    assert (v2.total.amount, v2.tax_total.amount) == (Decimal("46.76"), Decimal("3.27"))
    assert [(line.line_id, line.tax_rate, line.tax.amount) for line in v2.lines] == [
        (event.lines[0].line_id, Decimal("0.19"), Decimal("2.57")),
        (event.lines[1].line_id, Decimal("0.07"), Decimal("0.70")),
        (event.lines[2].line_id, 0, Decimal("0.00")),
    ]
    answer = InvoiceOut.of(invoice).model_dump(mode="json")
    assert (answer["net_total"], answer["tax_total"], answer["total"], answer["balance_due"]) == (
        "43.49",
        "3.27",
        "46.76",
        "46.76",
    )
    assert [line["tax_rate"] for line in answer["lines"]] == ["0.19", "0.07", "0.00"]


async def test_a_taxed_invoice_is_paid_by_its_gross_total(billing, uow):
    await consume(billing, uow, taxed_order())
    [invoice] = uow.invoices.rows.values()

    def pay(amount: str) -> None:
        payment = Payment(
            id=uuid.uuid4(),
            method="bank_transfer",
            amount=Decimal(amount),
            currency="EUR",
            payer_reference="bank #1",
            paid_at=NOW,
            recorded_by="ops/olga",
        )
        invoice.record_payment(payment, now=NOW)

    pay("43.49")  # the net alone leaves the tax owed
    assert (invoice.status, invoice.balance_due) == (Status.PARTIALLY_PAID, Decimal("3.27"))
    pay("3.27")
    assert (invoice.status, invoice.balance_due) == (Status.PAID, Decimal("0.00"))


async def test_an_untaxed_order_is_invoiced_as_before(billing, uow):
    event = taxed_order()
    untaxed = event.model_copy(update={"lines": [line.model_copy(update={"tax_rate": None}) for line in event.lines]})
    await consume(billing, uow, untaxed)
    [invoice] = uow.invoices.rows.values()
    assert (invoice.net_total, invoice.tax_total, invoice.total) == (Decimal("43.49"), 0, Decimal("43.49"))
    assert all(line.tax_rate == 0 and line.tax_amount == 0 for line in invoice.lines)


def test_the_order_command_keeps_line_ids_and_rates_and_checks_the_net_total():
    event = taxed_order()
    cmd = order_command(event)
    assert [(line.line_id, line.tax_rate) for line in cmd.lines] == [
        (event.lines[0].line_id, Decimal("0.19")),
        (event.lines[1].line_id, Decimal("0.07")),
        (event.lines[2].line_id, Decimal(0)),
    ]
    assert cmd.total == Decimal("43.49")


def test_expected_total_is_the_net_total():
    lines = [Line("Paper", 3, Decimal("4.50"), tax_rate=Decimal("0.19"))]
    issue = dict(
        number="INV-2026-000001",
        account_id="acme",
        currency="EUR",
        lines=lines,
        instructions=[],
        now=NOW,
        source=Source("order", str(uuid.uuid4())),
    )
    invoice = Invoice.issue(**issue, expected_total=Decimal("13.50"))
    assert (invoice.net_total, invoice.tax_total, invoice.total) == (
        Decimal("13.50"),
        Decimal("2.57"),
        Decimal("16.07"),
    )
    with pytest.raises(InvalidInput) as err:
        Invoice.issue(**issue, expected_total=Decimal("16.07"))  # the gross is not what the source adds up
    assert err.value.field == "total"
