"""Returns over real HTTP, Kafka and PostgreSQL: billing's invoice in, ReturnRequested out, and
the answers the API gives to the wrong caller, the wrong state and the wrong input."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from portal_contracts import Envelope, Money
from portal_contracts.events.billing import InvoiceIssued, InvoiceLine
from portal_runtime.testing import bearer, eventually, running_service
from returns.bootstrap import definition

ADMIN = bearer("ops", "admin")
ACME = bearer("ACME")
BETA = bearer("BETA")


def invoice_issued(number: str, account: str, lines: dict[str, int]) -> InvoiceIssued:
    eur = lambda amount: Money(amount=Decimal(amount), currency="EUR")  # noqa: E731
    return InvoiceIssued(
        invoice_id=uuid.uuid4(),
        number=number,
        account_id=account,
        total=eur("100.00"),
        lines=[
            InvoiceLine(description=d, quantity=q, unit_price=eur("10.00"), line_total=eur(10 * q))
            for d, q in lines.items()
        ],
        due_on=date(2026, 2, 1),
        payment_instructions=[],
        issued_at=datetime.now(UTC),
    )


async def issue(kafka: str, rt, account: str, lines: dict[str, int]) -> str:
    """Billing issues an invoice (an envelope on billing.invoices); returns has recorded it."""
    event = invoice_issued(f"INV-{uuid.uuid4().hex[:8]}", account, lines)
    body = Envelope.wrap(event, producer="billing", occurred_at=datetime.now(UTC)).model_dump_json().encode()
    producer = AIOKafkaProducer(bootstrap_servers=kafka, enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(event.topic, body, key=event.key().encode())
    finally:
        await producer.stop()

    async def recorded():
        async with rt.uow() as uow:
            return await uow.invoices.by_number(event.number)

    await eventually(recorded, what=f"invoice {event.number} to be recorded")
    return event.number


async def read_topic(kafka: str, topic: str, predicate, *, timeout: float = 30) -> list:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka, auto_offset_reset="earliest", enable_auto_commit=False, group_id=None
    )
    await consumer.start()
    found: list = []
    try:
        parts = [
            TopicPartition(topic, p) for p in (await consumer._client.fetch_all_metadata()).partitions_for_topic(topic)
        ]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        deadline = asyncio.get_running_loop().time() + timeout
        while not found and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            found += [r for records in batch.values() for r in records if predicate(r)]
    finally:
        await consumer.stop()
    return found


def body(number: str, *lines: tuple[str, int]) -> dict:
    return {"invoice_number": number, "lines": [{"sku": s, "quantity": q, "reason": "damaged"} for s, q in lines]}


def bad_fields(response) -> set[str]:
    """The fields a 4xx answer names: a domain error's `field`, or the keys of a validation error."""
    data = response.json()
    return {data["field"]} if "field" in data else {e.get("key") for e in data.get("extra", [])}


async def test_invoice_issued_then_return_requested_published_and_decided(new_database, kafka):
    async with running_service(definition(), database_url=await new_database("returns"), kafka=kafka) as (rt, http):
        number = await issue(kafka, rt, "ACME", {"Router X1": 3, "Cable": 2})
        created = await http.post("/v1/returns", json=body(number, ("Router X1", 2), ("Cable", 2)), headers=ACME)
        assert created.status_code == 201, created.text
        rma = created.json()
        assert rma["status"] == "requested" and rma["account_id"] == "ACME" and rma["invoice_number"] == number

        [record] = await read_topic(kafka, "returns.rma", lambda r: r.key == rma["id"].encode())
        envelope = Envelope.model_validate_json(record.value)
        assert (envelope.type, envelope.version, envelope.producer) == ("ReturnRequested", 1, "returns")
        event = envelope.payload()
        assert str(event.rma_id) == rma["id"] and event.account_id == "ACME" and event.invoice_number == number
        assert [(line.sku, line.quantity, line.reason) for line in event.lines] == [
            ("Router X1", 2, "damaged"),
            ("Cable", 2, "damaged"),
        ]

        base = f"/v1/admin/returns/{rma['id']}"
        assert (await http.post(f"{base}/approve", headers=ADMIN)).json()["status"] == "approved"
        assert (await http.post(f"{base}/receive", headers=ADMIN)).json()["status"] == "received"
        detail = (await http.get(f"/v1/returns/{rma['id']}", headers=ACME)).json()
        assert detail["status"] == "received"
        assert [(h["from_status"], h["to_status"], h["by"], h["note"], h["reason"]) for h in detail["history"]] == [
            (None, "requested", "ACME/customer", None, None),
            ("requested", "approved", "ops/admin", None, None),
            ("approved", "received", "ops/admin", None, None),
        ]


