"""Helpers of billing's tests: events as orders would publish them, reading topics, and the fake
unit of work the use-case tests run on (no database, milliseconds). Leaving a fake unit of work
without commit undoes what the fake repositories did (the counter, the claimed Idempotency-Keys),
as a rollback does."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from billing.adapters.events import to_contract
from billing.domain.credit_notes import CreditBalance, CreditEntry, CreditNote
from billing.domain.invoices import Invoice, InvoiceSummary
from billing.domain.orders import OrderCancellation
from billing.service.orders import order_of
from portal_contracts import Envelope, Money
from portal_contracts.events.orders import OrderCancelled, OrderLine, OrderPlaced, RequestApproved, RequestLine
from portal_runtime.idempotency import MemoryIdempotencyKeys
from portal_runtime.lifecycle import Transition
from portal_runtime.paging import Slice
from portal_runtime.testing import FakeUnitOfWork, FakeUnitsOfWork

CARD_OK = {"number": "4242424242424242", "expiry_month": 12, "expiry_year": 2030, "cvc": "123"}
CARD_DECLINED = {**CARD_OK, "number": "4000000000000002"}


def approved(
    account: str, *, request_id: uuid.UUID | None = None, total: str = "129.70", currency: str = "EUR"
) -> RequestApproved:
    def money(amount: str) -> Money:
        return Money(amount=Decimal(amount), currency=currency)

    return RequestApproved(
        request_id=request_id or uuid.uuid4(),
        account_id=account,
        lines=[
            RequestLine(
                item_id=uuid.uuid4(),
                name="SEO boost",
                quantity=2,
                unit_price=money("49.90"),
                line_total=money("99.80"),
                billing="recurring",
                billing_period_months=1,
            ),
            RequestLine(
                item_id=uuid.uuid4(),
                name="Setup",
                quantity=1,
                unit_price=money("29.90"),
                line_total=money("29.90"),
                billing="one_time",
            ),
        ],
        total=money(total),
        approved_by="ops",
        approved_at=datetime.now(UTC),
    )


HOSTING = uuid.UUID("00000000-0000-4000-8000-00000000a001")
SSL = uuid.UUID("00000000-0000-4000-8000-00000000a002")


def order_placed(
    account: str,
    *,
    source: str = "cart",
    order_id: uuid.UUID | None = None,
    due_on: date | None = None,
    start: date = date(2026, 3, 20),
    placed_at: datetime | None = None,
) -> OrderPlaced:
    """A hosting service (monthly, 20.00) and its SSL add-on prorated to 7.50 of its 12.00; a
    renewal order renews both for the month from `due_on`."""

    def eur(amount: str) -> Money:
        return Money(amount=Decimal(amount), currency="EUR")

    renewal = source == "renewal"
    start = due_on if renewal else start
    end = date(start.year + start.month // 12, start.month % 12 + 1, start.day)
    hosting, ssl = uuid.uuid4(), uuid.uuid4()
    lines = [
        OrderLine(
            line_id=uuid.uuid4(),
            kind="renewal" if renewal else "new",
            item_id=HOSTING,
            sku="HOST-M",
            name="Web hosting",
            cycle="monthly",
            quantity=1,
            unit_price=eur("20.00"),
            amount=eur("20.00"),
            subscription_id=hosting,
            domain="shop.example",
            period_start=start,
            period_end=end,
        ),
        OrderLine(
            line_id=uuid.uuid4(),
            kind="renewal" if renewal else "add_on",
            item_id=SSL,
            sku="SSL-ADV",
            name="Advanced SSL",
            cycle="monthly",
            quantity=1,
            unit_price=eur("12.00"),
            amount=eur("12.00" if renewal else "7.50"),
            subscription_id=ssl,
            parent_subscription_id=hosting,
            period_start=start,
            period_end=end,
        ),
    ]
    return OrderPlaced(
        order_id=order_id or uuid.uuid4(),
        number="ORD-2026-000001",
        account_id=account,
        source=source,
        due_on=due_on,
        currency="EUR",
        lines=lines,
        total=eur("32.00" if renewal else "27.50"),
        placed_at=placed_at or datetime.now(UTC),
    )


def order_cancelled(
    placed: OrderPlaced, reason: str = "unpaid", *, settlement: str | None = None, note: str | None = None
) -> OrderCancelled:
    """As orders tells it; an admin's cancellation (the order manager's) names its number, the
    reason text (`note`) and, for a paid order, the settlement."""
    admin = reason == "admin"
    return OrderCancelled(
        order_id=placed.order_id,
        account_id=placed.account_id,
        reason=reason,
        cancelled_at=datetime.now(UTC),
        number=placed.number,
        note=note,
        settlement=settlement,
        cancelled_by="ops/olga" if admin else "system/orders",
    )


def envelope(event) -> Envelope:
    return Envelope.wrap(event, producer="orders", occurred_at=datetime.now(UTC))


async def produce(kafka: str, *envelopes: Envelope) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka, enable_idempotence=True)
    await producer.start()
    try:
        for env in envelopes:
            await producer.send_and_wait(env.payload().topic, env.model_dump_json().encode(), key=env.key.encode())
    finally:
        await producer.stop()


async def read_topic(kafka: str, topic: str, predicate, *, want: int, timeout: float = 30) -> list[dict]:
    """Envelopes (as dicts) on `topic`, from the start, that match, once `want` of them arrived."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka, auto_offset_reset="earliest", enable_auto_commit=False, group_id=None
    )
    await consumer.start()
    found: list = []
    try:
        meta = await consumer._client.fetch_all_metadata()
        parts = [TopicPartition(topic, p) for p in meta.partitions_for_topic(topic)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        deadline = asyncio.get_running_loop().time() + timeout
        while len(found) < want and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    try:
                        value = json.loads(record.value)
                    except ValueError:
                        continue
                    if predicate(value, record):
                        found.append(value)
    finally:
        await consumer.stop()
    return found


class FakeInvoices:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow
        self.rows: dict[uuid.UUID, Invoice] = {}
        self.counters: dict[int, int] = {}
        self.history: list[tuple[uuid.UUID, Transition]] = []  # (invoice id, row) as stored

    async def next_sequence(self, year):
        self.counters[year] = self.counters.get(year, 0) + 1
        return self.counters[year]

    async def for_source(self, source):
        return next((i.id for i in self.rows.values() if i.source == source), None)

    async def for_order(self, order_id):
        return next((i.id for i in self.rows.values() if order_of(i) == order_id), None)

    async def get(self, invoice_id, *, for_update=False):
        found = self.rows.get(invoice_id)
        return self.uow.track(copy.deepcopy(found), self) if found else None

    def add(self, invoice):
        return self.uow.track(invoice, self)

    async def save(self, invoice):
        self.history.extend((invoice.id, step) for step in invoice.history)
        invoice.history.clear()  # as the repository does: stored once
        self.rows[invoice.id] = copy.deepcopy(invoice)

    async def page(self, *, account_id, status, page, source_kind=None):
        found = sorted(
            (
                i
                for i in self.rows.values()
                if (account_id is None or i.account_id == account_id)
                and (status is None or i.status == status)
                and (source_kind is None or i.source.kind == source_kind)
            ),
            key=lambda i: (i.issued_at, i.number),
            reverse=True,
        )
        summaries = [InvoiceSummary(**{f: getattr(i, f) for f in InvoiceSummary.__dataclass_fields__}) for i in found]
        return Slice(summaries[page.offset : page.offset + page.limit], len(found), page.limit, page.offset)


class FakeCancellations:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, OrderCancellation] = {}

    async def record(self, cancellation):
        self.rows.setdefault(cancellation.order_id, cancellation)

    async def get(self, order_id):
        return self.rows.get(order_id)


