"""The automatic plan on a real PostgreSQL (no broker), each engine standing for one billing
process: many usage reports at once on one account from two processes make exactly one plan
purchase (the wallet's row lock); two chargers on two engines charge it once and credit it once
(FOR UPDATE SKIP LOCKED, the gateway's idempotency key); a charger that dies after the charge and
before its commit leaves the purchase pending and the next round charges it with the same key
(one charge in the sandbox, one credit). Also what is stored: the card's token, brand and last 4
only, the invoice addressed to the billing contact, the plan's events in the outbox."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from plans_testkit import NOW, POLICY, card, db_stack, terms
from sqlalchemy import func, select, text
from units_testkit import CUSTOMER, UNITS_1000

from billing.adapters.gateway import charges
from billing.adapters.plan_tables import UnitPlanHistoryRow, UnitPlanRow
from billing.adapters.units_tables import UnitLedgerRow, UnitPurchaseRow, UnitWalletRow
from billing.bootstrap import definition
from billing.domain.plans import RetryPolicy
from billing.domain.units import EntryKind
from billing.service.top_ups import Charger, PutPlan
from portal_runtime.clock import FrozenClock
from portal_runtime.db import OutboxRecord, make_engine
from portal_runtime.testing import eventually

REPORTS = 50
NUMBER = "4242424242424242"


@pytest.fixture
async def engines(migrated_database) -> AsyncIterator[Callable[[], object]]:
    """Engines on one migrated billing database, each standing for one process."""
    url = await migrated_database(definition())
    made = []

    def engine():
        made.append(make_engine(url))
        return made[-1]

    yield engine
    for e in made:
        await e.dispose()


async def started(engines, *, grant: int, policy: RetryPolicy = POLICY):
    """Two processes' stacks on one database and one clock, the package on sale, and a watcher."""
    clock = FrozenClock(NOW)
    one, two = db_stack(engines(), clock, grant=grant, policy=policy), db_stack(engines(), clock, grant=grant)
    await one.units.package_published(UNITS_1000)
    return one, two, engines()


async def plan_purchases(watcher) -> list:
    async with watcher.connect() as conn:
        rows = await conn.execute(
            select(UnitPurchaseRow.__table__)
            .where(UnitPurchaseRow.source == "plan")
            .order_by(UnitPurchaseRow.created_at)
        )
        return list(rows)


async def ledger(watcher) -> list:
    async with watcher.connect() as conn:
        return list(await conn.execute(select(UnitLedgerRow.__table__).order_by(UnitLedgerRow.seq)))


async def balance(watcher) -> int:
    async with watcher.connect() as conn:
        return await conn.scalar(select(UnitWalletRow.balance).where(UnitWalletRow.account_id == "acme"))


async def outbox(watcher, event_type: str) -> list[dict]:
    async with watcher.connect() as conn:
        rows = await conn.scalars(
            select(OutboxRecord.envelope).where(OutboxRecord.event_type == event_type).order_by(OutboxRecord.id)
        )
        return [envelope["data"] for envelope in rows]


def assert_whole(entries: list, wallet_balance: int) -> None:
    """The balance is the sum of the ledger and seq runs 1, 2, ... without gaps."""
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert sum(e.units for e in entries) == wallet_balance


async def test_fifty_usage_reports_at_once_from_two_processes_make_one_top_up_charged_once(engines):
    one, two, watcher = await started(engines, grant=1000)
    assert (await one.top_ups.put_plan(CUSTOMER, PutPlan(terms(), card()))).top_up is None

    async def report(i: int) -> None:
        stack = (one, two)[i % 2]
        await stack.units.record_usage(account_id="acme", usage_id=f"u-{i}", units=25, used_on=NOW.date())

    await asyncio.gather(*(report(i) for i in range(REPORTS)))  # 1,000 - 50 × 25 = -250
    (pending,) = await plan_purchases(watcher)
    assert (pending.status, pending.units) == ("pending", 1000)
    assert await balance(watcher) == -250

    # Two charger loops (two processes) at once: one takes it, the other skips it; charged once.
    asked: list[str] = []  # every charge the chargers ask the gateway for
    loops = [
        asyncio.create_task(Charger(s.top_ups.uow, s.clock, Asking(s.gateway, asked), s.top_ups).run(poll_seconds=0.01))
        for s in (one, two)
    ]
    try:

        async def charged() -> bool:
            return [p.status for p in await plan_purchases(watcher)] == ["completed"]

        await eventually(charged, what="the top-up charged and recorded")
    finally:
        for loop in loops:
            loop.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
    (done,) = await plan_purchases(watcher)
    assert done.status == "completed"
    assert asked == [f"unit-purchase:{done.purchase_id}"]  # asked once: the other loop never took it
    [charged] = await charges(watcher)
    assert (charged.idempotency_key, charged.amount, charged.method) == (
        f"unit-purchase:{done.purchase_id}",
        Decimal("49.00"),
        "saved_card",
    )
    entries = await ledger(watcher)
    assert [e.purchase_id for e in entries if e.kind == EntryKind.PURCHASED] == [done.purchase_id]
    assert_whole(entries, await balance(watcher))
    assert await balance(watcher) == 750


class Asking:
    """A gateway that notes every saved-card charge it is asked for, then asks the real one."""

    def __init__(self, gateway, asked: list[str]) -> None:
        self.gateway, self.asked = gateway, asked

    async def charge_saved_card(self, **charge):
        self.asked.append(charge["idempotency_key"])
        return await self.gateway.charge_saved_card(**charge)


