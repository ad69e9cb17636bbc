"""Balances, the account statement and account payments over real HTTP on PostgreSQL: an admin
records an account payment (Idempotency-Key required; a replay answers the same; refusals name the
field), the customer reads its balance, balance by order and statement as decimal text with two
places; another account's is 404, an admin without `account_id` 422, `to` before `from` 422."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from billing.adapters.gateway import SandboxGateway
from billing.bootstrap import definition
from billing.domain.invoices import Line
from billing.service.invoices import BillingService
from billing.service.orders import InvoiceOrder
from billing.settings import BillingSettings
from portal_runtime.clock import FrozenClock
from portal_runtime.testing import bearer, running_service

CLOCK_AT = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
ADMIN = bearer("ops", "admin")


async def test_an_account_payment_and_what_the_customer_reads(new_database, kafka):
    acme = f"acme-{uuid.uuid4().hex[:8]}"
    url = await new_database("billing")
    service = running_service(
        definition(), database_url=url, kafka=kafka, clock=FrozenClock(CLOCK_AT), consume=False, relay=False
    )
    async with service as (rt, http):
        billing = BillingService(rt.uow, rt.clock, SandboxGateway(rt.sessions, rt.clock), BillingSettings().payee())
        line = Line("Goods", 2, Decimal("10.00"), tax_rate=Decimal("0.19"))
        invoice = await billing.invoice_order(
            InvoiceOrder(uuid.uuid4(), "cart", acme, "EUR", lines=[line], total=Decimal("20.00"))
        )
        path = f"/v1/admin/accounts/{acme}/payments"
        body = {"amount": {"amount": "30.00", "currency": "EUR"}, "method": "bank_transfer", "reference": "SEPA 42"}
        paid = await http.post(path, json=body, headers={**ADMIN, "Idempotency-Key": "adv-1"})
        replay = await http.post(path, json=body, headers={**ADMIN, "Idempotency-Key": "adv-1"})
        without_key = await http.post(path, json=body, headers=ADMIN)
        tomorrow = await http.post(
            path, json={**body, "received_on": "2026-03-21"}, headers={**ADMIN, "Idempotency-Key": "adv-2"}
        )
        number = await http.post(
            path, json={**body, "amount": {"amount": 30, "currency": "EUR"}}, headers={**ADMIN, "Idempotency-Key": "3"}
        )
        by_customer = await http.post(path, json=body, headers={**bearer(acme), "Idempotency-Key": "adv-4"})
        me = bearer(acme)
        balance = await http.get("/v1/account/balance", headers=me)
        by_order = await http.get("/v1/account/balance/by-order", params={"currency": "EUR"}, headers=me)
        statement = await http.get(
            "/v1/account/statement", params={"currency": "EUR", "from": "2026-03-01", "to": "2026-03-31"}, headers=me
        )
        month = await http.get("/v1/account/statement", params={"currency": "EUR"}, headers=me)
        backwards = await http.get(
            "/v1/account/statement", params={"currency": "EUR", "from": "2026-03-02", "to": "2026-03-01"}, headers=me
        )
        theirs = await http.get("/v1/account/balance", params={"account_id": "globex"}, headers=me)
        unnamed = await http.get("/v1/account/balance", headers=ADMIN)
        named = await http.get("/v1/account/balance", params={"account_id": acme}, headers=ADMIN)
        invoice_now = (await http.get(f"/v1/invoices/{invoice.id}", headers=me)).json()
    assert paid.status_code == 201, paid.text
    answer = paid.json()
    assert (answer["account_id"], answer["amount"], answer["method"], answer["advance"]) == (
        acme,
        {"amount": "30.00", "currency": "EUR"},
        "bank_transfer",
        "6.20",
    )
    assert [(a["invoice_number"], a["amount"]) for a in answer["allocations"]] == [(invoice.number, "23.80")]
    assert answer["received_on"] == "2026-03-20" and answer["recorded_by"] == "ops/admin"
    assert replay.status_code == 201 and replay.json() == answer
    assert without_key.status_code == 400
    assert tomorrow.status_code == 422 and tomorrow.json()["field"] == "received_on"
    assert number.status_code == 400  # a JSON number is not an amount
    assert by_customer.status_code == 403
    assert invoice_now["status"] == "paid"
    assert balance.status_code == 200, balance.text
    assert balance.json() == {
        "account_id": acme,
        "balances": [{"currency": "EUR", "owed": "0.00", "advance": "6.20", "balance": "-6.20"}],
    }
    assert by_order.json()["orders"][0] | {"source_id": None} == {
        "source_kind": "order",
        "source_id": None,
        "order_number": None,
        "invoices": [invoice.number],
        "invoiced": "23.80",
        "paid": "23.80",
        "credited": "0.00",
        "due": "0.00",
    }
    assert (by_order.json()["on_account"], by_order.json()["total"]) == ("-6.20", "-6.20")
    s = statement.json()
    assert (s["opening_balance"], s["debits"], s["credits"], s["closing_balance"]) == (
        "0.00",
        "23.80",
        "30.00",
        "-6.20",
    )
    assert [(e["on"], e["kind"], e["debit"], e["credit"], e["balance"]) for e in s["entries"]] == [
        ("2026-03-20", "invoice", "23.80", "0.00", "23.80"),
        ("2026-03-20", "advance_payment", "0.00", "30.00", "-6.20"),
    ]
    assert (month.json()["period_start"], month.json()["period_end"]) == ("2026-03-01", "2026-03-20")
    assert backwards.status_code == 422 and backwards.json()["field"] == "to"
    assert theirs.status_code == 404
    assert unnamed.status_code == 422 and unnamed.json()["field"] == "account_id"
    assert named.json() == balance.json()


async def test_the_ledger_dates_its_rows_on_the_business_date(new_database, kafka):
    """23:30 UTC on 20 March is 21 March in Berlin (BUSINESS_TIMEZONE): the statement's day."""
    acme = f"acme-{uuid.uuid4().hex[:8]}"
    url = await new_database("billing")
    late = FrozenClock(datetime(2026, 3, 20, 23, 30, tzinfo=UTC))
    service = running_service(
        definition(),
        database_url=url,
        kafka=kafka,
        clock=late,
        consume=False,
        relay=False,
        business_timezone="Europe/Berlin",
    )
    async with service as (rt, http):
        body = {"amount": {"amount": "10.00", "currency": "EUR"}, "method": "cash"}
        paid = await http.post(
            f"/v1/admin/accounts/{acme}/payments", json=body, headers={**ADMIN, "Idempotency-Key": "a"}
        )
        billing = BillingService(rt.uow, rt.clock, SandboxGateway(rt.sessions, rt.clock), BillingSettings().payee())
        line = Line("Goods", 1, Decimal("4.00"))
        await billing.invoice_order(
            InvoiceOrder(uuid.uuid4(), "cart", acme, "EUR", lines=[line], total=Decimal("4.00"))
        )
        statement = await http.get(
            "/v1/account/statement", params={"currency": "EUR", "from": "2026-03-21"}, headers=bearer(acme)
        )
    assert paid.status_code == 201 and paid.json()["received_on"] == "2026-03-21", paid.text
    s = statement.json()
    assert [(e["on"], e["kind"], e["balance"]) for e in s["entries"]] == [
        ("2026-03-21", "invoice", "4.00"),  # one instant (a frozen clock): the invoice first
        ("2026-03-21", "advance_payment", "-6.00"),
    ]
    assert (s["opening_balance"], s["closing_balance"], s["period_end"]) == ("0.00", "-6.00", "2026-03-21")
