"""Orders' invoices with billing running for real (HTTP, consumer, relay) on Kafka and PostgreSQL:
OrderPlaced told twice makes one invoice, shown with its source and its lines' services and
periods; OrderCancelled voids it (InvoiceVoided on billing.invoices) and a payment is then 409."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from billing_testkit import CARD_OK, envelope, order_cancelled, order_placed, produce, read_topic

from billing.bootstrap import definition
from portal_runtime.clock import FrozenClock
from portal_runtime.testing import bearer, eventually, running_service

ADMIN = bearer("ops", "admin")
CLOCK_AT = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)


async def test_an_order_is_invoiced_once_voided_on_cancellation_and_refuses_payment(new_database, kafka):
    customer = f"acct-{uuid.uuid4().hex[:8]}"
    placed = order_placed(customer, source="renewal", due_on=date(2026, 4, 3))
    url = await new_database("billing")
    async with running_service(definition(), database_url=url, kafka=kafka, clock=FrozenClock(CLOCK_AT)) as (_, http):
        await produce(kafka, envelope(placed), envelope(placed))  # the second under another event id

        async def listed():
            page = (await http.get("/v1/invoices", params={"source_kind": "renewal"}, headers=bearer(customer))).json()
            return page if page["items"] else None

        [summary] = (await eventually(listed, what="the renewal order's invoice"))["items"]
        assert (summary["source_kind"], summary["source_id"], summary["status"], summary["due_on"]) == (
            "renewal",
            str(placed.order_id),
            "issued",
            "2026-04-03",
        )
        invoice = (await http.get(f"/v1/invoices/{summary['id']}", headers=bearer(customer))).json()
        assert [
            (line["subscription_id"], line["period_start"], line["period_end"], line["line_total"])
            for line in invoice["lines"]
        ] == [
            (str(line.subscription_id), "2026-04-03", "2026-05-03", format(line.amount.amount, "f"))
            for line in placed.lines
        ]

        await produce(kafka, envelope(order_cancelled(placed, "terminated")))

        async def voided():
            found = (await http.get(f"/v1/invoices/{summary['id']}", headers=bearer(customer))).json()
            return found if found["status"] == "voided" else None

        await eventually(voided, what="the invoice to be voided")
        # Keyed by order, all three came in order: both OrderPlaced were handled before the void.
        assert (await http.get("/v1/invoices", headers=bearer(customer))).json()["total"] == 1
        pay = f"/v1/invoices/{summary['id']}/payments"
        body = {"method": "card", "amount": "1.00", "currency": "EUR", "payer_reference": "acme", "card": CARD_OK}
        by_card = await http.post(pay, json=body, headers={**bearer(customer), "Idempotency-Key": "late-1"})
        transfer = {"amount": "1.00", "currency": "EUR", "payer_reference": "bank"}
        by_bank = await http.post(
            f"/v1/admin/invoices/{summary['id']}/payments", json=transfer, headers={**ADMIN, "Idempotency-Key": "b1"}
        )
    assert (by_card.status_code, by_card.json()["current_status"]) == (409, "voided")
    assert (by_bank.status_code, by_bank.json()["current_status"]) == (409, "voided")
    told = await read_topic(
        kafka, "billing.invoices", lambda e, _: e["type"] == "InvoiceVoided" and e["subject"] == summary["id"], want=1
    )
    assert [(e["data"]["source_kind"], e["data"]["reason"]) for e in told] == [("renewal", "terminated")]
