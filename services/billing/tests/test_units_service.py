"""The unit wallet's use cases on the fake unit of work (no database, milliseconds): the grant,
usage, low/depleted crossings, adjustments, what the partner sees, the package copy, and manual
purchases with their Idempotency-Key."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from billing_testkit import CARD_DECLINED, CARD_OK
from units_testkit import (
    ADMIN,
    CUSTOMER,
    UNITS_1000,
    UNITS_5000,
    UNITS_USD,
    assert_ledger_whole,
    published,
    units_service,
)

from billing.consumers.units import package_of
from billing.domain.cards import Card
from billing.domain.invoices import BillTo, SourceKind, Status
from billing.domain.units import EntryKind, Priced, PurchaseLine, PurchaseSource, PurchaseStatus
from billing.http.units import render
from billing.service.units import ManualPurchase, start_purchase
from portal_contracts.events import billing as contract
from portal_runtime.clock import FrozenClock
from portal_runtime.errors import Conflict, InvalidInput, NotFound
from portal_runtime.idempotency import KeyReused
from portal_runtime.paging import PageRequest

TODAY = date(2026, 3, 20)


def published_types(uow) -> list[str]:
    return [type(e).__name__ for e in uow.published]


def card(raw: dict = CARD_OK) -> Card:
    return Card.parse(**raw, today=TODAY)


def cart(*lines: tuple, raw_card: dict = CARD_OK) -> ManualPurchase:
    return ManualPurchase(lines=[(package.item_id, quantity) for package, quantity in lines], card=card(raw_card))


async def usage(svc, usage_id: str, units: int, *, account: str = "acme", used_on: date = TODAY):
    return await svc.record_usage(account_id=account, usage_id=usage_id, units=units, used_on=used_on)


# -- the wallet and its grant ---------------------------------------------------------------------


async def test_the_first_touch_opens_the_wallet_with_the_grant_once():
    svc, uow = units_service(grant=2000)
    first = await svc.view(CUSTOMER)
    again = await svc.view(CUSTOMER)
    assert (first.balance, again.balance, first.account_id) == (2000, 2000, "acme")
    [entry] = uow.wallets.of("acme")
    assert (entry.kind, entry.units, entry.balance_after, entry.seq) == (EntryKind.GRANTED, 2000, 2000, 1)
    [credited] = uow.published
    assert isinstance(credited, contract.UnitsCredited) and credited.kind == "granted" and credited.invoice_id is None
    assert uow.invoices.rows == {}  # a grant has no invoice


async def test_a_grant_of_zero_records_nothing():
    svc, uow = units_service(grant=0)
    assert (await svc.view(CUSTOMER)).balance == 0
    assert uow.wallets.of("acme") == [] and uow.published == []


async def test_customers_see_their_own_wallet_and_admins_name_the_account():
    svc, _ = units_service()
    with pytest.raises(NotFound):
        await svc.view(CUSTOMER, "globex")
    with pytest.raises(InvalidInput) as err:
        await svc.view(ADMIN)
    assert err.value.field == "account_id"
    assert (await svc.view(ADMIN, "globex")).account_id == "globex"


# -- usage -----------------------------------------------------------------------------------------


async def test_a_usage_id_counts_once_and_other_figures_are_a_conflict():
    svc, uow = units_service()
    first = await usage(svc, "u-1", 300)
    replay = await usage(svc, "u-1", 300)
    assert first.created and not replay.created and replay.entry == first.entry
    with pytest.raises(Conflict) as err:
        await usage(svc, "u-1", 301)
    assert err.value.field == "usage_id"
    with pytest.raises(Conflict):
        await usage(svc, "u-1", 300, used_on=date(2026, 3, 19))
    assert (await svc.view(CUSTOMER)).balance == 1700
    assert [e.kind for e in uow.wallets.of("acme")] == [EntryKind.GRANTED, EntryKind.CONSUMED]
    assert_ledger_whole(uow.wallets.of("acme"), 1700)


async def test_the_same_usage_id_on_two_accounts_counts_on_each():
    svc, uow = units_service()
    await usage(svc, "u-1", 10, account="acme")
    await usage(svc, "u-1", 10, account="globex")
    assert (await svc.view(ADMIN, "acme")).balance == (await svc.view(ADMIN, "globex")).balance == 1990


async def test_usage_is_recorded_below_zero():
    svc, uow = units_service(grant=100, low_balance_at=0)
    recorded = await usage(svc, "u-1", 250)
    assert recorded.entry.units == -250 and recorded.entry.balance_after == -150
    assert recorded.entry.used_on == TODAY and recorded.entry.usage_id == "u-1"
    assert_ledger_whole(uow.wallets.of("acme"), -150)


async def test_usage_of_less_than_one_unit_is_refused():
    svc, _ = units_service()
    with pytest.raises(InvalidInput) as err:
        await usage(svc, "u-1", 0)
    assert err.value.field == "units"


async def test_low_and_depleted_are_told_once_per_crossing_and_rearmed_above_the_level():
    svc, uow = units_service(grant=500, low_balance_at=100)
    await usage(svc, "u-1", 350)  # 150: above the level
    await usage(svc, "u-2", 100)  # 50: crosses the level
    await usage(svc, "u-3", 10)  # 40: still low, told no more
    await usage(svc, "u-4", 40)  # 0: crosses zero
    await usage(svc, "u-5", 5)  # -5: told no more
    lows = [e for e in uow.published if isinstance(e, contract.UnitsBalanceLow)]
    depleted = [e for e in uow.published if isinstance(e, contract.UnitsBalanceDepleted)]
    assert [(e.balance, e.low_balance_at) for e in lows] == [(50, 100)]
    assert [e.balance for e in depleted] == [0]
    await svc.adjust(ADMIN, account_id="acme", units=305, note="goodwill")  # 300: above both again
    await usage(svc, "u-6", 250)  # 50: low again
    await usage(svc, "u-7", 60)  # -10: depleted again
    lows = [e.balance for e in uow.published if isinstance(e, contract.UnitsBalanceLow)]
    depleted = [e.balance for e in uow.published if isinstance(e, contract.UnitsBalanceDepleted)]
    assert (lows, depleted) == ([50, 50], [0, -10])


async def test_one_debit_across_both_levels_tells_both():
    svc, uow = units_service(grant=500, low_balance_at=100)
    await usage(svc, "u-1", 600)
    assert published_types(uow)[-2:] == ["UnitsBalanceLow", "UnitsBalanceDepleted"]


async def test_the_low_level_is_the_accounts_own():
    svc, uow = units_service(grant=1000, low_balance_at=100)
    view = await svc.set_low_balance_at(CUSTOMER, 500)
    assert view.low_balance_at == 500
    await usage(svc, "u-1", 500)
    [low] = [e for e in uow.published if isinstance(e, contract.UnitsBalanceLow)]
    assert (low.balance, low.low_balance_at) == (500, 500)
    with pytest.raises(InvalidInput) as err:
        await svc.set_low_balance_at(CUSTOMER, -1)
    assert err.value.field == "low_balance_at"


async def test_used_this_month_counts_consumed_units_of_the_business_month():
    berlin = ZoneInfo("Europe/Berlin")
    clock = FrozenClock(datetime(2026, 3, 31, 21, 30, tzinfo=UTC))  # 23:30 in Berlin: still March
    svc, _ = units_service(clock=clock, tz=berlin)
    await usage(svc, "march", 100)
    clock.advance(hours=1)  # 00:30 on 1 April in Berlin (still 31 March in UTC)
    await usage(svc, "april", 30)
    await svc.adjust(ADMIN, account_id="acme", units=-7, note="correction")  # not usage
    view = await svc.view(CUSTOMER)
    assert (view.month, view.used_this_month, view.balance) == ("2026-04", 30, 1863)


async def test_the_ledger_filters_by_kind_and_business_dates():
    clock = FrozenClock(datetime(2026, 3, 20, 9, 0, tzinfo=UTC))
    svc, _ = units_service(clock=clock)
    await usage(svc, "u-1", 10)
    clock.advance(days=1)
    await usage(svc, "u-2", 20)
    clock.advance(days=1)
    await svc.adjust(ADMIN, account_id="acme", units=5, note="goodwill")
    page = PageRequest(limit=10)
    everything = await svc.ledger(CUSTOMER, page=page)
    assert [e.seq for e in everything.items] == [4, 3, 2, 1] and everything.total == 4
    consumed = await svc.ledger(CUSTOMER, kind=EntryKind.CONSUMED, page=page)
    assert [e.usage_id for e in consumed.items] == ["u-2", "u-1"]
    one_day = await svc.ledger(CUSTOMER, from_date=date(2026, 3, 21), to_date=date(2026, 3, 21), page=page)
    assert [e.usage_id for e in one_day.items] == ["u-2"]
    with pytest.raises(InvalidInput) as err:
        await svc.ledger(CUSTOMER, from_date=date(2026, 3, 21), to_date=date(2026, 3, 20), page=page)
    assert err.value.field == "to"


# -- adjustments ----------------------------------------------------------------------------------


async def test_adjustments_credit_or_debit_with_a_note_and_the_admin():
    svc, uow = units_service()
    up = await svc.adjust(ADMIN, account_id="acme", units=250, note="goodwill")
    down = await svc.adjust(ADMIN, account_id="acme", units=-50, note="double count")
    assert (up.kind, up.units, up.balance_after, up.by, up.note) == (
        EntryKind.ADJUSTED,
        250,
        2250,
        "portal/ops",
        "goodwill",
    )
    assert (down.units, down.balance_after) == (-50, 2200)
    credited = [e for e in uow.published if isinstance(e, contract.UnitsCredited)]
    assert [(e.kind, e.units) for e in credited] == [("granted", 2000), ("adjusted", 250)]
    for units, note, field in ((0, "x", "units"), (5, " ", "note")):
        with pytest.raises(InvalidInput) as err:
            await svc.adjust(ADMIN, account_id="acme", units=units, note=note)
        assert err.value.field == field
    assert_ledger_whole(uow.wallets.of("acme"), 2200)


# -- the hook the automatic plan fills ------------------------------------------------------------


async def test_every_change_of_a_balance_calls_the_hook_in_its_unit_of_work():
    svc, uow = units_service()
    seen = []

    async def hook(u, wallet):
        assert u is uow
        seen.append(wallet.balance)

    svc.after_balance_change = hook
    await usage(svc, "u-1", 100)
    await usage(svc, "u-1", 100)  # a replay changes nothing: no call
    await svc.adjust(ADMIN, account_id="acme", units=10, note="goodwill")
    await svc.purchase(cart((UNITS_1000, 1)), caller=CUSTOMER, idempotency_key="k1", render=render)
    await svc.purchase(
        cart((UNITS_1000, 1), raw_card=CARD_DECLINED), caller=CUSTOMER, idempotency_key="k2", render=render
    )
    assert seen == [1900, 1910, 2910]  # usage, adjustment, the purchase credited (not the decline)


# -- the package copy -------------------------------------------------------------------------------


async def test_the_package_copy_keeps_the_latest_revision_and_retires():
    svc, uow = units_service()
    newer = package_of(published(UNITS_1000, revision=3))
    assert newer.price == Decimal("49.00") and newer.units == 1000 and newer.currency == "EUR"
    assert await svc.package_published(newer)
    assert not await svc.package_published(package_of(published(UNITS_1000, revision=2)))
    assert uow.unit_packages.rows[UNITS_1000.item_id].revision == 3
    assert package_of(published(UNITS_1000, kind="service")) is None
    assert await svc.package_withdrawn(UNITS_1000.item_id, 4)
    assert uow.unit_packages.rows[UNITS_1000.item_id].retired
    with pytest.raises(InvalidInput) as err:
        await svc.preview([(UNITS_1000.item_id, 1)])
    assert err.value.field == "lines[0].item_id"
    assert not await svc.package_withdrawn(uuid.uuid4(), 1)  # an item billing never sold


# -- prices -------------------------------------------------------------------------------------------


async def test_the_preview_prices_the_cart_on_the_server():
    svc, uow = units_service()
    priced = await svc.preview([(UNITS_1000.item_id, 2), (UNITS_5000.item_id, 1)])
    assert [(line.sku, line.quantity, line.unit_price, line.amount) for line in priced.lines] == [
        ("UNITS-1000", 2, Decimal("49.00"), Decimal("98.00")),
        ("UNITS-5000", 1, Decimal("199.00"), Decimal("199.00")),
    ]
    assert (priced.units, priced.total, priced.currency) == (7000, Decimal("297.00"), "EUR")
    assert uow.unit_purchases.rows == {} and uow.invoices.rows == {}  # nothing stored


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([], "lines"),
        ([(UNITS_1000.item_id, 1), (UNITS_USD.item_id, 1)], "lines"),
        ([(UNITS_1000.item_id, 1), (uuid.uuid4(), 1)], "lines[1].item_id"),
        ([(UNITS_1000.item_id, 0)], "lines[0].quantity"),
        ([(UNITS_1000.item_id, 101)], "lines[0].quantity"),
    ],
)
async def test_a_cart_is_refused_naming_the_field(lines, field):
    svc, uow = units_service()
    with pytest.raises(InvalidInput) as err:
        await svc.preview(lines)
    assert err.value.field == field
    purchase = ManualPurchase(lines=lines, card=card())
    with pytest.raises(InvalidInput) as err:
        await svc.purchase(purchase, caller=CUSTOMER, idempotency_key="k", render=render)
    assert err.value.field == field
    # A refusal stores nothing and the key stays free for a corrected request.
    assert uow.unit_purchases.rows == {} and uow.invoices.rows == {} and uow.idempotency.rows == {}
    answer = await svc.purchase(cart((UNITS_1000, 1)), caller=CUSTOMER, idempotency_key="k", render=render)
    assert answer.status_code == 201


# -- manual purchases ---------------------------------------------------------------------------------


async def test_a_purchase_charges_once_invoices_and_credits_in_the_record_step():
    svc, uow = units_service()
    answer = await svc.purchase(
        cart((UNITS_1000, 2), (UNITS_5000, 1)), caller=CUSTOMER, idempotency_key="k1", render=render
    )
    assert answer.status_code == 201
    body = answer.body
    assert (body["status"], body["units"], body["total"], body["balance_after"]) == ("completed", 7000, "297.00", 9000)
    assert (body["card_brand"], body["card_last4"], body["source"]) == ("visa", "4242", "manual")
    [purchase] = uow.unit_purchases.rows.values()
    invoice = uow.invoices.rows[purchase.invoice_id]
    assert (invoice.source.kind, invoice.source.id) == (SourceKind.UNIT_TOP_UP, str(purchase.purchase_id))
    assert invoice.status is Status.PAID and invoice.due_on == TODAY and invoice.total == Decimal("297.00")
    assert [line.description for line in invoice.lines] == ["1,000 units (UNITS-1000)", "5,000 units (UNITS-5000)"]
    assert body["invoice_number"] == invoice.number
    [charge] = svc.gateway.charges
    assert (charge.amount, charge.currency, charge.idempotency_key) == (
        Decimal("297.00"),
        "EUR",
        f"unit-purchase:{purchase.purchase_id}",
    )
    entries = uow.wallets.of("acme")
    assert [(e.kind, e.units, e.purchase_id, e.source) for e in entries][-1] == (
        EntryKind.PURCHASED,
        7000,
        purchase.purchase_id,
        PurchaseSource.MANUAL,
    )
    assert_ledger_whole(entries, 9000)
    types = published_types(uow)
    assert types.count("UnitsPurchased") == 1 and types.count("PaymentConfirmed") == 1
    bought = next(e for e in uow.published if isinstance(e, contract.UnitsPurchased))
    assert (bought.units, bought.total.amount, bought.balance_after, bought.billing_contact) == (
        7000,
        Decimal("297.00"),
        9000,
        None,
    )
    assert [(line.sku, line.quantity) for line in bought.lines] == [("UNITS-1000", 2), ("UNITS-5000", 1)]
    credited = [e for e in uow.published if isinstance(e, contract.UnitsCredited) and e.kind == "purchased"]
    assert [(e.units, e.invoice_id, e.source) for e in credited] == [(7000, invoice.id, "manual")]


async def test_the_same_key_answers_the_first_answer_and_a_new_key_buys_again():
    svc, uow = units_service()
    first = await svc.purchase(cart((UNITS_1000, 1)), caller=CUSTOMER, idempotency_key="k1", render=render)
    again = await svc.purchase(cart((UNITS_1000, 1)), caller=CUSTOMER, idempotency_key="k1", render=render)
    assert again == first and len(svc.gateway.charges) == 1 and len(uow.unit_purchases.rows) == 1
    with pytest.raises(KeyReused):
        await svc.purchase(cart((UNITS_1000, 2)), caller=CUSTOMER, idempotency_key="k1", render=render)
    second = await svc.purchase(cart((UNITS_1000, 1)), caller=CUSTOMER, idempotency_key="k2", render=render)
    assert second.body["purchase_id"] != first.body["purchase_id"] and second.body["balance_after"] == 4000
    assert len(svc.gateway.charges) == 2 and (await svc.view(CUSTOMER)).balance == 4000


async def test_a_declined_purchase_credits_nothing_voids_its_invoice_and_replays_its_402():
    svc, uow = units_service()
    declined = cart((UNITS_1000, 1), raw_card=CARD_DECLINED)
    answer = await svc.purchase(declined, caller=CUSTOMER, idempotency_key="k1", render=render)
    assert answer.status_code == 402
    body = answer.body
    [purchase] = uow.unit_purchases.rows.values()
    assert (body["reason"], body["purchase_id"], body["invoice_id"], body["purchase_status"]) == (
        "card_declined",
        str(purchase.purchase_id),
        str(purchase.invoice_id),
        "failed",
    )
    assert purchase.status is PurchaseStatus.FAILED and purchase.reason == "card_declined"
    invoice = uow.invoices.rows[purchase.invoice_id]
    assert invoice.status is Status.VOIDED and invoice.payments == []
    assert [step.note for _, step in uow.invoices.history] == ["payment_declined"]
    assert (await svc.view(CUSTOMER)).balance == 2000  # nothing credited
    assert [e.kind for e in uow.wallets.of("acme")] == [EntryKind.GRANTED]
    assert svc.gateway.charges == []
    types = published_types(uow)
    assert "UnitsPurchaseFailed" in types and "InvoiceVoided" in types and "UnitsPurchased" not in types
    failed = next(e for e in uow.published if isinstance(e, contract.UnitsPurchaseFailed))
    assert (failed.reason, failed.invoice_number, failed.total.amount) == (
        "card_declined",
        invoice.number,
        Decimal("49.00"),
    )
    published_before = len(uow.published)
    replay = await svc.purchase(declined, caller=CUSTOMER, idempotency_key="k1", render=render)
    assert replay == answer and len(uow.unit_purchases.rows) == 1 and len(uow.published) == published_before


async def test_a_card_that_is_not_valid_is_refused_before_anything():
    with pytest.raises(InvalidInput) as err:
        card({**CARD_OK, "number": "4242424242424241"})
    assert err.value.field == "card.number"


async def test_purchases_are_listed_and_read_by_their_account_only():
    svc, _ = units_service()
    ok = await svc.purchase(cart((UNITS_1000, 1)), caller=CUSTOMER, idempotency_key="k1", render=render)
    await svc.purchase(
        cart((UNITS_1000, 1), raw_card=CARD_DECLINED), caller=CUSTOMER, idempotency_key="k2", render=render
    )
    page = PageRequest()
    assert (await svc.list_purchases(CUSTOMER, page=page)).total == 2
    failed = await svc.list_purchases(CUSTOMER, status=PurchaseStatus.FAILED, page=page)
    assert [p.status for p in failed.items] == [PurchaseStatus.FAILED]
    assert (await svc.list_purchases(CUSTOMER, source=PurchaseSource.PLAN, page=page)).total == 0
    assert (await svc.list_purchases(CUSTOMER, account_id="globex", page=page)).total == 0
    assert (await svc.list_purchases(ADMIN, account_id="acme", page=page)).total == 2
    purchase_id = uuid.UUID(ok.body["purchase_id"])
    assert (await svc.get_purchase(CUSTOMER, purchase_id)).invoice_number == ok.body["invoice_number"]
    other = CUSTOMER.__class__(user_id="bob", account_id="globex", role="customer")
    with pytest.raises(NotFound):
        await svc.get_purchase(other, purchase_id)


async def test_a_plan_purchase_invoice_is_addressed_to_its_bill_to():
    svc, uow = units_service()
    bill_to = BillTo(
        name="Ada Accounts",
        email="ap@acme.example",
        line1="Main St 1",
        postal_code="10115",
        city="Berlin",
        country="DE",
        company="Acme GmbH",
    )
    async with svc.uow() as u:
        await svc.wallet_in(u, "acme")
        purchase = await start_purchase(
            u,
            svc.invoicing,
            priced=Priced((PurchaseLine.of(UNITS_1000, 3),), "EUR"),
            account_id="acme",
            source=PurchaseSource.PLAN,
            by="system/units-plan",
            now=svc.clock.now(),
            tz=svc.tz,
            attempt=1,
            bill_to=bill_to,
        )
        await u.commit()
    invoice = uow.invoices.rows[purchase.invoice_id]
    assert (
        invoice.bill_to == bill_to
        and purchase.pending
        and purchase.attempt == 1
        and purchase.total == Decimal("147.00")
    )
    [v2] = [e for e in uow.published if isinstance(e, contract.InvoiceIssuedV2)]
    assert v2.bill_to == contract.BillTo(
        name="Ada Accounts",
        email="ap@acme.example",
        company="Acme GmbH",
        line1="Main St 1",
        postal_code="10115",
        city="Berlin",
        country="DE",
    )
    assert not any(isinstance(e, contract.UnitsPurchaseFailed) for e in uow.published)
