"""The unit wallet on a real PostgreSQL (no broker: events stop in the outbox): many usage reports
on one account at once, from sessions of two engines (as two worker replicas), keep the ledger
whole; a manual purchase through the database-backed sandbox charges once per key."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from billing_testkit import CARD_DECLINED, CARD_OK
from sqlalchemy import func, select
from units_testkit import CUSTOMER, PAYEE, UNITS_1000, UNITS_5000, assert_ledger_whole

from billing.adapters.events import to_contract
from billing.adapters.gateway import GatewayResult, SandboxGateway, charges
from billing.adapters.repository import BillingUnitOfWork
from billing.adapters.units_repository import entry_of
from billing.adapters.units_tables import UnitLedgerRow, UnitPurchaseRow, UnitWalletRow
from billing.bootstrap import definition
from billing.domain.cards import Card
from billing.domain.invoices import BillTo
from billing.domain.payments import PaymentRequest
from billing.domain.units import Priced, PurchaseLine, PurchaseSource, PurchaseStatus
from billing.http.units import render
from billing.service.invoicing import Invoicing
from billing.service.payments import Payments
from billing.service.units import ManualPurchase, UnitWallets, record_outcome, start_purchase
from portal_runtime.auth import Principal
from portal_runtime.clock import FrozenClock
from portal_runtime.db import OutboxRecord, make_engine, make_sessionmaker
from portal_runtime.errors import Conflict
from portal_runtime.outbox import Outbox
from portal_runtime.uow import UnitsOfWork

CLOCK = FrozenClock(datetime(2026, 3, 20, 9, 0, tzinfo=UTC))


def wallets_on(engine) -> UnitWallets:
    """The use cases on one engine, as one billing process has them."""
    sessions = make_sessionmaker(engine)
    uow = UnitsOfWork(sessions, Outbox("billing", CLOCK), to_contract, BillingUnitOfWork)
    return UnitWallets(
        uow,
        CLOCK,
        SandboxGateway(sessions, CLOCK),
        Invoicing(uow, CLOCK, PAYEE),
        tz=UTC,
        initial_grant=2000,
        low_balance_at=100,
    )


async def ledger_of(engine, account_id: str) -> tuple[list, int]:
    async with make_sessionmaker(engine)() as s:
        rows = await s.scalars(select(UnitLedgerRow).where(UnitLedgerRow.account_id == account_id))
        entries = [entry_of(r) for r in rows]
        balance = await s.scalar(select(UnitWalletRow.balance).where(UnitWalletRow.account_id == account_id))
    return entries, balance


async def outbox_count(engine, event_type: str) -> int:
    async with make_sessionmaker(engine)() as s:
        return await s.scalar(select(func.count()).where(OutboxRecord.event_type == event_type))


async def test_concurrent_usage_reports_from_two_engines_keep_the_ledger_whole(migrated_database):
    """50 reports of 60 units (10 of them sent twice) on a new account at once, alternating between
    two engines: one grant, 50 consumed entries numbered without gaps, the balance their sum, and
    the crossings of the low level and of zero told once each."""
    url = await migrated_database(definition())
    engines = [make_engine(url), make_engine(url)]
    try:
        services = [wallets_on(e) for e in engines]
        reports = [(f"u-{i}", 60) for i in range(50)]
        reports += reports[:10]  # the same usage id again, at the same time
        started = time.perf_counter()
        recorded = await asyncio.gather(
            *(
                services[i % 2].record_usage(account_id="acme", usage_id=u, units=n, used_on=date(2026, 3, 20))
                for i, (u, n) in enumerate(reports)
            )
        )
        elapsed = time.perf_counter() - started
        entries, balance = await ledger_of(engines[0], "acme")
        lows = await outbox_count(engines[0], "UnitsBalanceLow")
        depleted = await outbox_count(engines[0], "UnitsBalanceDepleted")
        granted = await outbox_count(engines[0], "UnitsCredited")
    finally:
        for engine in engines:
            await engine.dispose()
    print(f"60 usage reports (50 distinct) on one account from 2 engines: {elapsed:.2f}s")
    assert sum(r.created for r in recorded) == 50
    assert [e.kind.value for e in entries].count("granted") == 1 and granted == 1
    assert len(entries) == 51 and balance == 2000 - 50 * 60
    assert_ledger_whole(entries, balance)
    assert (lows, depleted) == (1, 1)


async def test_a_manual_purchase_charges_once_per_key_through_the_database_sandbox(migrated_database):
    url = await migrated_database(definition())
    engine = make_engine(url)
    try:
        svc = wallets_on(engine)
        for package in (UNITS_1000, UNITS_5000):
            await svc.package_published(package)
        today = date(2026, 3, 20)
        ok = ManualPurchase(
            lines=[(UNITS_1000.item_id, 2), (UNITS_5000.item_id, 1)], card=Card.parse(**CARD_OK, today=today)
        )
        first, again = await asyncio.gather(
            *(svc.purchase(ok, caller=CUSTOMER, idempotency_key="k1", render=render) for _ in range(2))
        )
        second = await svc.purchase(ok, caller=CUSTOMER, idempotency_key="k2", render=render)
        declined = ManualPurchase(lines=[(UNITS_1000.item_id, 1)], card=Card.parse(**CARD_DECLINED, today=today))
        refused = await svc.purchase(declined, caller=CUSTOMER, idempotency_key="k3", render=render)
        refused_again = await svc.purchase(declined, caller=CUSTOMER, idempotency_key="k3", render=render)
        money_moved = await charges(engine)
        entries, balance = await ledger_of(engine, "acme")
        async with make_sessionmaker(engine)() as s:
            statuses = sorted(await s.scalars(select(UnitPurchaseRow.status)))
        view = await svc.view(CUSTOMER)
    finally:
        await engine.dispose()
    assert first == again and first.status_code == 201 and first.body["balance_after"] == 9000
    assert second.status_code == 201 and second.body["balance_after"] == 16000
    assert refused.status_code == refused_again.status_code == 402 and refused == refused_again
    assert sorted((c.amount, c.idempotency_key) for c in money_moved) == sorted(  # the frozen clock: one charged_at
        [
            (Decimal("297.00"), f"unit-purchase:{first.body['purchase_id']}"),
            (Decimal("297.00"), f"unit-purchase:{second.body['purchase_id']}"),
        ]
    )
    assert statuses == ["completed", "completed", "failed"]
    assert [e.kind.value for e in sorted(entries, key=lambda e: e.seq)] == ["granted", "purchased", "purchased"]
    assert_ledger_whole(entries, balance)
    assert balance == view.balance == 16000


async def test_a_plan_purchase_keeps_its_bill_to_and_names_the_contact_when_recorded(migrated_database):
    """The plan's charger calls `start_purchase` and, after its charge, `record_outcome`: the invoice
    is addressed to the billing contact (stored, read back, in InvoiceIssued v2) and UnitsPurchased
    names the contact; a declined one tells no UnitsPurchaseFailed (the plan tells its own)."""
    url = await migrated_database(definition())
    engine = make_engine(url)
    bill_to = BillTo(
        name="Ada Accounts",
        email="ap@acme.example",
        line1="Main St 1",
        postal_code="10115",
        city="Berlin",
        country="DE",
    )
    try:
        svc = wallets_on(engine)
        purchases = []
        for _ in range(2):
            async with svc.uow() as uow:
                await svc.wallet_in(uow, "acme")
                purchase = await start_purchase(
                    uow,
                    svc.invoicing,
                    priced=Priced((PurchaseLine.of(UNITS_1000, 3),), "EUR"),
                    account_id="acme",
                    source=PurchaseSource.PLAN,
                    by="system/units-plan",
                    now=CLOCK.now(),
                    tz=UTC,
                    attempt=1,
                    bill_to=bill_to,
                )
                await uow.commit()
            purchases.append(purchase.purchase_id)
        outcomes = (GatewayResult(approved=True, reference="sbx_1"), GatewayResult(approved=False, reason="x"))
        for purchase_id, result in zip(purchases, outcomes, strict=True):
            async with svc.uow() as uow:
                purchase = await uow.unit_purchases.get(purchase_id, for_update=True)
                await record_outcome(uow, purchase, result, card_brand="visa", card_last4="4242", now=CLOCK.now())
                await uow.commit()
        async with svc.uow() as uow:
            done, failed = [await uow.unit_purchases.get(p) for p in purchases]
            invoice = await uow.invoices.get(done.invoice_id)
        async with make_sessionmaker(engine)() as s:
            payloads = {
                r.event_type: r.envelope["data"]
                for r in await s.scalars(select(OutboxRecord).order_by(OutboxRecord.id))
                if r.envelope["dataversion"] == (2 if r.event_type == "InvoiceIssued" else 1)
            }
        entries, balance = await ledger_of(engine, "acme")
    finally:
        await engine.dispose()
    assert invoice.bill_to == bill_to and invoice.status.value == "paid"
    assert (done.status, failed.status, failed.reason) == (PurchaseStatus.COMPLETED, PurchaseStatus.FAILED, "x")
    assert payloads["InvoiceIssued"]["bill_to"]["email"] == "ap@acme.example"
    assert payloads["UnitsPurchased"]["billing_contact"] == {"name": "Ada Accounts", "email": "ap@acme.example"}
    assert "UnitsPurchaseFailed" not in payloads
    assert balance == 5000 and [e.kind.value for e in sorted(entries, key=lambda e: e.seq)] == ["granted", "purchased"]


async def test_a_unit_purchases_invoice_is_not_paid_through_the_invoice_payments(migrated_database):
    """A unit purchase's invoice is paid by the purchase's own charge: paying it by card through
    the invoice payments while the purchase is pending would charge the card twice for one set of
    units. It answers 409 naming the invoice's status, and no money moves."""
    url = await migrated_database(definition())
    engine = make_engine(url)
    try:
        svc = wallets_on(engine)
        async with svc.uow() as uow:
            await svc.wallet_in(uow, "acme")
            purchase = await start_purchase(
                uow,
                svc.invoicing,
                priced=Priced((PurchaseLine.of(UNITS_1000, 1),), "EUR"),
                account_id="acme",
                source=PurchaseSource.MANUAL,
                by="acme/alice",
                now=CLOCK.now(),
                tz=UTC,
            )
            await uow.commit()
        card = Card.parse(
            number="4242424242424242", expiry_month=12, expiry_year=2035, cvc="123", today=date(2026, 3, 20)
        )
        payments = Payments(svc.uow, CLOCK, SandboxGateway(make_sessionmaker(engine), CLOCK))
        request = PaymentRequest(purchase.invoice_id, "card", Decimal("49.00"), "EUR", "acme", card)
        with pytest.raises(Conflict) as refused:
            await payments.pay(
                request, caller=Principal("alice", "acme", "customer"), idempotency_key="p1", render=None
            )
        assert refused.value.extra["current_status"] == "issued", refused.value.extra
        assert await charges(url) == []
    finally:
        await engine.dispose()