class FakeCreditNotes:
    """Credit notes as the repository keeps them: one per reason and cause, the account credit a
    note adds saved with it."""

    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow
        self.rows: dict[uuid.UUID, CreditNote] = {}
        self.counters: dict[int, int] = {}
        self.credits: list[CreditEntry] = []

    async def next_sequence(self, year):
        self.counters[year] = self.counters.get(year, 0) + 1
        return self.counters[year]

    async def for_cause(self, reason, cause_id):
        return next((n.id for n in self.rows.values() if (n.reason, n.cause_id) == (reason, cause_id)), None)

    async def get(self, credit_note_id):
        found = self.rows.get(credit_note_id)
        return copy.deepcopy(found) if found else None

    def add(self, note):
        return self.uow.track(note, self)

    async def save(self, note):
        if note.id in self.rows:
            return
        if await self.for_cause(note.reason, note.cause_id) is not None:
            raise AssertionError(f"a second credit note for {note.reason} {note.cause_id}")
        self.rows[note.id] = copy.deepcopy(note)
        entry = note.credit_entry()
        if entry is not None:
            self.credits.append(entry)

    async def page(self, *, account_id, invoice_id, order_id, page):
        found = sorted(
            (
                n
                for n in self.rows.values()
                if (account_id is None or n.account_id == account_id)
                and (invoice_id is None or n.invoice_id == invoice_id)
                and (order_id is None or n.order_id == order_id)
            ),
            key=lambda n: (n.issued_at, n.number),
            reverse=True,
        )
        return Slice(found[page.offset : page.offset + page.limit], len(found), page.limit, page.offset)


