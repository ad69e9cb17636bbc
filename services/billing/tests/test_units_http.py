"""Billing's units endpoints over real HTTP on PostgreSQL with the database-backed sandbox, and its
consumer of `usage.units` and `catalog.items` on the real Kafka: what the partner sees, admins'
usage and adjustments, a manual purchase with its key, refusals naming the field, and usage told
twice on the topic counted once."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

from billing_testkit import CARD_DECLINED, CARD_OK, produce
from units_testkit import UNITS_1000, UNITS_5000, published

from billing.adapters.gateway import SandboxGateway, charges
from billing.bootstrap import definition
from billing.service.invoicing import Invoicing
from billing.service.units import UnitWallets
from billing.settings import BillingSettings
from portal_contracts import Envelope
from portal_contracts.events.usage import UnitsConsumed
from portal_runtime.clock import FrozenClock
from portal_runtime.testing import Seen, bearer, running_service

CLOCK_AT = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
ADMIN = bearer("ops", "admin")


def account() -> str:
    return f"acct-{uuid.uuid4().hex[:8]}"


async def billing(new_database, kafka, **options):
    url = await new_database("billing")
    return running_service(definition(), database_url=url, kafka=kafka, clock=FrozenClock(CLOCK_AT), **options)


async def offer(rt, *packages) -> None:
    """Packages in billing's copy, as its consumer keeps them from catalog.items."""
    units = UnitWallets(
        rt.uow,
        rt.clock,
        SandboxGateway(rt.sessions, rt.clock),
        Invoicing(rt.uow, rt.clock, BillingSettings().payee()),
        tz=UTC,
        initial_grant=2000,
        low_balance_at=100,
    )
    for package in packages:
        await units.package_published(package)


def buy(key: str, customer: str) -> dict:
    return {**bearer(customer), "Idempotency-Key": key}


CART = {
    "lines": [{"item_id": str(UNITS_1000.item_id), "quantity": 2}, {"item_id": str(UNITS_5000.item_id), "quantity": 1}]
}


async def test_the_first_look_at_a_new_accounts_ledger_shows_its_grant_and_another_accounts_is_an_empty_page(
    new_database, kafka
):
    """The request that opens a wallet (with its grant) answers the grant on its page; a customer
    naming another account's ledger gets an empty page, as on every list, and opens nothing."""
    customer, other = account(), account()
    async with await billing(new_database, kafka, consume=False, relay=False) as (_, http):
        first = await http.get("/v1/units/ledger", headers=bearer(customer))
        theirs = await http.get("/v1/units/ledger", params={"account_id": other}, headers=bearer(customer))
        opened = await http.get("/v1/units/ledger", params={"account_id": other}, headers=ADMIN)
    assert first.status_code == 200, first.text
    assert first.json()["total"] == 1 and [(e["kind"], e["units"]) for e in first.json()["items"]] == [
        ("granted", 2000)
    ]
    assert theirs.status_code == 200 and theirs.json()["items"] == [] and theirs.json()["total"] == 0
    assert opened.json()["total"] == 1


