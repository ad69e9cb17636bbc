"""Issue 13's proof, over HTTP and Kafka against the running catalog, orders, billing and notify on
real Kafka, PostgreSQL and the SMTP sink: prepaid units bought by hand and by an automatic plan.
One test per line of the issue's "What must show that it works" (the concurrency lines are
tests/test_units_concurrency.py's, the README's walkthrough tests/test_units_walkthrough.py's).
Time is moved by the services' test clocks and the `unit-top-ups` job is run on demand, never
waited for; what the sandbox gateway charged is read from its table in billing's database.
Emails are read at the SMTP sink once the system is quiet (every event applied, notify with no
email left to send), and each address's whole list of templates is checked, so an email too many
fails as well as one missing. The last two tests run one flow that sends every kind of unit email,
in all four languages (subjects, figures and dates as each language writes them), and again with
every event delivered twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from client_area import at, together, written_date, written_money
from flow import ADMIN, CONFIRMATION, Portal, money, ok, publish_external, running_portal, seller
from units import (
    ADDRESS,
    BALANCE_LOW,
    CAP_REACHED,
    CARD,
    CREDITED,
    DECLINING_CARD,
    GRANT,
    LOW_BALANCE_AT,
    PLAN_PAUSED,
    PURCHASE_FAILED,
    RECEIPT,
    SAYS,
    TOP_UP_FAILED,
    Inbox,
    balance_is,
    buy,
    charges_of,
    check_ledger,
    consumed,
    contact,
    inbox,
    known,
    ledger,
    lines,
    movements,
    package,
    plan,
    plan_on,
    plan_when,
    purchases,
    settled_purchases,
    template,
    top_ups_run,
    used,
    wallet,
    written_units,
)

from portal_runtime.testing import bearer, eventually

DAY = "2027-03-10"  # the tests' business day (UTC); the plan's next month starts 2027-04-01


def refused(response, status: int, field: str | None = None) -> dict[str, Any]:
    """A refusal with this status naming `field` (as `field`, or in a validation error's `errors`)."""
    assert response.status_code == status, f"{response.request.url}: {response.status_code} {response.text}"
    body = response.json()
    if field is not None:
        named = {body.get("field")} | {e.get("field") for e in body.get("errors") or []}
        dotted = field.replace("[", ".").replace("]", "")
        assert field in named or dotted in named, (field, body)
    return body


async def invoice(portal: Portal, headers: dict[str, str], invoice_id: str) -> dict[str, Any]:
    return ok(await portal.http["billing"].get(f"/v1/invoices/{invoice_id}", headers=headers))


async def unit_invoices(portal: Portal, headers: dict[str, str]) -> list[dict[str, Any]]:
    found = ok(await portal.http["billing"].get("/v1/invoices", headers=headers, params={"limit": 200}))["items"]
    return [i for i in found if i["source_kind"] == "unit_top_up"]


def card_free(answer: Any) -> None:
    """No card number or cvc in an answer: only the brand and the last four digits."""
    text = str(answer)
    assert "4242424242424242" not in text and "4242 4242 4242 4242" not in text and "cvc" not in text, text


async def test_a_new_account_is_granted_units_and_buys_packages_by_hand_once_per_key(infra, new_database, kafka):
    async with running_portal(infra, new_database, kafka, test_clock=True) as portal:
        billing = portal.http["billing"]
        await at(portal, DAY)
        small = await package(portal, 1000, "49.00")
        large = await package(portal, 5000, "199.00")
        dollars = await package(portal, 1000, "55.00", "USD")
        old = await package(portal, 500, "30.00")
        account, email, headers = await seller(portal, "en")

        # The first touch opens the wallet with the initial grant: a `granted` entry, no invoice.
        opened = await wallet(portal, headers)
        assert opened == {
            "account_id": account,
            "balance": GRANT,
            "used_this_month": 0,
            "month": "2027-03",
            "low_balance_at": LOW_BALANCE_AT,
            "plan": None,
        }, opened
        [granted] = await ledger(portal, headers)
        assert (granted["seq"], granted["kind"], granted["units"], granted["balance_after"]) == (
            1,
            "granted",
            GRANT,
            GRANT,
        )
        assert granted["invoice_id"] is None and granted["purchase_id"] is None, granted
        assert await wallet(portal, headers) == opened  # granted once

        # "Buy packages": a + beside each, the total computed by the server; nothing is stored.
        await known(portal, headers, small, large, dollars, old)
        cart = lines((small, 2), (large, 1))
        preview = ok(await billing.post("/v1/units/purchases/preview", headers=headers, json={"lines": cart}))
        assert (preview["units"], money(preview["total"]), preview["currency"]) == (7000, Decimal("297.00"), "EUR")
        assert [
            (x["sku"], x["units"], x["quantity"], money(x["unit_price"]), money(x["amount"])) for x in preview["lines"]
        ] == [
            (small["sku"], 1000, 2, Decimal("49.00"), Decimal("98.00")),
            (large["sku"], 5000, 1, Decimal("199.00"), Decimal("199.00")),
        ], preview

        # Refusals name what is wrong and store nothing: the key stays free for the corrected request.
        ok(await portal.http["catalog"].post(f"/v1/admin/items/{old['id']}/retire", headers=ADMIN))

        async def retired():
            r = await billing.post("/v1/units/purchases/preview", headers=headers, json={"lines": lines((old, 1))})
            return r.status_code == 422

        await eventually(retired, what="billing to learn that the package was retired", timeout=60)
        unknown = [{"item_id": "00000000-0000-4000-8000-000000000000", "quantity": 1}]
        key = "nimbus-buy-1"
        refused(await buy(portal, headers, lines((small, 1), (old, 1)), key=key), 422, "lines[1].item_id")
        refused(await buy(portal, headers, unknown, key=key), 422, "lines[0].item_id")
        refused(await buy(portal, headers, lines((small, 0)), key=key), 422, "lines[0].quantity")
        refused(await buy(portal, headers, lines((small, 101)), key=key), 422, "lines[0].quantity")
        refused(await buy(portal, headers, [], key=key), 422, "lines")
        refused(await buy(portal, headers, lines((small, 1), (dollars, 1)), key=key), 422, "lines")
        refused(
            await buy(portal, headers, cart, card={**CARD, "number": "4242 4242 4242 4241"}, key=key),
            422,
            "card.number",
        )
        no_key = await billing.post("/v1/units/purchases", headers=headers, json={"lines": cart, "card": CARD})
        refused(no_key, 400, "Idempotency-Key")
        assert await purchases(portal, headers) == [] and await unit_invoices(portal, headers) == []

        # Bought by card: one invoice, one charge; the units are credited with the charge's record.
        first = ok(await buy(portal, headers, cart, key=key), 201)
        card_free(first)
        assert (first["status"], first["source"], first["units"], money(first["total"]), first["currency"]) == (
            "completed",
            "manual",
            7000,
            Decimal("297.00"),
            "EUR",
        ), first
        assert (first["balance_after"], first["card_brand"], first["card_last4"]) == (GRANT + 7000, "visa", "4242")
        assert [(x["item_id"], x["quantity"], money(x["amount"])) for x in first["lines"]] == [
            (small["id"], 2, Decimal("98.00")),
            (large["id"], 1, Decimal("199.00")),
        ]
        pid = first["purchase_id"]
        entries = await ledger(portal, headers)
        assert movements(entries) == [("granted", GRANT, GRANT), ("purchased", 7000, 9000)]
        bought = entries[1]
        assert (bought["purchase_id"], bought["invoice_id"], bought["source"]) == (pid, first["invoice_id"], "manual")
        paid = await invoice(portal, headers, first["invoice_id"])
        assert (paid["source_kind"], paid["source_id"], paid["status"], paid["number"]) == (
            "unit_top_up",
            pid,
            "paid",
            first["invoice_number"],
        ), paid
        assert money(paid["total"]) == Decimal("297.00") and paid["due_on"] == DAY and money(paid["balance_due"]) == 0
        assert [(x["quantity"], money(x["line_total"])) for x in paid["lines"]] == [
            (2, Decimal("98.00")),
            (1, Decimal("199.00")),
        ]
        assert "1,000 units" in paid["lines"][0]["description"] and small["sku"] in paid["lines"][0]["description"]
        assert [(p["method"], p["card_brand"], money(p["amount"])) for p in paid["payments"]] == [
            ("card", "visa", Decimal("297.00"))
        ]
        [charge] = await charges_of(portal, [pid])
        assert (charge.approved, charge.amount, charge.currency) == (True, Decimal("297.00"), "EUR")

        # The same key again: the first answer, and nothing more (ledger, invoices, charges).
        assert ok(await buy(portal, headers, cart, key=key), 201) == first
        assert await ledger(portal, headers) == entries
        assert [i["id"] for i in await unit_invoices(portal, headers)] == [first["invoice_id"]]
        assert await charges_of(portal, [pid]) == [charge]
        assert [p["purchase_id"] for p in await purchases(portal, headers)] == [pid]

        # A new key: a second purchase; sent twice at once (a client retrying at once), bought once
        # (the second waits for the first's answer, or is told it is still being answered).
        twice = await together(*(buy(portal, headers, lines((small, 1)), key="nimbus-buy-2") for _ in range(2)))
        assert sorted(r.status_code for r in twice) in ([201, 201], [201, 409]), [r.text for r in twice]
        [second, *same] = [r.json() for r in twice if r.status_code == 201]
        assert same in ([], [second]), twice
        assert second["purchase_id"] != pid and second["balance_after"] == 10000, second
        # The key again with another cart: refused, naming the key; nothing bought.
        refused(await buy(portal, headers, lines((small, 2)), key="nimbus-buy-2"), 422, "Idempotency-Key")
        assert (await wallet(portal, headers))["balance"] == 10000
        assert len(await unit_invoices(portal, headers)) == 2
        assert [c.approved for c in await charges_of(portal, [pid, second["purchase_id"]])] == [True, True]

        # Declined: 402 naming the reason, nothing credited, the invoice voided; the same key: the same 402.
        declined = await buy(portal, headers, lines((large, 2)), card=DECLINING_CARD, key="nimbus-buy-3")
        failed = refused(declined, 402)
        assert (failed["reason"], failed["purchase_status"], failed["status"]) == ("card_declined", "failed", 402), (
            failed
        )
        again = await buy(portal, headers, lines((large, 2)), card=DECLINING_CARD, key="nimbus-buy-3")
        assert again.status_code == 402 and again.json() == failed
        assert (await wallet(portal, headers))["balance"] == 10000
        assert movements(await ledger(portal, headers)) == [
            ("granted", GRANT, GRANT),
            ("purchased", 7000, 9000),
            ("purchased", 1000, 10000),
        ]
        voided = await invoice(portal, headers, failed["invoice_id"])
        assert (voided["status"], voided["payments"]) == ("voided", []), voided
        [declined_charge] = await charges_of(portal, [failed["purchase_id"]])
        assert declined_charge.approved is False
        one = ok(await billing.get(f"/v1/units/purchases/{failed['purchase_id']}", headers=headers))
        assert (one["status"], one["reason"], one["invoice_id"]) == ("failed", "card_declined", failed["invoice_id"])
        listed = await purchases(portal, headers, status="failed")
        assert [p["purchase_id"] for p in listed] == [failed["purchase_id"]]
        assert len(await purchases(portal, headers, source="manual")) == 3
        assert {p["invoice_number"] for p in await purchases(portal, headers)} >= {first["invoice_number"]}

        # Another account sees none of it.
        other = bearer("someone-else")
        refused(await billing.get(f"/v1/units/purchases/{pid}", headers=other), 404)
        assert await purchases(portal, other) == []

        # The emails: units credited (granted, then each purchase), a receipt with the invoice per
        # purchase, and the declined purchase's.
        box = await inbox(portal)
        # (no invoice email and no payment email besides: the receipt is both)
        assert box.kinds(email) == {CONFIRMATION: 1, CREDITED: 3, RECEIPT: 2, PURCHASE_FAILED: 1}, box.kinds(email)
        assert box.saying(email, CREDITED, "2,000") and box.saying(email, CREDITED, "7,000")
        assert box.saying(email, RECEIPT, first["invoice_number"], "€297.00", "4242", "5,000 units")
        assert box.saying(email, RECEIPT, second["invoice_number"], "€49.00")
        assert box.saying(email, PURCHASE_FAILED, one["invoice_number"], "€398.00")


async def test_usage_by_event_and_by_http_is_debited_once_per_usage_id(infra, new_database, kafka):
    async with running_portal(infra, new_database, kafka, test_clock=True) as portal:
        await at(portal, DAY)
        account, email, headers = await seller(portal, "de")
        assert (await wallet(portal, headers))["balance"] == GRANT

        # By event: a metering system publishes on usage.units (keyed by account).
        first = await consumed(kafka, account, 300, used_on=DAY)
        await balance_is(portal, headers, 1700)
        # The same report again, twice in one new envelope (a publisher that sent it again), then
        # a new report: once that is applied, the copies before it on the partition were handled.
        await publish_external(kafka, [first], copies=2)
        await consumed(kafka, account, 200, used_on=DAY)
        await balance_is(portal, headers, 1500)

        # By HTTP: 201 the entry; the same report again: 200 with it; other figures: 409.
        entry = ok(await used(portal, account, 250, usage="meter-http-1", used_on=DAY), 201)
        assert (entry["kind"], entry["units"], entry["balance_after"], entry["usage_id"], entry["used_on"]) == (
            "consumed",
            -250,
            1250,
            "meter-http-1",
            DAY,
        ), entry
        assert ok(await used(portal, account, 250, usage="meter-http-1", used_on=DAY)) == entry
        conflict = refused(await used(portal, account, 260, usage="meter-http-1", used_on=DAY), 409)
        assert "usage_id" in str(conflict), conflict
        refused(await used(portal, account, 250, usage="meter-http-1", used_on="2027-03-09"), 409)
        # One usage id counts once whichever way it comes: the event's id over HTTP, the HTTP one as an event.
        [by_event] = [e for e in await ledger(portal, headers) if e["usage_id"] == first.usage_id]
        assert ok(await used(portal, account, 300, usage=first.usage_id, used_on=DAY)) == by_event
        await consumed(kafka, account, 250, usage="meter-http-1", used_on=DAY)
        await consumed(kafka, account, 999, usage=first.usage_id, used_on=DAY)  # other figures: dropped
        await consumed(kafka, account, 50, used_on=DAY)
        await balance_is(portal, headers, 1200)

        # Usage is always recorded, below zero too; the low level (100) and zero are crossed once.
        ok(await used(portal, account, 1150), 201)  # 50: low
        ok(await used(portal, account, 100), 201)  # -50: depleted
        below = ok(await used(portal, account, 5000), 201)
        assert below["balance_after"] == -5050, below
        # An admin's adjustment up re-arms the low level; the next crossing is told again.
        adjusted = ok(
            await portal.http["billing"].post(
                "/v1/admin/units/adjustments",
                headers=ADMIN,
                json={"account_id": account, "units": 6000, "note": "goodwill after an outage"},
            ),
            201,
        )
        assert (adjusted["kind"], adjusted["units"], adjusted["balance_after"], adjusted["note"]) == (
            "adjusted",
            6000,
            950,
            "goodwill after an outage",
        ), adjusted
        await consumed(kafka, account, 900, used_on=DAY)
        await balance_is(portal, headers, 50)
        down = ok(
            await portal.http["billing"].post(
                "/v1/admin/units/adjustments", headers=ADMIN, json={"account_id": account, "units": -10, "note": "fix"}
            ),
            201,
        )
        assert down["balance_after"] == 40
        refused(
            await portal.http["billing"].post(
                "/v1/admin/units/adjustments", headers=ADMIN, json={"account_id": account, "units": 0, "note": "x"}
            ),
            422,
            "units",
        )

        # What the partner sees: balance, used this month, the ledger filtered by kind and date.
        seen = await wallet(portal, headers)
        used_units = 300 + 200 + 250 + 50 + 1150 + 100 + 5000 + 900
        assert (seen["balance"], seen["used_this_month"], seen["month"]) == (40, used_units, "2027-03"), seen
        assert (await wallet(portal, ADMIN, account_id=account))["balance"] == 40
        entries = await ledger(portal, headers)
        check_ledger(entries, 40)
        assert [e["units"] for e in await ledger(portal, headers, kind="consumed")] == [
            -300,
            -200,
            -250,
            -50,
            -1150,
            -100,
            -5000,
            -900,
        ]
        assert len(await ledger(portal, headers, **{"from": DAY, "to": DAY})) == len(entries)
        assert await ledger(portal, headers, **{"from": "2027-03-11"}) == []
        assert await ledger(portal, headers, to="2027-03-09") == []

        # The events other systems read: low twice (once per crossing), depleted once.
        told = Counter(e["type"] for e in await portal.flow_events(account, set()))
        assert (told["UnitsBalanceLow"], told["UnitsBalanceDepleted"]) == (2, 1), told

        # The partner sets its own low level (a balance already below it tells nothing: no debit crossed it).
        billing = portal.http["billing"]
        moved = ok(await billing.patch("/v1/units", headers=headers, json={"low_balance_at": 500}))
        assert (moved["low_balance_at"], moved["balance"]) == (500, 40), moved
        refused(await billing.patch("/v1/units", headers=headers, json={"low_balance_at": -1}), 400, "low_balance_at")

        # Next month, nothing used yet.
        await at(portal, "2027-04-01")
        ok(await used(portal, account, 10), 201)
        april = await wallet(portal, headers)
        assert (april["month"], april["used_this_month"], april["balance"]) == ("2027-04", 10, 30), april

        # The emails, in German: the grant and the adjustment credited; the balance low, twice.
        box = await inbox(portal)
        assert box.kinds(email) == {CONFIRMATION: 1, CREDITED: 2, BALANCE_LOW: 2}, box.kinds(email)
        assert box.saying(email, CREDITED, "6.000") and box.saying(email, BALANCE_LOW, "50")
        assert {m["headers"]["Content-Language"] for m in box.to(email)} == {"de"}


async def test_the_plan_tops_up_once_at_the_threshold_and_mails_the_invoice_to_the_billing_contact(
    infra, new_database, kafka
):
    async with running_portal(infra, new_database, kafka, test_clock=True) as portal:
        billing = portal.http["billing"]
        await at(portal, DAY)
        small = await package(portal, 1000, "49.00")
        account, email, headers = await seller(portal, "en")
        billed = f"billing-{account}@example.test"
        await known(portal, headers, small)
        refused(await billing.get("/v1/units/plan", headers=headers), 404)

        # The plan: a card saved through the gateway (brand and last 4 kept), the billing address
        # and contact, the package and the threshold.
        put = await plan_on(portal, headers, small["id"], billed, threshold=500)
        card_free(put)
        assert (put["status"], put["threshold"], put["monthly_cap"], put["package_item_id"], put["top_up"]) == (
            "active",
            500,
            None,
            small["id"],
            None,
        ), put
        assert (put["card"]["brand"], put["card"]["last4"]) == ("visa", "4242"), put
        assert put["billing_contact"] == contact(billed) and put["declines_in_a_row"] == 0, put
        assert {k: put["billing_address"].get(k) for k in ADDRESS} == ADDRESS, put
        read = await plan(portal, headers)
        assert {k: v for k, v in read.items() if k != "top_up"} == {k: v for k, v in put.items() if k != "top_up"}
        assert (await wallet(portal, headers))["plan"]["status"] == "active"

        # Down to just above the threshold: nothing; reaching it (by event): one top-up.
        ok(await used(portal, account, 1400), 201)
        assert await purchases(portal, headers) == []
        await consumed(kafka, account, 100, used_on=DAY)
        await balance_is(portal, headers, 1500, "the top-up to be credited")
        [top_up] = await settled_purchases(portal, headers, 1)
        card_free(top_up)
        assert (top_up["source"], top_up["status"], top_up["units"], money(top_up["total"])) == (
            "plan",
            "completed",
            1000,
            Decimal("49.00"),
        ), top_up
        assert [(x["item_id"], x["quantity"]) for x in top_up["lines"]] == [(small["id"], 1)]
        assert (top_up["card_brand"], top_up["card_last4"]) == ("visa", "4242")
        [charge] = await charges_of(portal, [top_up["purchase_id"]])
        assert (charge.approved, charge.amount) == (True, Decimal("49.00"))
        entries = await ledger(portal, headers)
        assert movements(entries) == [
            ("granted", GRANT, GRANT),
            ("consumed", -1400, 600),
            ("consumed", -100, 500),
            ("purchased", 1000, 1500),
        ]
        assert (entries[-1]["source"], entries[-1]["purchase_id"]) == ("plan", top_up["purchase_id"])

        # Its invoice is addressed to the billing contact, paid by the saved card.
        paid = await invoice(portal, headers, top_up["invoice_id"])
        assert (paid["status"], paid["source_kind"], paid["source_id"]) == (
            "paid",
            "unit_top_up",
            top_up["purchase_id"],
        )
        assert paid["bill_to"] == {**ADDRESS, "line2": None, **contact(billed)}, paid

        # Above the threshold again: nothing more.
        ok(await used(portal, account, 400), 201)
        assert len(await purchases(portal, headers)) == 1

        # Off: no top-up at the threshold.
        off = ok(await billing.delete("/v1/units/plan", headers=headers))
        assert off["status"] == "off", off
        ok(await used(portal, account, 700), 201)  # 400
        assert len(await purchases(portal, headers)) == 1

        # On again while at or below the threshold: the answer says so and it tops up at once.
        again = await plan_on(portal, headers, small["id"], billed, threshold=500, card=None)
        assert again["status"] == "active" and again["top_up"]["started"] is True, again
        assert again["top_up"]["reason"] == "the balance (400) is at or below the threshold (500)", again
        await balance_is(portal, headers, 1400, "the top-up started by turning the plan on")
        plan_purchases = await settled_purchases(portal, headers, 2, source="plan")
        assert again["top_up"]["purchase_id"] in {p["purchase_id"] for p in plan_purchases}
        assert [c.approved for c in await charges_of(portal, [p["purchase_id"] for p in plan_purchases])] == [
            True,
            True,
        ]
        check_ledger(await ledger(portal, headers), 1400)

        # The invoice goes to the billing contact (the receipt with the invoice), the partner too.
        numbers = [p["invoice_number"] for p in plan_purchases]
        box = await inbox(portal)
        assert box.kinds(billed) == {RECEIPT: 2}, box.kinds(billed)  # no confirmation: the partner named it
        assert box.kinds(email) == {CONFIRMATION: 1, CREDITED: 3, RECEIPT: 2}, box.kinds(email)
        for number in numbers:
            [to_contact] = box.saying(billed, RECEIPT, number, "€49.00", "Dana Billing")
            assert to_contact["rcpt_to"] == [billed], to_contact["rcpt_to"]
            assert box.saying(email, RECEIPT, number)


def parsed(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


async def test_declines_back_off_pause_after_three_and_a_new_card_resumes_at_once(infra, new_database, kafka):
    async with running_portal(infra, new_database, kafka, test_clock=True) as portal:
        await at(portal, DAY)
        small = await package(portal, 1000, "49.00")
        account, email, headers = await seller(portal, "pl")
        billed = f"billing-{account}@example.test"
        await known(portal, headers, small)
        await plan_on(portal, headers, small["id"], billed, card=DECLINING_CARD)  # saving accepts any valid card

        # Used up: the top-up is declined; nothing credited; it waits an hour before trying again.
        ok(await used(portal, account, GRANT), 201)
        first = await plan_when(portal, headers, lambda p: p["declines_in_a_row"] == 1, "the first decline")
        assert first["status"] == "active" and first["next_attempt_at"], first
        [failed] = await settled_purchases(portal, headers, 1)
        assert (failed["status"], failed["reason"], failed["source"]) == ("failed", "card_declined", "plan"), failed
        assert (await invoice(portal, headers, failed["invoice_id"]))["status"] == "voided"
        assert parsed(first["next_attempt_at"]) - parsed(failed["ended_at"]) == timedelta(hours=1), (first, failed)

        # Inside the backoff: usage and the job charge nothing.
        await at(portal, DAY, "09:50:00")
        ok(await used(portal, account, 10), 201)
        await top_ups_run(portal, DAY)
        assert len(await purchases(portal, headers)) == 1

        # After it: the job tries again (declined: two in a row) ...
        await at(portal, DAY, "10:30:00")
        await top_ups_run(portal, DAY)
        await plan_when(portal, headers, lambda p: p["declines_in_a_row"] == 2, "the second decline")
        await settled_purchases(portal, headers, 2)
        # ... and so does the next usage report after the next backoff: the third pauses the plan.
        await at(portal, DAY, "11:45:00")
        await consumed(kafka, account, 5, used_on=DAY)
        paused = await plan_when(portal, headers, lambda p: p["status"] == "paused", "the plan to pause")
        assert (paused["paused_reason"], paused["declines_in_a_row"], paused["next_attempt_at"]) == (
            "declined",
            3,
            None,
        )
        assert [p["status"] for p in await settled_purchases(portal, headers, 3)] == ["failed"] * 3

        # Paused: hours later neither the job nor usage tops up.
        await at(portal, DAY, "15:00:00")
        await top_ups_run(portal, DAY)
        ok(await used(portal, account, 5), 201)
        assert len(await purchases(portal, headers)) == 3
        assert (await wallet(portal, headers))["balance"] == -20

        # A new card resumes the plan and, at or below the threshold, tops up at once.
        resumed = ok(await portal.http["billing"].put("/v1/units/plan/card", headers=headers, json={"card": CARD}))
        card_free(resumed)
        assert (resumed["status"], resumed["declines_in_a_row"], resumed["card"]["last4"]) == ("active", 0, "4242")
        assert resumed["top_up"]["started"] is True, resumed
        assert resumed["top_up"]["reason"] == "the balance (-20) is at or below the threshold (0)", resumed
        await balance_is(portal, headers, 980, "the top-up after the new card")
        ended = await settled_purchases(portal, headers, 4)
        assert sorted(p["status"] for p in ended) == ["completed", "failed", "failed", "failed"]
        charged = await charges_of(portal, [p["purchase_id"] for p in ended])
        assert sorted(c.approved for c in charged) == [False, False, False, True], charged
        check_ledger(await ledger(portal, headers), 980)
        box = await inbox(portal)
        told = {TOP_UP_FAILED: 3, PLAN_PAUSED: 1, RECEIPT: 1}
        assert box.kinds(billed) == told, box.kinds(billed)
        assert box.kinds(email) == {**told, CONFIRMATION: 1, CREDITED: 2, BALANCE_LOW: 1}, box.kinds(email)


async def test_a_large_deficit_is_one_charge_and_the_monthly_cap_stops_top_ups_until_next_month(
    infra, new_database, kafka
):
    async with running_portal(infra, new_database, kafka, test_clock=True) as portal:
        await at(portal, DAY)
        small = await package(portal, 1000, "49.00")

        # 2,500 short with 1,000-unit packages: three in one purchase, one charge, one invoice line.
        deficit, _, in_deficit = await seller(portal, "tr")
        await known(portal, in_deficit, small)
        ok(await used(portal, deficit, GRANT + 2500), 201)
        on = await plan_on(portal, in_deficit, small["id"], f"billing-{deficit}@example.test")
        assert on["top_up"]["started"] is True, on
        assert on["top_up"]["reason"] == "the balance (-2500) is at or below the threshold (0)", on
        await balance_is(portal, in_deficit, 500, "the three packages to be credited")
        [three] = await settled_purchases(portal, in_deficit, 1)
        assert [(x["quantity"], x["units"], money(x["amount"])) for x in three["lines"]] == [
            (3, 1000, Decimal("147.00"))
        ]
        assert (three["units"], money(three["total"])) == (3000, Decimal("147.00")), three
        [charge] = await charges_of(portal, [three["purchase_id"]])
        assert (charge.approved, charge.amount) == (True, Decimal("147.00"))
        billed = await invoice(portal, in_deficit, three["invoice_id"])
        assert [(x["quantity"], money(x["line_total"])) for x in billed["lines"]] == [(3, Decimal("147.00"))]

        # A cap of 120.00 a month: the first top-up (49.00) is made; the next would need two
        # packages (98.00, over the cap) and is not made at all, not even one package; told once.
        account, email, headers = await seller(portal, "en")
        contact_email = f"billing-{account}@example.test"
        capped_plan = await plan_on(portal, headers, small["id"], contact_email, cap="120.00")
        assert money(capped_plan["monthly_cap"]) == Decimal("120.00") and capped_plan["top_up"] is None
        ok(await used(portal, account, GRANT), 201)
        await balance_is(portal, headers, 1000, "the first top-up of the month")
        ok(await used(portal, account, 2500), 201)  # -1500: two packages needed
        capped = await plan_when(portal, headers, lambda p: p["capped_month"] == "2027-03", "the cap to be reached")
        assert capped["status"] == "active", capped
        ok(await used(portal, account, 100), 201)  # -1600
        await top_ups_run(portal, DAY)
        assert [p["status"] for p in await settled_purchases(portal, headers, 1)] == ["completed"]
        assert (await wallet(portal, headers))["balance"] == -1600

        # The next month: the job tops up again (two packages, in one charge).
        await at(portal, "2027-04-01")
        await top_ups_run(portal, "2027-04-01")
        await balance_is(portal, headers, 400, "the top-up of the next month")
        april = await settled_purchases(portal, headers, 2)
        assert sorted((p["units"], money(p["total"])) for p in april) == [
            (1000, Decimal("49.00")),
            (2000, Decimal("98.00")),
        ]
        assert (await plan(portal, headers))["capped_month"] is None
        charged = await charges_of(portal, [p["purchase_id"] for p in april])
        assert sorted(c.amount for c in charged if c.approved) == [Decimal("49.00"), Decimal("98.00")]
        check_ledger(await ledger(portal, headers), 400)
        box = await inbox(portal)
        assert box.kinds(contact_email) == {RECEIPT: 2, CAP_REACHED: 1}, box.kinds(contact_email)
        told = {CONFIRMATION: 1, CREDITED: 3, RECEIPT: 2, BALANCE_LOW: 2, CAP_REACHED: 1}
        assert box.kinds(email) == told, box.kinds(email)
        for to in (email, contact_email):
            assert box.saying(to, CAP_REACHED, "€120.00", "€49.00", "€98.00", "April 1, 2027")


# -- one flow that sends every kind of unit email ------------------------------------------------
PACKAGE_PRICE = Decimal("49.00")
EVERY_MOVEMENT = [
    ("granted", 2000, 2000),
    ("purchased", 1000, 3000),
    ("adjusted", 100, 3100),
    ("consumed", -3000, 100),
    ("consumed", -100, 0),
    ("purchased", 1000, 1000),
    ("consumed", -2500, -1500),
    ("purchased", 2000, 500),
]
TO_THE_ACCOUNT = {
    CONFIRMATION: 1,
    CREDITED: 5,
    RECEIPT: 3,
    PURCHASE_FAILED: 1,
    BALANCE_LOW: 2,
    TOP_UP_FAILED: 3,
    PLAN_PAUSED: 1,
    CAP_REACHED: 1,
}
TO_THE_CONTACT = {RECEIPT: 2, TOP_UP_FAILED: 3, PLAN_PAUSED: 1, CAP_REACHED: 1}


@dataclass
class Partner:
    """One account through every unit email: the grant, a manual purchase (replayed by its key),
    a declined one, an adjustment, usage by event and by HTTP down to the low level and zero, a
    plan on a declining card (declined three times an hour apart: paused), a new card (topped up
    at once), a monthly cap reached by a deficit needing two packages, and the next month."""

    portal: Portal
    kafka: str
    language: str
    package: dict[str, Any]
    account: str = ""
    email: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    copies: int = 1  # how often each usage report is published (2 when every event is delivered twice)

    @property
    def contact(self) -> str:
        return f"billing-{self.account}@example.test"

    async def opens(self) -> None:
        self.account, self.email, self.headers = await seller(self.portal, self.language)
        assert (await wallet(self.portal, self.headers))["balance"] == GRANT
        await known(self.portal, self.headers, self.package)

    async def buys_by_hand(self) -> None:
        cart = lines((self.package, 1))
        key = f"{self.account}-1"
        bought = ok(await buy(self.portal, self.headers, cart, key=key), 201)
        assert ok(await buy(self.portal, self.headers, cart, key=key), 201) == bought
        declined = await buy(self.portal, self.headers, lines((self.package, 2)), card=DECLINING_CARD, key=f"{key}x")
        assert declined.status_code == 402, declined.text
        again = await buy(self.portal, self.headers, lines((self.package, 2)), card=DECLINING_CARD, key=f"{key}x")
        assert (again.status_code, again.json()) == (402, declined.json())
        adjusted = await self.portal.http["billing"].post(
            "/v1/admin/units/adjustments",
            headers=ADMIN,
            json={"account_id": self.account, "units": 100, "note": "gift"},
        )
        assert ok(adjusted, 201)["balance_after"] == 3100

    async def plans_on_a_declining_card(self) -> None:
        await consumed(self.kafka, self.account, 3000, used_on=DAY, copies=self.copies)  # 100: low
        await balance_is(self.portal, self.headers, 100)
        await plan_on(self.portal, self.headers, self.package["id"], self.contact, card=DECLINING_CARD)
        ok(await used(self.portal, self.account, 100), 201)  # 0: the top-up is declined
        await self.declined(1)

    async def declined(self, n: int) -> None:
        await plan_when(self.portal, self.headers, lambda p: p["declines_in_a_row"] == n, f"decline {n}")
        await settled_purchases(self.portal, self.headers, 2 + n)

    async def paused(self) -> None:
        await plan_when(self.portal, self.headers, lambda p: p["status"] == "paused", "the plan to pause")

    async def new_card(self) -> None:
        answer = ok(
            await self.portal.http["billing"].put("/v1/units/plan/card", headers=self.headers, json={"card": CARD})
        )
        assert answer["top_up"]["started"] is True, answer
        await balance_is(self.portal, self.headers, 1000)

    async def capped(self) -> None:
        await plan_on(self.portal, self.headers, self.package["id"], self.contact, cap="100.00", card=None)
        await consumed(self.kafka, self.account, 2500, used_on=DAY, copies=self.copies)  # -1500: 98.00 over the cap
        await plan_when(self.portal, self.headers, lambda p: p["capped_month"] == "2027-03", "the cap")

    async def next_month(self) -> None:
        await balance_is(self.portal, self.headers, 500)

    async def figures(self, box: Inbox) -> dict[str, Any]:
        ended = await purchases(self.portal, self.headers)
        charged = await charges_of(self.portal, [p["purchase_id"] for p in ended])
        entries = await ledger(self.portal, self.headers)
        check_ledger(entries, 500)
        return {
            "balance": (await wallet(self.portal, self.headers))["balance"],
            "ledger": movements(entries),
            "purchases": sorted((p["source"], p["status"], money(p["total"])) for p in ended),
            "charges": sorted((c.approved, c.amount) for c in charged),
            "to the account": box.kinds(self.email),
            "to the contact": box.kinds(self.contact),
        }


EVERY_FIGURE = {
    "balance": 500,
    "ledger": EVERY_MOVEMENT,
    "purchases": sorted(
        [
            ("manual", "completed", Decimal("49.00")),
            ("manual", "failed", Decimal("98.00")),
            ("plan", "failed", Decimal("49.00")),
            ("plan", "failed", Decimal("49.00")),
            ("plan", "failed", Decimal("49.00")),
            ("plan", "completed", Decimal("49.00")),
            ("plan", "completed", Decimal("98.00")),
        ]
    ),
    "charges": sorted(
        [(True, Decimal("49.00")), (True, Decimal("49.00")), (True, Decimal("98.00"))]
        + [(False, Decimal("98.00"))]
        + [(False, Decimal("49.00"))] * 3
    ),
    "to the account": TO_THE_ACCOUNT,
    "to the contact": TO_THE_CONTACT,
}


async def each(partners: list[Partner], step) -> None:
    await asyncio.gather(*(step(p) for p in partners))


async def every_unit_email(
    portal: Portal, kafka: str, languages: list[str], copies: int = 1
) -> tuple[list[Partner], Inbox]:
    """The Partner flow for one account per language, side by side; the clock moves for all."""
    await at(portal, DAY)
    pkg = await package(portal, 1000, str(PACKAGE_PRICE))
    partners = [Partner(portal, kafka, language, pkg, copies=copies) for language in languages]
    await each(partners, Partner.opens)
    await each(partners, Partner.buys_by_hand)
    await each(partners, Partner.plans_on_a_declining_card)
    await at(portal, DAY, "10:05:00")  # past the hour's backoff: the job tries again
    await top_ups_run(portal, DAY)
    await each(partners, lambda p: p.declined(2))
    await at(portal, DAY, "11:10:00")
    await top_ups_run(portal, DAY)
    await each(partners, lambda p: p.declined(3))
    await each(partners, Partner.paused)
    await each(partners, Partner.new_card)
    await each(partners, Partner.capped)
    await at(portal, "2027-04-01")
    await top_ups_run(portal, "2027-04-01")
    await each(partners, Partner.next_month)
    return partners, await inbox(portal)


def told_in_its_language(box: Inbox, p: Partner) -> None:
    """Every email to the partner and its contact is in the partner's language: its Content-Language,
    the subject's wording of its kind, and the figures as the language writes them."""
    language, says = p.language, SAYS[p.language]
    for to in (p.email, p.contact):
        mails = box.to(to)
        assert {m["headers"]["Content-Language"] for m in mails} == {language}, (to, [m["subject"] for m in mails])
        for m in mails:
            assert m["text"] and m["html"], m["subject"]
            if template(m) in says:
                assert says[template(m)].lower() in m["subject"].lower(), (language, template(m), m["subject"])
        money = {amount: written_money(amount, language) for amount in ("49.00", "98.00", "100.00")}
        assert len(box.saying(to, TOP_UP_FAILED, money["49.00"])) == 3, language
        resumes = written_date("2027-04-01", language)
        assert box.saying(to, CAP_REACHED, money["100.00"], money["49.00"], money["98.00"], resumes), language
        assert box.saying(to, RECEIPT, money["98.00"], written_units(2000, language)), language
    assert all("Dana Billing" in m["text"] for m in box.to(p.contact)), language
    assert box.saying(p.email, CREDITED, written_units(GRANT, language)), language
    assert box.saying(p.email, PURCHASE_FAILED, written_money("98.00", language)), language
    assert box.saying(p.email, BALANCE_LOW, written_units(-1500, language)), language


async def test_every_unit_email_in_all_four_languages(infra, new_database, kafka):
    async with running_portal(infra, new_database, kafka, test_clock=True) as portal:
        partners, box = await every_unit_email(portal, kafka, ["en", "tr", "de", "pl"])
        for p in partners:
            assert await p.figures(box) == EVERY_FIGURE, p.language
            told_in_its_language(box, p)


async def test_every_event_of_the_unit_flows_delivered_twice_changes_nothing(infra, new_database, kafka):
    async with running_portal(infra, new_database, kafka, test_clock=True, deliver_twice=True) as portal:
        [partner], box = await every_unit_email(portal, kafka, ["tr"], copies=2)
        assert await partner.figures(box) == EVERY_FIGURE
        told_in_its_language(box, partner)
        # each event of the flow reached every service that reads it twice (the inbox took it once)
        events = await portal.flow_events(partner.account, set())
        assert {e["type"] for e in events} >= {"UnitsCredited", "UnitsPurchased", "UnitsTopUpFailed", "UnitsCapReached"}
        await portal.handed_twice(events)