class FakeAccountCredits:
    def __init__(self, notes: FakeCreditNotes) -> None:
        self.notes = notes

    async def add(self, entry):
        self.notes.credits.append(entry)

    async def balances(self, account_id):
        sums: dict[str, Decimal] = {}
        for entry in self.notes.credits:
            if entry.account_id == account_id:
                sums[entry.currency] = sums.get(entry.currency, Decimal(0)) + entry.amount
        return [CreditBalance(currency, amount) for currency, amount in sorted(sums.items())]


class FakeLedger:
    """The account ledger's credit side as the use cases ask it (the rows themselves are the
    repositories': not kept here): the account's credit from the credit notes' entries."""

    def __init__(self, notes: FakeCreditNotes) -> None:
        self.notes = notes

    async def lock_credit(self, account_id, currency):
        return None

    async def remember_order_number(self, order_id, number):
        return None

    async def credit_of(self, account_id, currency):
        return sum(
            (e.amount for e in self.notes.credits if (e.account_id, e.currency) == (account_id, currency)), Decimal(0)
        )


class FakeBillingUnitOfWork(FakeUnitOfWork):
    def __init__(self) -> None:
        super().__init__(to_contract)
        self.invoices = FakeInvoices(self)
        self.cancellations = FakeCancellations()
        self.idempotency = MemoryIdempotencyKeys()
        self.credit_notes = FakeCreditNotes(self)
        self.account_credits = FakeAccountCredits(self.credit_notes)
        self.ledger = FakeLedger(self.credit_notes)

    def state(self) -> tuple:
        return copy.deepcopy(
            (
                self.invoices.rows,
                self.invoices.counters,
                self.invoices.history,
                self.cancellations.rows,
                self.idempotency.rows,
                self.credit_notes.rows,
                self.credit_notes.counters,
                self.credit_notes.credits,
            )
        )

    def restore(self, state: tuple) -> None:
        (
            self.invoices.rows,
            self.invoices.counters,
            self.invoices.history,
            self.cancellations.rows,
            self.idempotency.rows,
            self.credit_notes.rows,
            self.credit_notes.counters,
            self.credit_notes.credits,
        ) = state


class FakeBillingUnitsOfWork(FakeUnitsOfWork):
    @contextlib.asynccontextmanager
    async def __call__(self):
        before, commits = self.uow.state(), self.uow.commits
        try:
            async with super().__call__() as uow:
                yield uow
        finally:
            if self.uow.commits == commits:
                self.uow.restore(before)  # left without commit: rolled back
