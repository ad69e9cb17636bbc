"""Billing running for real (HTTP, consumer, relay) on the dev Kafka and PostgreSQL."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from billing_testkit import CARD_DECLINED, CARD_OK, approved, envelope, produce, read_topic

from billing.bootstrap import definition
from portal_runtime.clock import FrozenClock
from portal_runtime.testing import bearer, eventually, running_service

ADMIN = bearer("ops", "admin")
CLOCK_AT = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)


def account() -> str:
    return f"acct-{uuid.uuid4().hex[:8]}"


async def billing(new_database, kafka):
    url = await new_database("billing")
    return running_service(definition(), database_url=url, kafka=kafka, clock=FrozenClock(CLOCK_AT))


async def invoice_of(http, customer: str) -> dict:
    async def found():
        page = (await http.get("/v1/invoices", headers=bearer(customer))).json()
        return page["items"][0] if page["items"] else None

    summary = await eventually(found, what=f"an invoice for {customer}")
    return (await http.get(f"/v1/invoices/{summary['id']}", headers=bearer(customer))).json()


def pay_body(amount: str, method: str = "card", **over) -> dict:
    body = {"method": method, "amount": amount, "currency": "EUR", "payer_reference": "acme-ap"}
    if method == "card":
        body["card"] = CARD_OK
    return {**body, **over}


async def test_request_approved_issues_an_invoice_and_publishes_it(new_database, kafka):
    customer = account()
    event = approved(customer)
    async with await billing(new_database, kafka) as (_, http):
        await produce(kafka, envelope(event))
        invoice = await invoice_of(http, customer)
    # The exact position depends on what else this run's consumer group reads from orders.requests
    # (gapless numbering itself is proven in test_service_db.py).
    assert re.fullmatch(r"INV-2026-\d{6}", invoice["number"]) and invoice["request_id"] == str(event.request_id)
    assert invoice["total"] == "129.70" and invoice["balance_due"] == "129.70" and invoice["amount_paid"] == "0.00"
    assert invoice["status"] == "issued" and invoice["due_on"] == "2026-04-03" and invoice["currency"] == "EUR"
    assert [(line["description"], line["quantity"], line["line_total"]) for line in invoice["lines"]] == [
        ("SEO boost", 2, "99.80"),
        ("Setup", 1, "29.90"),
    ]
    methods = {i["method"]: i["details"] for i in invoice["payment_instructions"]}
    assert set(methods) == {"card", "bank_transfer", "paypal"}
    assert methods["bank_transfer"]["reference"] == invoice["number"] and methods["bank_transfer"]["iban"]
    published = await read_topic(
        kafka, "billing.invoices", lambda e, _: e["type"] == "InvoiceIssued" and e["subject"] == invoice["id"], want=1
    )
    assert published[0]["data"]["total"] == {"amount": "129.70", "currency": "EUR"}
    assert published[0]["data"]["number"] == invoice["number"]


async def test_the_same_approval_twice_makes_one_invoice(new_database, kafka):
    customer = account()
    event = approved(customer)
    first = envelope(event)
    redelivered_differently = envelope(event)  # e.g. republished by orders under a new event id
    async with await billing(new_database, kafka) as (rt, http):
        await produce(kafka, first, first, redelivered_differently)
        await eventually(
            lambda: rt.consumer.stats["applied"] + rt.consumer.stats["duplicates"] >= 3,
            what="all three deliveries to be handled",
        )
        page = (await http.get("/v1/invoices", params={"account_id": customer}, headers=ADMIN)).json()
    assert page["total"] == 1 and rt.consumer.stats["duplicates"] >= 1


async def test_a_total_that_does_not_add_up_is_dead_lettered(new_database, kafka):
    customer = account()
    event = approved(customer, total="1.00")
    async with await billing(new_database, kafka) as (rt, http):
        await produce(kafka, envelope(event))
        await eventually(lambda: rt.consumer.stats["dead_lettered"] >= 1, what="the bad total to be dead-lettered")
        assert (await http.get("/v1/invoices", headers=bearer(customer))).json()["total"] == 0
    dead = await read_topic(kafka, "billing.dlq", lambda e, _: e.get("subject") == str(event.request_id), want=1)
    assert len(dead) == 1


async def test_paying_in_two_parts_pays_the_invoice_and_confirms_it(new_database, kafka):
    customer = account()
    event = approved(customer)
    async with await billing(new_database, kafka) as (_, http):
        await produce(kafka, envelope(event))
        invoice = await invoice_of(http, customer)
        url = f"/v1/invoices/{invoice['id']}/payments"
        part = await http.post(url, json=pay_body("100.00"), headers={**bearer(customer), "Idempotency-Key": "p1"})
        assert part.status_code == 201, part.text
        assert part.json()["invoice"]["status"] == "partially_paid"
        assert part.json()["invoice"]["balance_due"] == "29.70"
        assert part.json()["payment"]["card_brand"] == "visa" and part.json()["payment"]["card_last4"] == "4242"
        rest = await http.post(
            url,
            json=pay_body("29.70", "paypal", payer_reference="ap@acme.example"),
            headers={**bearer(customer), "Idempotency-Key": "p2"},
        )
        assert rest.status_code == 201, rest.text
        paid = (await http.get(f"/v1/invoices/{invoice['id']}", headers=bearer(customer))).json()
        more = await http.post(url, json=pay_body("1.00"), headers={**bearer(customer), "Idempotency-Key": "p3"})
    assert paid["status"] == "paid" and paid["amount_paid"] == "129.70" and paid["balance_due"] == "0.00"
    assert [p["method"] for p in paid["payments"]] == ["card", "paypal"]
    assert "4242424242424242" not in str(paid)
    assert more.status_code == 409 and more.json()["current_status"] == "paid"
    confirmed = await read_topic(
        kafka,
        "billing.invoices",
        lambda e, _: e["type"] == "PaymentConfirmed" and e["subject"] == invoice["id"],
        want=1,
    )
    assert len(confirmed) == 1
    assert confirmed[0]["data"]["request_id"] == str(event.request_id)
    assert confirmed[0]["data"]["amount_paid"] == {"amount": "129.70", "currency": "EUR"}


async def test_idempotency_key_replays_the_first_answer(new_database, kafka):
    customer = account()
    async with await billing(new_database, kafka) as (_, http):
        await produce(kafka, envelope(approved(customer)))
        invoice = await invoice_of(http, customer)
        url = f"/v1/invoices/{invoice['id']}/payments"
        headers = {**bearer(customer), "Idempotency-Key": "once"}
        first = await http.post(url, json=pay_body("10.00"), headers=headers)
        again = await http.post(url, json=pay_body("10.00"), headers=headers)
        changed = await http.post(url, json=pay_body("11.00"), headers=headers)
        missing = await http.post(url, json=pay_body("10.00"), headers=bearer(customer))
        after = (await http.get(f"/v1/invoices/{invoice['id']}", headers=bearer(customer))).json()
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert changed.status_code == 422 and changed.json()["field"] == "Idempotency-Key"
    assert missing.status_code == 400 and missing.json()["field"] == "Idempotency-Key"
    assert after["amount_paid"] == "10.00" and len(after["payments"]) == 1


async def test_a_declined_card_answers_402_and_publishes_payment_failed(new_database, kafka):
    customer = account()
    async with await billing(new_database, kafka) as (_, http):
        await produce(kafka, envelope(approved(customer)))
        invoice = await invoice_of(http, customer)
        declined = await http.post(
            f"/v1/invoices/{invoice['id']}/payments",
            json=pay_body("10.00", card=CARD_DECLINED),
            headers={**bearer(customer), "Idempotency-Key": "d1"},
        )
        after = (await http.get(f"/v1/invoices/{invoice['id']}", headers=bearer(customer))).json()
    assert declined.status_code == 402 and declined.json()["reason"] == "card_declined"
    assert after["status"] == "issued" and after["payments"] == []
    failed = await read_topic(
        kafka, "billing.invoices", lambda e, _: e["type"] == "PaymentFailed" and e["subject"] == invoice["id"], want=1
    )
    assert failed[0]["data"]["reason"] == "card_declined" and "4000000000000002" not in str(failed)


async def test_another_accounts_invoice_is_not_found_and_no_token_is_401(new_database, kafka):
    owner, stranger = account(), account()
    async with await billing(new_database, kafka) as (_, http):
        await produce(kafka, envelope(approved(owner)))
        invoice = await invoice_of(http, owner)
        url = f"/v1/invoices/{invoice['id']}"
        read = await http.get(url, headers=bearer(stranger))
        pay = await http.post(
            f"{url}/payments", json=pay_body("10.00"), headers={**bearer(stranger), "Idempotency-Key": "s1"}
        )
        listed = (await http.get("/v1/invoices", params={"account_id": owner}, headers=bearer(stranger))).json()
        anonymous = await http.get("/v1/invoices")
        anonymous_one = await http.get(url)
        admin_read = await http.get(url, headers=ADMIN)
    assert read.status_code == 404 and pay.status_code == 404
    assert listed["total"] == 0
    assert anonymous.status_code == 401 and anonymous_one.status_code == 401
    assert admin_read.status_code == 200


async def test_admins_record_bank_transfers_for_any_account(new_database, kafka):
    customer = account()
    async with await billing(new_database, kafka) as (_, http):
        await produce(kafka, envelope(approved(customer)))
        invoice = await invoice_of(http, customer)
        url = f"/v1/invoices/{invoice['id']}/payments"
        recorded_at = f"/v1/admin/invoices/{invoice['id']}/payments"
        transfer = pay_body("129.70", "bank_transfer", payer_reference="bank stmt 2026-03-20 #17")
        recorded = await http.post(recorded_at, json=transfer, headers={**ADMIN, "Idempotency-Key": "bt1"})
        by_customer = await http.post(recorded_at, json=transfer, headers={**bearer(customer), "Idempotency-Key": "b2"})
        customer_transfer = await http.post(url, json=transfer, headers={**bearer(customer), "Idempotency-Key": "bt4"})
        admin_card = await http.post(url, json=pay_body("1.00"), headers={**ADMIN, "Idempotency-Key": "bt3"})
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["invoice"]["status"] == "paid" and recorded.json()["payment"]["recorded_by"] == "ops/admin"
    assert by_customer.status_code == 403, by_customer.text  # the admins' path
    # one meaning per path: customers pay by card or PayPal, admins record transfers elsewhere
    assert customer_transfer.status_code == 400 and customer_transfer.json()["field"] == "method"
    assert admin_card.status_code == 403 and admin_card.json()["field"] == "method"


async def test_bad_input_is_refused_naming_the_field(new_database, kafka):
    customer = account()
    async with await billing(new_database, kafka) as (_, http):
        await produce(kafka, envelope(approved(customer)))
        invoice = await invoice_of(http, customer)
        url = f"/v1/invoices/{invoice['id']}/payments"
        headers = bearer(customer)
        cases = {
            "amount": pay_body("129.71"),
            "currency": pay_body("10.00", currency="USD"),
            "card": pay_body("10.00", card=None),
            "card.number": pay_body("10.00", card={**CARD_OK, "number": "4242424242424241"}),
            "method": pay_body("10.00", method="cash"),
            "unexpected": pay_body("10.00", unexpected=1),
        }
        answers = {
            field: await http.post(url, json=body, headers={**headers, "Idempotency-Key": f"bad-{field}"})
            for field, body in cases.items()
        }
        after = (await http.get(f"/v1/invoices/{invoice['id']}", headers=headers)).json()
    for field in ("amount", "currency", "card", "card.number"):
        assert answers[field].status_code == 422 and answers[field].json()["field"] == field, answers[field].text
    for field in ("method", "unexpected"):
        assert answers[field].status_code == 400 and field in answers[field].text, answers[field].text
    assert "4242424242424241" not in answers["card.number"].text
    assert after["payments"] == [] and after["status"] == "issued"