class DiesBeforeCommit(Charger):
    """A charger whose process dies once after the charge, inside the record step."""

    died = False

    async def record(self, uow, purchase, result, card):
        await super().record(uow, purchase, result, card)
        if not DiesBeforeCommit.died:
            DiesBeforeCommit.died = True
            raise SystemExit("the worker died before its commit")


async def test_a_charger_that_dies_before_its_commit_leaves_the_purchase_pending_and_it_is_charged_once(engines):
    one, two, watcher = await started(engines, grant=0)
    view = await one.top_ups.put_plan(CUSTOMER, PutPlan(terms(), card()))
    assert view.top_up is not None

    with pytest.raises(SystemExit):
        await DiesBeforeCommit(one.top_ups.uow, one.clock, one.gateway, one.top_ups).drain()
    (still,) = await plan_purchases(watcher)
    assert still.status == "pending"
    assert len(await charges(watcher)) == 1  # the money moved, the record did not commit
    assert [e.kind for e in await ledger(watcher)] == []  # nothing credited (grant 0)

    # The next round (another process) charges it again with the same key: no second charge.
    assert await Charger(two.top_ups.uow, two.clock, two.gateway, two.top_ups).drain() == 1
    (done,) = await plan_purchases(watcher)
    assert done.status == "completed"
    [charged] = await charges(watcher)
    assert charged.idempotency_key == f"unit-purchase:{done.purchase_id}"
    entries = await ledger(watcher)
    assert [(e.kind, e.units) for e in entries] == [("purchased", 1000)]
    assert_whole(entries, await balance(watcher))
    assert len(await outbox(watcher, "UnitsPurchased")) == 1


async def test_what_is_stored_card_token_only_bill_to_on_the_invoice_and_the_plans_events(engines):
    one, _, watcher = await started(engines, grant=0, policy=RetryPolicy(POLICY.retry_after, max_declines=1))
    await one.top_ups.put_plan(CUSTOMER, PutPlan(terms(monthly_cap=Decimal("300.00")), card(NUMBER)))
    async with watcher.connect() as conn:
        plan = (await conn.execute(select(UnitPlanRow.__table__))).one()
        sandbox_cards = (await conn.execute(text("SELECT * FROM gateway_sandbox_cards"))).all()
        invoice_bill_to = await conn.scalar(text("SELECT bill_to FROM invoices"))
    assert (plan.card_brand, plan.card_last4, plan.card_token) == ("visa", "4242", sandbox_cards[0].token)
    for row in (plan, *sandbox_cards):
        assert NUMBER not in json.dumps(row._asdict(), default=str)
    assert invoice_bill_to == {
        "name": "Bea Billing",
        "email": "bea@acme.example",
        "company": "Acme GmbH",
        "line1": "Main St 1",
        "line2": None,
        "postal_code": "10115",
        "city": "Berlin",
        "country": "DE",
    }
    (issued,) = [data for data in await outbox(watcher, "InvoiceIssued") if "bill_to" in data]  # version 2
    assert issued["bill_to"]["email"] == "bea@acme.example"

    await Charger(one.top_ups.uow, one.clock, one.gateway, one.top_ups).drain()
    (bought,) = await outbox(watcher, "UnitsPurchased")
    assert bought["billing_contact"] == {"name": "Bea Billing", "email": "bea@acme.example"}

    # A declining card (one decline pauses, by this policy): the plan's two events, in the outbox.
    await one.top_ups.save_card(CUSTOMER, card("4000000000000002"))
    await one.units.record_usage(account_id="acme", usage_id="u-1", units=1000, used_on=NOW.date())
    await Charger(one.top_ups.uow, one.clock, one.gateway, one.top_ups).drain()
    (failed,) = await outbox(watcher, "UnitsTopUpFailed")
    assert (failed["reason"], failed["plan_paused"], failed["declines_in_a_row"]) == ("card_declined", True, 1)
    (paused,) = await outbox(watcher, "UnitsPlanPaused")
    assert paused["billing_contact"]["email"] == "bea@acme.example"
    async with watcher.connect() as conn:
        moves = (await conn.execute(select(UnitPlanHistoryRow.to_status, UnitPlanHistoryRow.by))).all()
        voided = await conn.scalar(select(func.count()).select_from(text("invoices")).where(text("status = 'voided'")))
    assert [tuple(m) for m in moves] == [("active", "acme/alice"), ("paused", "system/units-plan")]
    assert voided == 1

    # The cap: a new card resumes at once; 49 + 49 spent, a deficit needing 5 packages (245) is over 300.
    await one.top_ups.save_card(CUSTOMER, card())
    await Charger(one.top_ups.uow, one.clock, one.gateway, one.top_ups).drain()
    await one.units.record_usage(account_id="acme", usage_id="u-2", units=5000, used_on=NOW.date())
    (reached,) = await outbox(watcher, "UnitsCapReached")
    assert (reached["month"], reached["spent"]["amount"], reached["needed"]["amount"]) == ("2026-03", "98.00", "245.00")
    assert reached["resumes_on"] == "2026-04-01"
    one.clock._at = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)
    assert await one.top_ups.run_due() == {"plans_due": 1, "top_ups_started": 1}  # April: the job tops up
    pending = [p for p in await plan_purchases(watcher) if p.status == "pending"]
    assert [(p.units, p.total) for p in pending] == [(5000, Decimal("245.00"))]