class DyingGateway(SandboxGateway):
    """Charges, then (while `die`) the process dies before the answer comes back: the money moved,
    nothing after the charge runs (no release, no record)."""

    die = True

    async def charge_card(self, **kw):
        result = await super().charge_card(**kw)
        if self.die:
            raise SystemExit("killed while the card was charged")
        return result


async def test_a_retry_takes_over_a_purchase_whose_request_died_while_charging(migrated_database, monkeypatch):
    from billing.service import units

    engine = make_engine(await migrated_database(definition()))
    clock = FrozenClock(datetime(2026, 3, 20, 9, 0, tzinfo=UTC))
    sessions = make_sessionmaker(engine)
    uow = UnitsOfWork(sessions, Outbox("billing", clock), to_contract, BillingUnitOfWork)
    gateway = DyingGateway(sessions, clock)
    svc = UnitWallets(uow, clock, gateway, Invoicing(uow, clock, PAYEE), tz=UTC, initial_grant=2000, low_balance_at=100)
    try:
        await svc.package_published(UNITS_1000)
        ok = ManualPurchase(lines=[(UNITS_1000.item_id, 2)], card=Card.parse(**CARD_OK, today=date(2026, 3, 20)))
        with pytest.raises(SystemExit):
            await svc.purchase(ok, caller=CUSTOMER, idempotency_key="k", render=render)
        gateway.die = False
        assert len(await charges(engine)) == 1

        # Within the lease the first request may still be charging: a retry waits, then answers 409.
        monkeypatch.setattr(units, "ANSWER_WAIT_SECONDS", 0.3)
        with pytest.raises(Conflict):
            await svc.purchase(ok, caller=CUSTOMER, idempotency_key="k", render=render)

        # After it, two retries at once take it over: the first charge's result, units credited once.
        clock.advance(seconds=units.CLAIM_LEASE_SECONDS)
        first, second = await asyncio.gather(
            *(svc.purchase(ok, caller=CUSTOMER, idempotency_key="k", render=render) for _ in range(2))
        )
        money_moved = await charges(engine)
        entries, balance = await ledger_of(engine, "acme")
        async with make_sessionmaker(engine)() as s:
            statuses = list(await s.scalars(select(UnitPurchaseRow.status)))
    finally:
        await engine.dispose()
    assert first == second and first.status_code == 201 and first.body["balance_after"] == 4000
    assert [c.idempotency_key for c in money_moved] == [f"unit-purchase:{first.body['purchase_id']}"]
    assert statuses == ["completed"]
    assert [e.kind.value for e in sorted(entries, key=lambda e: e.seq)] == ["granted", "purchased"]
    assert_ledger_whole(entries, balance)
