"""Credit notes with billing running for real (HTTP, consumer, relay) on Kafka and PostgreSQL: an
order placed with payment terms is due 30 days after its date; paid, then cancelled by an admin
with settlement credit, told twice (the same envelope again, and once more under another event
id): one credit note, read over HTTP by its owner (another account: 404), the account's credit,
and CreditNoteIssued once on billing.invoices."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from billing_testkit import envelope, order_cancelled, produce, read_topic

from billing.bootstrap import definition
from portal_contracts import Money
from portal_contracts.events.orders import OrderLineV2, OrderPlacedV2
from portal_runtime.clock import FrozenClock
from portal_runtime.testing import bearer, eventually, running_service

ADMIN = bearer("ops", "admin")
CLOCK_AT = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)


def eur(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="EUR")


def goods_order(account: str) -> OrderPlacedV2:
    return OrderPlacedV2(
        order_id=uuid.uuid4(),
        number="ORD-2026-000077",
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
            )
        ],
        total=eur("18.00"),
        placed_at=CLOCK_AT,
        payment_terms_days=30,
    )


async def test_a_paid_order_cancelled_twice_is_credited_once_and_read_over_http(new_database, kafka):
    customer = f"acct-{uuid.uuid4().hex[:8]}"
    placed = goods_order(customer)
    url = await new_database("billing")
    async with running_service(definition(), database_url=url, kafka=kafka, clock=FrozenClock(CLOCK_AT)) as (_, http):
        await produce(kafka, envelope(placed))

        async def invoiced():
            page = (await http.get("/v1/invoices", headers=bearer(customer))).json()
            return page["items"] or None

        [summary] = await eventually(invoiced, what="the order's invoice")
        assert (summary["source_id"], summary["due_on"], summary["total"]) == (
            str(placed.order_id),
            "2026-04-19",
            "18.00",
        )
        paid = await http.post(
            f"/v1/admin/invoices/{summary['id']}/payments",
            json={"amount": "18.00", "currency": "EUR", "payer_reference": "bank ref 1"},
            headers={**ADMIN, "Idempotency-Key": "pay-1"},
        )
        assert paid.status_code == 201 and paid.json()["invoice"]["status"] == "paid"

        cancel = envelope(order_cancelled(placed, "admin", settlement="credit", note="ordered twice"))
        await produce(kafka, cancel, cancel, envelope(cancel.payload()))  # again, and under another event id

        async def credited():
            found = (
                await http.get("/v1/credit-notes", params={"order_id": str(placed.order_id)}, headers=bearer(customer))
            ).json()
            return found if found["items"] else None

        listed = await eventually(credited, what="the cancelled order's credit note")
        [note] = listed["items"]
        assert (note["invoice_id"], note["order_id"], note["reason"], note["settlement"], note["note"]) == (
            summary["id"],
            str(placed.order_id),
            "cancelled_order",
            "credit",
            "ordered twice",
        )
        assert (note["total"], note["tax_total"], note["credited"], note["refunded"], note["refunds"]) == (
            "18.00",
            "0.00",
            "18.00",
            "0.00",
            [],
        )
        assert [
            (line["description"], line["quantity"], line["unit_price"], line["line_total"]) for line in note["lines"]
        ] == [("Paper A4", 4, "4.50", "18.00")]
        assert note["number"].startswith("CN-2026-")
        one = await http.get(f"/v1/credit-notes/{note['id']}", headers=bearer(customer))
        assert one.status_code == 200 and one.json() == note
        assert (await http.get(f"/v1/credit-notes/{note['id']}", headers=bearer("someone-else"))).status_code == 404
        assert (await http.get("/v1/credit-notes", headers=bearer("someone-else"))).json()["total"] == 0
        credit = (await http.get("/v1/account/credit", headers=bearer(customer))).json()
        assert credit == {"account_id": customer, "balances": [{"currency": "EUR", "amount": "18.00"}]}
        by_admin = await http.get("/v1/account/credit", params={"account_id": customer}, headers=ADMIN)
        assert by_admin.json() == credit
        unnamed = await http.get("/v1/account/credit", headers=ADMIN)
        assert (unnamed.status_code, unnamed.json()["field"]) == (422, "account_id")
        assert (await http.get("/v1/credit-notes", params={"account_id": customer}, headers=ADMIN)).json()["total"] == 1
    told = await read_topic(
        kafka,
        "billing.invoices",
        lambda e, _: e["type"] == "CreditNoteIssued" and e["data"]["account_id"] == customer,
        want=2,
        timeout=8,
    )
    assert [e["data"]["number"] for e in told] == [note["number"]]