async def test_what_the_partner_sees_and_what_admins_record(new_database, kafka):
    customer = account()
    async with await billing(new_database, kafka, consume=False, relay=False) as (_, http):
        units = (await http.get("/v1/units", headers=bearer(customer))).json()
        usage = {"usage_id": "u-1", "account_id": customer, "units": 150, "used_on": "2026-03-20"}
        first = await http.post("/v1/admin/units/usage", json=usage, headers=ADMIN)
        replay = await http.post("/v1/admin/units/usage", json=usage, headers=ADMIN)
        other = await http.post("/v1/admin/units/usage", json={**usage, "units": 151}, headers=ADMIN)
        by_customer = await http.post("/v1/admin/units/usage", json=usage, headers=bearer(customer))
        adjusted = await http.post(
            "/v1/admin/units/adjustments", json={"account_id": customer, "units": -50, "note": "double"}, headers=ADMIN
        )
        zero = await http.post(
            "/v1/admin/units/adjustments", json={"account_id": customer, "units": 0, "note": "x"}, headers=ADMIN
        )
        patched = await http.patch("/v1/units", json={"low_balance_at": 500}, headers=bearer(customer))
        as_admin = (await http.get("/v1/units", params={"account_id": customer}, headers=ADMIN)).json()
        admin_without = await http.get("/v1/units", headers=ADMIN)
        other_account = await http.get("/v1/units", params={"account_id": "globex"}, headers=bearer(customer))
        ledger = (await http.get("/v1/units/ledger", headers=bearer(customer))).json()
        consumed = await http.get(
            "/v1/units/ledger",
            params={"kind": "consumed", "from": "2026-03-20", "to": "2026-03-20"},
            headers=bearer(customer),
        )
        before = await http.get("/v1/units/ledger", params={"to": "2026-03-19"}, headers=bearer(customer))
    assert units == {
        "account_id": customer,
        "balance": 2000,
        "used_this_month": 0,
        "month": "2026-03",
        "low_balance_at": 100,
        "plan": None,
    }
    assert first.status_code == 201 and replay.status_code == 200 and replay.json() == first.json()
    assert first.json()["units"] == -150 and first.json()["balance_after"] == 1850
    assert other.status_code == 409 and other.json()["field"] == "usage_id"
    assert by_customer.status_code == 403
    assert adjusted.status_code == 201 and adjusted.json()["by"] == "ops/admin" and adjusted.json()["units"] == -50
    assert zero.status_code == 422 and zero.json()["field"] == "units"
    assert patched.status_code == 200 and patched.json()["low_balance_at"] == 500
    assert (as_admin["balance"], as_admin["used_this_month"]) == (1800, 150)
    assert admin_without.status_code == 422 and admin_without.json()["field"] == "account_id"
    assert other_account.status_code == 404
    assert [(e["seq"], e["kind"], e["units"], e["balance_after"]) for e in ledger["items"]] == [
        (3, "adjusted", -50, 1800),
        (2, "consumed", -150, 1850),
        (1, "granted", 2000, 2000),
    ]
    assert consumed.status_code == 200 and [e["usage_id"] for e in consumed.json()["items"]] == ["u-1"]
    assert before.json()["total"] == 0


async def test_a_manual_purchase_over_http(new_database, kafka):
    customer = account()
    async with await billing(new_database, kafka, consume=False, relay=False) as (rt, http):
        await offer(rt, UNITS_1000, UNITS_5000)
        preview = await http.post("/v1/units/purchases/preview", json=CART, headers=bearer(customer))
        body = {**CART, "card": CARD_OK}
        first = await http.post("/v1/units/purchases", json=body, headers=buy("k1", customer))
        again = await http.post("/v1/units/purchases", json=body, headers=buy("k1", customer))
        second = await http.post("/v1/units/purchases", json=body, headers=buy("k2", customer))
        declined_body = {"lines": [{"item_id": str(UNITS_1000.item_id), "quantity": 1}], "card": CARD_DECLINED}
        declined = await http.post("/v1/units/purchases", json=declined_body, headers=buy("k3", customer))
        declined_again = await http.post("/v1/units/purchases", json=declined_body, headers=buy("k3", customer))
        invoice = (await http.get(f"/v1/invoices/{first.json()['invoice_id']}", headers=bearer(customer))).json()
        voided = (await http.get(f"/v1/invoices/{declined.json()['invoice_id']}", headers=bearer(customer))).json()
        listed = (await http.get("/v1/units/purchases", headers=bearer(customer))).json()
        failed = (await http.get("/v1/units/purchases", params={"status": "failed"}, headers=bearer(customer))).json()
        one = await http.get(f"/v1/units/purchases/{first.json()['purchase_id']}", headers=bearer(customer))
        not_theirs = await http.get(f"/v1/units/purchases/{first.json()['purchase_id']}", headers=bearer("globex"))
        units = (await http.get("/v1/units", headers=bearer(customer))).json()
        money_moved = await charges(rt.sessions)
    assert preview.status_code == 200 and preview.json() == {
        "lines": [
            {
                "item_id": str(UNITS_1000.item_id),
                "sku": "UNITS-1000",
                "name": "1,000 units",
                "units": 1000,
                "quantity": 2,
                "unit_price": "49.00",
                "amount": "98.00",
            },
            {
                "item_id": str(UNITS_5000.item_id),
                "sku": "UNITS-5000",
                "name": "5,000 units",
                "units": 5000,
                "quantity": 1,
                "unit_price": "199.00",
                "amount": "199.00",
            },
        ],
        "units": 7000,
        "total": "297.00",
        "currency": "EUR",
    }
    assert first.status_code == 201, first.text
    assert again.status_code == 201 and again.content == first.content
    bought = first.json()
    assert (bought["status"], bought["total"], bought["units"], bought["balance_after"]) == (
        "completed",
        "297.00",
        7000,
        9000,
    )
    assert (bought["card_brand"], bought["card_last4"], bought["invoice_number"]) == ("visa", "4242", invoice["number"])
    assert second.status_code == 201 and second.json()["purchase_id"] != bought["purchase_id"]
    assert declined.status_code == 402 and declined_again.content == declined.content
    problem = declined.json()
    assert (problem["reason"], problem["purchase_status"], problem["field"]) == ("card_declined", "failed", "card")
    assert invoice["status"] == "paid" and invoice["source_kind"] == "unit_top_up" and invoice["due_on"] == "2026-03-20"
    assert invoice["source_id"] == bought["purchase_id"] and invoice["bill_to"] is None
    assert [line["description"] for line in invoice["lines"]] == [
        "1,000 units (UNITS-1000)",
        "5,000 units (UNITS-5000)",
    ]
    assert voided["status"] == "voided" and voided["payments"] == []
    assert listed["total"] == 3 and [p["status"] for p in failed["items"]] == ["failed"]
    assert one.status_code == 200 and not_theirs.status_code == 404
    assert units["balance"] == 16000  # 2000 granted + 2 × 7000; the declined one credited nothing
    assert len(money_moved) == 2


