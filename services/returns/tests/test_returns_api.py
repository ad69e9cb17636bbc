"""Returns over real HTTP, Kafka and PostgreSQL: billing's invoice in, ReturnRequested out, and
the answers the API gives to the wrong caller, the wrong state and the wrong input."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from portal_contracts import Envelope, Money
from portal_contracts.events.billing import InvoiceIssued, InvoiceIssuedV2, InvoiceLine, InvoiceLineV2
from portal_contracts.events.orders import OrderShipped, ShippedLine
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


async def send(kafka: str, *envelopes: Envelope) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka, enable_idempotence=True)
    await producer.start()
    try:
        for envelope in envelopes:
            await producer.send_and_wait(
                envelope.payload().topic, envelope.model_dump_json().encode(), key=envelope.key.encode()
            )
    finally:
        await producer.stop()


async def issue(kafka: str, rt, account: str, lines: dict[str, int]) -> str:
    """Billing issues an invoice (an envelope on billing.invoices); returns has recorded it."""
    event = invoice_issued(f"INV-{uuid.uuid4().hex[:8]}", account, lines)
    await send(kafka, Envelope.wrap(event, producer="billing", occurred_at=datetime.now(UTC)))

    async def recorded():
        async with rt.uow() as uow:
            return await uow.invoices.by_number(account, event.number)

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
        [receipt] = detail["receipts"]
        assert [(h["from_status"], h["to_status"], h["by"], h["note"], h["reason"]) for h in detail["history"]] == [
            (None, "requested", "ACME/customer", None, None),
            ("requested", "approved", "ops/admin", None, None),
            ("approved", "received", "ops/admin", receipt["number"], receipt["number"]),
        ]


async def test_two_accounts_invoices_of_one_number_are_both_kept_and_each_returns_against_its_own(new_database, kafka):
    """Several billings on one bus (a test run, a replayed topic) may number two accounts' invoices
    alike: both copies are kept (none dead-lettered), and an RMA names the caller's own."""
    async with running_service(definition(), database_url=await new_database("returns"), kafka=kafka) as (rt, http):
        number = f"INV-{uuid.uuid4().hex[:8]}"
        acme, beta = invoice_issued(number, "ACME", {"Router X1": 3}), invoice_issued(number, "BETA", {"Modem": 1})
        await send(kafka, *(Envelope.wrap(e, producer="billing", occurred_at=datetime.now(UTC)) for e in (acme, beta)))

        async def both_kept():
            async with rt.uow() as uow:
                return all([await uow.invoices.by_number(a, number) for a in ("ACME", "BETA")])

        await eventually(both_kept, what=f"both invoices numbered {number} to be kept")
        mine = await http.post("/v1/returns", json=body(number, ("Router X1", 3)), headers=ACME)
        assert mine.status_code == 201, mine.text
        theirs = await http.post("/v1/returns", json=body(number, ("Modem", 1)), headers=BETA)
        assert theirs.status_code == 201, theirs.text
        # each against its own invoice: ACME's has no modem, BETA's no router
        assert (await http.post("/v1/returns", json=body(number, ("Modem", 1)), headers=ACME)).status_code == 422
        assert (await http.post("/v1/returns", json=body(number, ("Router X1", 1)), headers=BETA)).status_code == 422


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


def goods_invoice(account: str, order_id: uuid.UUID, lines: dict[uuid.UUID, tuple[str, int]]) -> InvoiceIssuedV2:
    eur = lambda amount: Money(amount=Decimal(amount), currency="EUR")  # noqa: E731
    return InvoiceIssuedV2(
        invoice_id=uuid.uuid4(),
        number=f"INV-{uuid.uuid4().hex[:8]}",
        account_id=account,
        source_kind="order",
        source_id=str(order_id),
        currency="EUR",
        lines=[
            InvoiceLineV2(
                line_id=line_id,
                description=d,
                quantity=q,
                unit_price=eur("10.00"),
                line_total=eur(10 * q),
                tax_rate=Decimal("0.19"),
                tax=eur(Decimal("1.90") * q),
            )
            for line_id, (d, q) in lines.items()
        ],
        total=eur("100.00"),
        tax_total=eur("19.00"),
        due_on=date(2026, 2, 1),
        payment_instructions=[],
        issued_at=datetime.now(UTC),
    )


def shipped(account: str, order_id: uuid.UUID, lines: dict[uuid.UUID, tuple[int, int]]) -> OrderShipped:
    """A shipment of the order: per line (this shipment's quantity, shipped so far)."""
    return OrderShipped(
        order_id=order_id,
        number="SO-000001",
        account_id=account,
        shipment_id=uuid.uuid4(),
        shipment_number="SO-000001-1",
        carrier="DHL",
        tracking_number="123",
        lines=[
            ShippedLine(line_id=k, item_id=uuid.uuid4(), name="x", quantity=q, ordered=5, shipped=s, awaiting=5 - s)
            for k, (q, s) in lines.items()
        ],
        shipping_status="partially_shipped",
        shipped_by="ops/admin",
        shipped_at=datetime.now(UTC),
    )


