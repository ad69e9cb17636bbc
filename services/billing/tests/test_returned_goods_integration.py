"""Returned goods and reconciliation statements with billing running for real (HTTP, consumer,
relay) on Kafka and PostgreSQL: a taxed goods order's invoice, part paid; a goods receipt of a return
(resolution refund) delivered twice, and once more under another event id, credits once - the
credit note over HTTP with its tax and `applied`, the invoice owing less (`amount_credited`), the
account statement showing it - and CreditNoteIssued is published once; then a reconciliation
statement issued over HTTP (422 naming the field for a period after today, 403 for a customer),
read by its owner only, confirmed (a second answer 409 with the current status), another disputed,
admins listing them by status, StatementIssued on billing.statements."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from billing_testkit import envelope, produce, read_topic

from billing.bootstrap import definition
from portal_contracts import Envelope, Money
from portal_contracts.events.orders import OrderLineV2, OrderPlacedV2
from portal_contracts.events.returns import GoodsReceived, ReceivedLine
from portal_runtime.clock import FrozenClock
from portal_runtime.testing import bearer, eventually, running_service

ADMIN = bearer("ops", "admin")
CLOCK_AT = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)


def eur(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="EUR")


def taxed_order(account: str) -> OrderPlacedV2:
    """4 × 4.50 paper at 19 %: net 18.00, tax 3.42, total 21.42."""
    return OrderPlacedV2(
        order_id=uuid.uuid4(),
        number="ORD-2026-000088",
        account_id=account,
        source="cart",
        currency="EUR",
        lines=[
            OrderLineV2(
                line_id=uuid.uuid4(),
                kind="good",
                item_id=uuid.uuid4(),
                sku="PAPER-A4",
                name="Paper A4",
                cycle="one_time",
                quantity=4,
                unit_price=eur("4.50"),
                amount=eur("18.00"),
                tax_rate=Decimal("0.19"),
            )
        ],
        total=eur("18.00"),
        placed_at=CLOCK_AT,
    )


async def test_a_receipt_told_twice_credits_once_and_statements_are_answered(new_database, kafka):
    customer = f"acct-{uuid.uuid4().hex[:8]}"
    me = bearer(customer)
    placed = taxed_order(customer)
    url = await new_database("billing")
    async with running_service(definition(), database_url=url, kafka=kafka, clock=FrozenClock(CLOCK_AT)) as (_, http):
        await produce(kafka, envelope(placed))

        async def invoiced():
            return (await http.get("/v1/invoices", headers=me)).json()["items"] or None

        [summary] = await eventually(invoiced, what="the order's invoice")
        assert summary["total"] == "21.42", summary
        invoice = (await http.get(f"/v1/invoices/{summary['id']}", headers=me)).json()
        paid = await http.post(
            f"/v1/admin/invoices/{summary['id']}/payments",
            json={"amount": "10.00", "currency": "EUR", "payer_reference": "bank ref 1"},
            headers={**ADMIN, "Idempotency-Key": f"pay-{customer}"},
        )
        assert paid.status_code == 201, paid.text

        # 1 of 4 returned for a refund: net 4.50, tax cents(0.855) = 0.86; all of it off what is owed
        received = GoodsReceived(
            receipt_id=uuid.uuid4(),
            number="GR-2026-000001",
            rma_id=uuid.uuid4(),
            rma_number="RMA-2026-000001",
            account_id=customer,
            invoice_id=uuid.UUID(summary["id"]),
            invoice_number=summary["number"],
            resolution="refund",
            lines=[ReceivedLine(invoice_line_id=invoice["lines"][0]["line_id"], description="Paper A4", quantity=1)],
            rma_status="partly_received",
            received_by="ops/olga",
            received_at=CLOCK_AT,
        )
        told = Envelope.wrap(received, producer="returns", occurred_at=CLOCK_AT)
        again = Envelope.wrap(received, producer="returns", occurred_at=CLOCK_AT)  # another event id
        await produce(kafka, told, told, again)

        async def credited():
            found = (await http.get("/v1/credit-notes", params={"invoice_id": summary["id"]}, headers=me)).json()
            return found["items"] or None

        [note] = await eventually(credited, what="the receipt's credit note")
        assert (note["reason"], note["receipt_id"], note["rma_id"], note["receipt_number"]) == (
            "returned_goods",
            str(received.receipt_id),
            str(received.rma_id),
            "GR-2026-000001",
        )
        assert (note["total"], note["tax_total"], note["total_with_tax"], note["applied"], note["refunded"]) == (
            "4.50",
            "0.86",
            "5.36",
            "5.36",
            "0.00",
        )
        [line] = note["lines"]
        assert (line["invoice_line_id"], line["quantity"], line["unit_price"], line["tax_rate"]) == (
            invoice["lines"][0]["line_id"],
            1,
            "4.50",
            "0.19",
        )
        after = (await http.get(f"/v1/invoices/{summary['id']}", headers=me)).json()
        assert (after["amount_paid"], after["amount_credited"], after["balance_due"], after["status"]) == (
            "10.00",
            "5.36",
            "6.06",
            "partially_paid",
        )
        assert (await http.get(f"/v1/credit-notes/{note['id']}", headers=bearer("someone-else"))).status_code == 404

        # a reconciliation statement of March up to today
        body = {"account_id": customer, "currency": "EUR", "period_start": "2026-03-01", "period_end": "2026-03-20"}
        late = await http.post("/v1/admin/statements", json={**body, "period_end": "2026-03-21"}, headers=ADMIN)
        assert (late.status_code, late.json()["field"]) == (422, "period_end")
        assert (await http.post("/v1/admin/statements", json=body, headers=me)).status_code == 403
        issued = await http.post("/v1/admin/statements", json={**body, "note": "Q1 check"}, headers=ADMIN)
        assert issued.status_code == 201, issued.text
        st = issued.json()
        assert (st["number"], st["status"], st["opening_balance"], st["debits"], st["credits"]) == (
            "ST-2026-000001",
            "open",
            "0.00",
            "21.42",
            "15.36",
        )
        assert st["closing_balance"] == "6.06" == after["balance_due"]
        assert [(e["kind"], e["debit"], e["credit"]) for e in st["entries"]] == [
            ("invoice", "21.42", "0.00"),
            ("payment", "0.00", "10.00"),
            ("credit_note", "0.00", "5.36"),
        ]
        other = (await http.post("/v1/admin/statements", json=body, headers=ADMIN)).json()
        sid = st["statement_id"]
        assert (await http.get(f"/v1/statements/{sid}", headers=bearer("someone-else"))).status_code == 404
        assert (await http.get("/v1/statements", headers=bearer("someone-else"))).json()["total"] == 0
        assert (await http.get(f"/v1/statements/{sid}", headers=me)).json() == st
        confirmed = await http.post(f"/v1/statements/{sid}/confirm", headers=me)
        assert (confirmed.status_code, confirmed.json()["status"]) == (200, "confirmed")
        twice = await http.post(f"/v1/statements/{sid}/dispute", json={"note": "no"}, headers=me)
        assert (twice.status_code, twice.json()["current_status"]) == (409, "confirmed")
        blank = await http.post(f"/v1/statements/{other['statement_id']}/dispute", json={"note": "  "}, headers=me)
        assert (blank.status_code, blank.json()["field"]) == (422, "note")
        disputed = await http.post(
            f"/v1/statements/{other['statement_id']}/dispute", json={"note": "The credit note is missing"}, headers=me
        )
        assert (disputed.status_code, disputed.json()["dispute_note"]) == (200, "The credit note is missing")
        listed = await http.get("/v1/admin/statements", params={"status": "disputed"}, headers=ADMIN)
        assert [s["number"] for s in listed.json()["items"]] == [other["number"]]
        mine = await http.get("/v1/statements", headers=me)
        assert [s["status"] for s in mine.json()["items"]] == ["disputed", "confirmed"]

    notes = await read_topic(
        kafka,
        "billing.invoices",
        lambda e, _: e["type"] == "CreditNoteIssued" and e["data"]["account_id"] == customer,
        want=2,
        timeout=8,
    )
    assert [e["data"]["applied"]["amount"] for e in notes] == ["5.36"]
    statements = await read_topic(
        kafka, "billing.statements", lambda e, _: e["data"]["account_id"] == customer, want=4, timeout=15
    )
    assert sorted(e["type"] for e in statements) == [
        "StatementConfirmed",
        "StatementDisputed",
        "StatementIssued",
        "StatementIssued",
    ]
