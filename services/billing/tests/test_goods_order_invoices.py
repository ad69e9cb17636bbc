"""Orders' OrderPlaced v2 with lines of goods (issue 14) invoiced by billing: a goods line is
invoiced at quantity × unit price with no service and no period, beside a service line; through
the consumer on the fake unit of work and with billing running on Kafka and PostgreSQL (told twice:
one invoice)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from billing_testkit import FakeBillingUnitOfWork, FakeBillingUnitsOfWork, envelope, produce

from billing.adapters.gateway import InMemorySandboxGateway
from billing.bootstrap import definition
from billing.consumers import orders
from billing.service.invoices import BillingService
from billing.settings import BillingSettings
from portal_contracts import Envelope, Money
from portal_contracts.events.billing import InvoiceIssuedV2
from portal_contracts.events.orders import OrderLineV2, OrderPlacedV2
from portal_runtime.clock import FrozenClock
from portal_runtime.consumer import Incoming
from portal_runtime.testing import bearer, eventually, running_service

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
PAPER, HOSTING = uuid.UUID("00000000-0000-4000-8000-00000000b001"), uuid.UUID("00000000-0000-4000-8000-00000000b002")


def eur(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="EUR")


def goods_order(account: str, source: str = "channel") -> OrderPlacedV2:
    service = uuid.uuid4()
    return OrderPlacedV2(
        order_id=uuid.uuid4(),
        number="ORD-2026-000042",
        account_id=account,
        source=source,
        currency="EUR",
        lines=[
            OrderLineV2(
                line_id=uuid.uuid4(),
                kind="good",
                item_id=PAPER,
                sku="PAPER-A4",
                name="Paper A4",
                cycle="one_time",
                quantity=3,
                unit_price=eur("4.50"),
                amount=eur("13.50"),
            ),
            OrderLineV2(
                line_id=uuid.uuid4(),
                kind="new",
                item_id=HOSTING,
                sku="HOST-M",
                name="Web hosting",
                cycle="monthly",
                quantity=1,
                unit_price=eur("10.00"),
                amount=eur("10.00"),
                subscription_id=service,
                domain="acme.example",
                period_start=date(2026, 3, 20),
                period_end=date(2026, 4, 20),
            ),
        ],
        total=eur("23.50"),
        placed_at=NOW,
        channel="marketplace" if source == "channel" else None,
        channel_order_id="MP-1" if source == "channel" else None,
        placed_by="channel:marketplace" if source == "channel" else "acme",
    )


async def test_the_consumer_invoices_an_order_of_goods_from_order_placed_v2():
    uow = FakeBillingUnitOfWork()
    billing = BillingService(
        FakeBillingUnitsOfWork(uow),
        FrozenClock(NOW),
        InMemorySandboxGateway(),
        BillingSettings().payee(),
        ZoneInfo("Europe/Berlin"),
    )
    handlers = {}

    class Consumer:
        def on(self, event_cls):
            return lambda fn: handlers.setdefault(event_cls, fn)

    orders.register(Consumer(), billing)
    event = goods_order("acme")
    await handlers[OrderPlacedV2](Incoming(Envelope.wrap(event, producer="orders", occurred_at=NOW), event, uow))
    [invoice] = uow.invoices.rows.values()
    assert (invoice.source.kind, invoice.source.id, invoice.total) == ("order", str(event.order_id), Decimal("23.50"))
    [v2] = [e for e in uow.published if isinstance(e, InvoiceIssuedV2)]
    paper, hosting = v2.lines
    assert (paper.description, paper.quantity, paper.unit_price.amount, paper.line_total.amount) == (
        "Paper A4",
        3,
        Decimal("4.50"),
        Decimal("13.50"),
    )
    assert (paper.item_id, paper.sku, paper.subscription_id, paper.period_start, paper.period_end) == (
        PAPER,
        "PAPER-A4",
        None,
        None,
        None,
    )
    assert (hosting.subscription_id, hosting.period_start) == (event.lines[1].subscription_id, date(2026, 3, 20))


async def test_an_order_of_goods_told_twice_is_invoiced_once_with_its_goods_line(new_database, kafka):
    customer = f"acct-{uuid.uuid4().hex[:8]}"
    placed = goods_order(customer, source="cart")
    url = await new_database("billing")
    async with running_service(definition(), database_url=url, kafka=kafka, clock=FrozenClock(NOW)) as (_, http):
        await produce(kafka, envelope(placed), envelope(placed))  # the second under another event id

        async def listed():
            page = (await http.get("/v1/invoices", headers=bearer(customer))).json()
            return page if page["items"] else None

        [summary] = (await eventually(listed, timeout=90, what="the goods order's invoice"))["items"]
        invoice = (await http.get(f"/v1/invoices/{summary['id']}", headers=bearer(customer))).json()
        assert [
            (x["quantity"], x["line_total"], x["subscription_id"], x["period_start"]) for x in invoice["lines"]
        ] == [
            (3, "13.50", None, None),
            (1, "10.00", str(placed.lines[1].subscription_id), "2026-03-20"),
        ]
        assert (summary["source_kind"], summary["source_id"], invoice["total"]) == (
            "order",
            str(placed.order_id),
            "23.50",
        )
        assert (await http.get("/v1/invoices", headers=bearer(customer))).json()["total"] == 1