def wrap(event, producer: str) -> Envelope:
    return Envelope.wrap(event, producer=producer, occurred_at=datetime.now(UTC))


async def test_a_return_of_shipped_goods_approved_redated_received_in_parts_and_closed(new_database, kafka):
    async with running_service(definition(), database_url=await new_database("returns"), kafka=kafka) as (rt, http):
        order, router, cable = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        invoice = goods_invoice("ACME", order, {router: ("Router X1", 5), cable: ("Cable", 3)})
        first_shipment = wrap(shipped("ACME", order, {router: (3, 3)}), "orders")
        # the invoice, a shipment told twice, an older count arriving late: 3 routers shipped, no cables
        await send(
            kafka,
            wrap(invoice, "billing"),
            first_shipment,
            first_shipment,
            wrap(shipped("ACME", order, {router: (1, 1)}), "orders"),
        )

        # the invoice and the shipments come on two topics: one can be applied before the other
        async def invoice_and_shipment_known():
            async with rt.uow() as uow:
                invoiced = await uow.invoices.by_number("ACME", invoice.number)
                return (invoiced and (await uow.shipped.of_order(order)).get(str(router)) == 3) or None

        await eventually(invoice_and_shipment_known, what="the invoice and the shipment to be recorded")
        line = lambda line_id, q: {"line_id": str(line_id), "quantity": q, "reason": "dead on arrival"}  # noqa: E731
        ask = lambda *lines, **kw: {"invoice_number": invoice.number, "lines": list(lines), **kw}  # noqa: E731
        over = await http.post("/v1/returns", json=ask(line(router, 4)), headers=ACME)
        assert over.status_code == 422 and over.json()["field"] == "lines[0].quantity", over.text
        assert over.json()["available"] == 3
        none_shipped = await http.post("/v1/returns", json=ask(line(router, 1), line(cable, 1)), headers=ACME)
        assert none_shipped.json()["field"] == "lines[1].quantity" and none_shipped.json()["available"] == 0
        blank = await http.post("/v1/returns", json=ask(line(router, 1), problem="  "), headers=ACME)
        assert blank.status_code == 422 and blank.json()["field"] == "problem", blank.text

        created = await http.post("/v1/returns", json=ask(line(router, 3), problem="They do not boot"), headers=ACME)
        assert created.status_code == 201, created.text
        rma = created.json()
        year = datetime.now(UTC).year
        assert rma["number"] == f"RMA-{year}-000001" and rma["problem"] == "They do not boot"
        assert (rma["invoice_id"], rma["status"], rma["resolution"], rma["expected_on"]) == (
            str(invoice.invoice_id),
            "requested",
            None,
            None,
        )
        assert [(x["line_id"], x["sku"], x["quantity"], x["received"]) for x in rma["lines"]] == [
            (str(router), "Router X1", 3, 0)
        ]
        base = f"/v1/admin/returns/{rma['id']}"
        early = await http.post(
            f"{base}/receipts", json={"lines": [{"line_id": str(router), "quantity": 1}]}, headers=ADMIN
        )
        assert early.status_code == 409 and early.json()["current_status"] == "requested", early.text
        past = await http.post(f"{base}/approve", json={"expected_on": "2000-01-01"}, headers=ADMIN)
        assert past.status_code == 422 and past.json()["field"] == "expected_on", past.text
        today = date.fromisoformat(
            (await http.get(f"/v1/returns/{rma['id']}", headers=ACME)).json()["requested_at"][:10]
        )
        expected = date(today.year + 1, 1, 15).isoformat()
        approved = await http.post(
            f"{base}/approve", json={"resolution": "credit", "expected_on": expected, "note": "ok"}, headers=ADMIN
        )
        assert approved.status_code == 200, approved.text
        assert (approved.json()["status"], approved.json()["resolution"], approved.json()["expected_on"]) == (
            "approved",
            "credit",
            expected,
        )
        same = await http.put(f"{base}/expected-date", json={"expected_on": expected}, headers=ADMIN)
        assert same.status_code == 422 and same.json()["field"] == "expected_on", same.text
        later = date(today.year + 1, 1, 20).isoformat()
        redated = await http.put(f"{base}/expected-date", json={"expected_on": later, "note": "carrier"}, headers=ADMIN)
        assert redated.status_code == 200 and redated.json()["expected_on"] == later, redated.text
        assert (await http.put(f"{base}/expected-date", json={"expected_on": later}, headers=ACME)).status_code == 403

        part = await http.post(
            f"{base}/receipts",
            json={"lines": [{"line_id": str(router), "quantity": 2}], "note": "box 1"},
            headers=ADMIN,
        )
        assert part.status_code == 201, part.text
        receipt = part.json()
        assert (receipt["number"], receipt["rma_id"], receipt["rma_number"], receipt["note"]) == (
            f"GR-{year}-000001",
            rma["id"],
            rma["number"],
            "box 1",
        )
        assert receipt["lines"] == [{"line_id": str(router), "description": "Router X1", "quantity": 2}]
        too_many = await http.post(
            f"{base}/receipts", json={"lines": [{"line_id": str(router), "quantity": 2}]}, headers=ADMIN
        )
        assert too_many.status_code == 422 and too_many.json()["field"] == "lines[0].quantity", too_many.text
        assert too_many.json()["remaining"] == 1
        unknown = await http.post(
            f"{base}/receipts", json={"lines": [{"line_id": str(cable), "quantity": 1}]}, headers=ADMIN
        )
        assert unknown.status_code == 422 and unknown.json()["field"] == "lines[0].line_id", unknown.text
        assert (await http.post(f"{base}/complete", headers=ADMIN)).json()["current_status"] == "partly_received"
        rest = await http.post(f"{base}/receive", headers=ADMIN)
        assert rest.status_code == 200 and rest.json()["status"] == "received", rest.text
        assert [x["received"] for x in rest.json()["lines"]] == [3]
        assert [r["number"] for r in rest.json()["receipts"]] == [f"GR-{year}-000001", f"GR-{year}-000002"]

        own = (await http.get("/v1/goods-receipts", headers=ACME)).json()
        assert [r["number"] for r in own["items"]] == [f"GR-{year}-000002", f"GR-{year}-000001"] and own["total"] == 2
        assert (await http.get("/v1/goods-receipts", headers=BETA)).json()["total"] == 0
        assert (await http.get("/v1/goods-receipts", params={"account_id": "ACME"}, headers=BETA)).json()["total"] == 0
        assert (await http.get("/v1/goods-receipts", params={"account_id": "ACME"}, headers=ADMIN)).json()["total"] == 2
        assert (await http.get(f"/v1/goods-receipts/{receipt['receipt_id']}", headers=ACME)).json() == receipt
        assert (await http.get(f"/v1/goods-receipts/{receipt['receipt_id']}", headers=BETA)).status_code == 404
        assert (await http.get(f"/v1/goods-receipts/{uuid.uuid4()}", headers=ADMIN)).status_code == 404

        assert (await http.post(f"{base}/close", headers=ADMIN)).json()["current_status"] == "received"
        assert (await http.post(f"{base}/complete", headers=ADMIN)).json()["status"] == "completed"
        closed = (await http.post(f"{base}/close", json={"note": "done"}, headers=ADMIN)).json()
        assert closed["status"] == "closed"
        assert [h["to_status"] for h in closed["history"]] == [
            "requested",
            "approved",
            "approved",
            "partly_received",
            "received",
            "completed",
            "closed",
        ]
        listed = (await http.get("/v1/returns", params={"status": "closed"}, headers=ACME)).json()
        assert [r["id"] for r in listed["items"]] == [rma["id"]] and listed["items"][0]["receipts"]

        wanted = {"ReturnRequested", "ReturnApproved", "ReturnExpectedDateChanged", "GoodsReceived"}

        def mine(record) -> bool:
            return record.key == rma["id"].encode()

        async def all_published():
            found = await read_topic(kafka, "returns.rma", mine, timeout=5)
            types = [Envelope.model_validate_json(r.value).type for r in found]
            return found if len(types) >= 5 and wanted <= set(types) else None

        records = await eventually(all_published, what="the RMA's events on returns.rma")
        events = [Envelope.model_validate_json(r.value).payload() for r in records]
        assert [type(e).__name__ for e in events] == [
            "ReturnRequested",
            "ReturnApproved",
            "ReturnExpectedDateChanged",
            "GoodsReceived",
            "GoodsReceived",
        ]
        requested, approval, redate, goods1, goods2 = events
        assert (requested.number, requested.invoice_id, requested.problem, requested.lines[0].line_id) == (
            rma["number"],
            invoice.invoice_id,
            "They do not boot",
            router,
        )
        assert (approval.resolution, approval.expected_on.isoformat(), approval.note) == ("credit", expected, "ok")
        assert (redate.previous_expected_on.isoformat(), redate.expected_on.isoformat()) == (expected, later)
        assert [
            (g.rma_status, g.resolution, [(x.invoice_line_id, x.quantity) for x in g.lines]) for g in (goods1, goods2)
        ] == [
            ("partly_received", "credit", [(router, 2)]),
            ("received", "credit", [(router, 1)]),
        ]
        assert goods1.receipt_id == uuid.UUID(receipt["receipt_id"]) and goods1.invoice_id == invoice.invoice_id