async def test_refusals_name_the_field_and_keep_the_key_free(new_database, kafka):
    customer = account()
    package = str(UNITS_1000.item_id)
    async with await billing(new_database, kafka, consume=False, relay=False) as (rt, http):
        await offer(rt, UNITS_1000)
        answers = {
            field: await http.post("/v1/units/purchases", json={**body, "card": card}, headers=buy("k", customer))
            for field, body, card in (
                ("lines", {"lines": []}, CARD_OK),
                ("lines[0].item_id", {"lines": [{"item_id": str(uuid.uuid4()), "quantity": 1}]}, CARD_OK),
                ("lines[0].quantity", {"lines": [{"item_id": package, "quantity": 0}]}, CARD_OK),
                (
                    "lines[1].quantity",
                    {"lines": [{"item_id": package, "quantity": 1}, {"item_id": package, "quantity": 101}]},
                    CARD_OK,
                ),
                (
                    "card.number",
                    {"lines": [{"item_id": package, "quantity": 1}]},
                    {**CARD_OK, "number": "4242424242424241"},
                ),
            )
        }
        without_key = await http.post(
            "/v1/units/purchases",
            json={"lines": [{"item_id": package, "quantity": 1}], "card": CARD_OK},
            headers=bearer(customer),
        )
        ok = await http.post(
            "/v1/units/purchases",
            json={"lines": [{"item_id": package, "quantity": 1}], "card": CARD_OK},
            headers=buy("k", customer),
        )
    for field, answer in answers.items():
        assert answer.status_code == 422 and answer.json()["field"] == field, (field, answer.text)
    assert without_key.status_code == 400
    assert ok.status_code == 201, ok.text  # the refused requests left the key free


async def test_usage_told_twice_on_the_topic_counts_once_and_the_package_copy_follows_catalog(new_database, kafka):
    customer = account()
    used = UnitsConsumed(
        usage_id=f"run-{uuid.uuid4().hex[:6]}", account_id=customer, units=300, used_on=CLOCK_AT.date()
    )

    def wrapped(event, producer: str) -> Envelope:
        return Envelope.wrap(event, producer=producer, occurred_at=CLOCK_AT)

    first, second = wrapped(used, "metering"), wrapped(used, "metering")  # two envelopes, one usage id
    conflicting = wrapped(used.model_copy(update={"units": 999}), "metering")  # logged and dropped
    item = published(replace(UNITS_1000, item_id=uuid.uuid4()))
    offered = wrapped(item, "catalog")
    seen = Seen()
    async with await billing(new_database, kafka, relay=False, before_start=seen.watch) as (_, http):
        await produce(kafka, first, second, first, conflicting, offered)
        await seen.wait(first.event_id, "applied")
        await seen.wait(first.event_id, "duplicate")
        for envelope in (second, conflicting, offered):
            await seen.wait(envelope.event_id, "applied")
        ledger = (await http.get("/v1/units/ledger", params={"account_id": customer}, headers=ADMIN)).json()
        units = (await http.get("/v1/units", params={"account_id": customer}, headers=ADMIN)).json()
        preview = await http.post(
            "/v1/units/purchases/preview",
            json={"lines": [{"item_id": str(item.item_id), "quantity": 1}]},
            headers=bearer(customer),
        )
    assert [(e["kind"], e["units"], e["usage_id"]) for e in ledger["items"]] == [
        ("consumed", -300, used.usage_id),
        ("granted", 2000, None),
    ]
    assert units["balance"] == 1700 and units["used_this_month"] == 300
    assert preview.status_code == 200 and preview.json()["total"] == "49.00"
