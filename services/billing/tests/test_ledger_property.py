"""A property of the books on a real PostgreSQL (hypothesis): any sequence of order invoices (taxed
or not), bank transfers, account payments, cancellations (a void, and a credit note of what was
paid, refunded or credited), goods returned (credit notes of returned goods, refunded or credited)
and days passing keeps the identities: every statement closes at
opening + debits - credits; adjacent periods chain (one's closing is the next one's opening); the
last closing = the ledger's sum = the customer balance (owed - advance) = Σ due by order + on_account."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from ledger_testkit import Books

from billing.bootstrap import definition
from billing.domain.invoices import Status

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OPEN = (Status.ISSUED, Status.PARTIALLY_PAID)

amounts = st.integers(min_value=1, max_value=20000).map(lambda c: Decimal(c).scaleb(-2))
steps = st.lists(
    st.one_of(
        st.tuples(st.just("invoice"), amounts, st.sampled_from(["0", "0.07", "0.19"])),
        st.tuples(st.just("transfer"), st.integers(0, 20), st.integers(1, 100)),  # which open invoice, % of due
        st.tuples(st.just("advance"), amounts),
        st.tuples(st.just("cancel"), st.integers(0, 20), st.sampled_from(["refund", "credit"])),
        st.tuples(st.just("return"), st.integers(0, 20), st.integers(1, 3), st.sampled_from(["refund", "credit"])),
        st.tuples(st.just("days"), st.integers(1, 20)),
    ),
    min_size=1,
    max_size=12,
)


@pytest.fixture
async def books(migrated_database):
    url = await migrated_database(definition())
    books = Books.on(url, START)
    yield books
    await books.engine.dispose()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=steps, cut=st.integers(0, 60))
async def test_any_sequence_of_documents_keeps_the_statement_and_balance_identities(books, sequence, cut):
    account = f"acct-{uuid.uuid4().hex[:10]}"
    invoices = []
    first_day = books.clock.now().date()
    for step in sequence:
        kind = step[0]
        if kind == "invoice":
            invoices.append(await books.order(account, str(step[1]), tax_rate=step[2], quantity=3))
        elif kind == "transfer":
            live = [await books.invoice(i.id) for i in invoices]
            payable = [i for i in live if i.status in OPEN and i.payable > 0]
            if payable:
                target = payable[step[1] % len(payable)]
                amount = max(Decimal("0.01"), (target.payable * step[2] / 100).quantize(Decimal("0.01")))
                await books.transfer(target, min(amount, target.payable))
        elif kind == "advance":
            await books.advance(account, str(step[1]))
        elif kind == "cancel":
            if invoices:
                await books.cancel(invoices[step[1] % len(invoices)], step[2])
        elif kind == "return":  # goods received back: a credit note (at most what was invoiced)
            live = [await books.invoice(i.id) for i in invoices]
            returnable = [i for i in live if i.status is not Status.VOIDED]
            if returnable:
                await books.return_goods(returnable[step[1] % len(returnable)], step[2], step[3])
                event("goods returned")
        else:
            books.clock.advance(days=step[1])
    last_day = books.clock.now().date()
    middle = min(first_day + timedelta(days=cut), last_day)
    starts = [date(first_day.year, first_day.month, 1)]
    if middle > starts[0]:
        starts.append(middle)
    await books.check_identities(account, starts, last_day + timedelta(days=1))