async def test_rules_and_bad_input_answer_4xx_naming_the_field(new_database, kafka):
    async with running_service(definition(), database_url=await new_database("returns"), kafka=kafka) as (rt, http):
        number = await issue(kafka, rt, "ACME", {"Router X1": 3})
        other = await issue(kafka, rt, "BETA", {"Router X1": 3})
        assert (await http.post("/v1/returns", json=body(number, ("Router X1", 2)), headers=ACME)).status_code == 201

        over = await http.post("/v1/returns", json=body(number, ("Router X1", 2)), headers=ACME)
        assert over.status_code == 422, over.text
        assert over.json()["field"] == "lines[0].quantity" and over.json()["available"] == 1

        cases = [
            (body(number, ("Modem", 1)), 422, "lines[0].sku"),
            (body(other, ("Router X1", 1)), 422, "invoice_number"),
            (body("INV-NONE", ("Router X1", 1)), 422, "invoice_number"),
            (body(number, ("Router X1", 0)), 400, "lines.0.quantity"),
            (body(number, ("Router X1", 1)) | {"total": "0"}, 400, "total"),
            ({"lines": body(number, ("Router X1", 1))["lines"]}, 400, "invoice_number"),
            (body(number), 400, "lines"),
        ]
        for payload, status, field in cases:
            answer = await http.post("/v1/returns", json=payload, headers=ACME)
            assert answer.status_code == status, (payload, answer.text)
            assert field in bad_fields(answer), (payload, answer.text)
        assert "BETA" not in (await http.post("/v1/returns", json=body(other, ("Router X1", 1)), headers=ACME)).text

        rma_id = (await http.get("/v1/returns", headers=ACME)).json()["items"][0]["id"]
        no_reason = await http.post(f"/v1/admin/returns/{rma_id}/reject", json={}, headers=ADMIN)
        assert no_reason.status_code == 400 and "reason" in bad_fields(no_reason), no_reason.text
        bad_status = await http.get("/v1/returns", params={"status": "lost"}, headers=ADMIN)
        assert bad_status.status_code == 400 and "status" in bad_fields(bad_status), bad_status.text
        assert (await http.get("/v1/returns", headers=ACME)).json()["total"] == 1


async def test_who_may_see_and_decide_and_which_transitions_conflict(new_database, kafka):
    async with running_service(definition(), database_url=await new_database("returns"), kafka=kafka) as (rt, http):
        acme_invoice = await issue(kafka, rt, "ACME", {"Router X1": 3})
        beta_invoice = await issue(kafka, rt, "BETA", {"Cable": 1})
        rma = (await http.post("/v1/returns", json=body(acme_invoice, ("Router X1", 1)), headers=ACME)).json()
        beta = (await http.post("/v1/returns", json=body(beta_invoice, ("Cable", 1)), headers=BETA)).json()
        base = f"/v1/admin/returns/{rma['id']}"

        assert (await http.get("/v1/returns")).status_code == 401
        assert (await http.post("/v1/returns", json=body(acme_invoice, ("Router X1", 1)))).status_code == 401
        assert (await http.post(f"{base}/approve")).status_code == 401

        assert (await http.get(f"/v1/returns/{rma['id']}", headers=BETA)).status_code == 404
        assert (await http.get(f"/v1/returns/{uuid.uuid4()}", headers=ADMIN)).status_code == 404
        assert (await http.get(f"/v1/returns/{beta['id']}", headers=ADMIN)).status_code == 200
        own = (await http.get("/v1/returns", headers=ACME)).json()
        assert [r["id"] for r in own["items"]] == [rma["id"]]
        # a customer naming another account sees an empty page, never that account's returns
        other = (await http.get("/v1/returns", params={"account_id": "BETA"}, headers=ACME)).json()
        assert (other["items"], other["total"]) == ([], 0)
        only_beta = (await http.get("/v1/returns", params={"account_id": "BETA"}, headers=ADMIN)).json()
        assert [r["id"] for r in only_beta["items"]] == [beta["id"]]

        for action, payload in (("approve", None), ("reject", {"reason": "no"}), ("receive", None)):
            assert (await http.post(f"{base}/{action}", json=payload, headers=ACME)).status_code == 403
        assert (await http.post(f"/v1/admin/returns/{uuid.uuid4()}/approve", headers=ADMIN)).status_code == 404

        early = await http.post(f"{base}/receive", headers=ADMIN)
        assert early.status_code == 409 and early.json()["current_status"] == "requested", early.text
        rejected = await http.post(f"{base}/reject", json={"reason": "outside the window"}, headers=ADMIN)
        assert rejected.json()["status"] == "rejected" and rejected.json()["reject_reason"] == "outside the window"
        late = await http.post(f"{base}/approve", headers=ADMIN)
        assert late.status_code == 409 and late.json()["current_status"] == "rejected", late.text

        detail = (await http.get(f"/v1/returns/{rma['id']}", headers=ACME)).json()
        assert detail["status"] == "rejected" and [h["to_status"] for h in detail["history"]] == [
            "requested",
            "rejected",
        ]
        assert detail["history"][-1]["note"] == detail["history"][-1]["reason"] == "outside the window"
        by_status = (await http.get("/v1/returns", params={"status": "rejected"}, headers=ADMIN)).json()
        assert [r["id"] for r in by_status["items"]] == [rma["id"]]
