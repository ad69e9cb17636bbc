"""Goods, statuses, hold, reorder and channel orders over HTTP with orders' real consumers on the
real Kafka and PostgreSQL: a cart of goods and a service checked out (an invisible item refused as
an unknown one), the order's payment status following billing's events (submitted, failed,
cleared; told twice changes nothing), an admin's hold and release, a reorder that skips a retired
and an invisible line, a channel's order received twice (two event ids) placed once, and a channel
order with an invisible item dead-lettered with its reason."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from decimal import Decimal

from aiokafka import AIOKafkaConsumer, TopicPartition
from orders_testkit import NOW
from test_client_area_http import add, catalog_item, invoice_for, paid, refusal
from test_http import inboxed, produce

from orders.bootstrap import definition
from portal_contracts import Money
from portal_contracts.events.billing import PaymentFailed, PaymentReceived
from portal_contracts.events.catalog import AccessGroupChanged, CatalogItemRetired
from portal_contracts.events.channels import ChannelOrderLine, ChannelOrderReceived
from portal_runtime.clock import FrozenClock
from portal_runtime.testing import bearer, eventually, running_service

ACME, OTHER, OPS = bearer("acme"), bearer("other"), bearer("ops", "admin")
GROUP = uuid.uuid4()


def group(revision: int, *items) -> AccessGroupChanged:
    return AccessGroupChanged(
        group_id=GROUP,
        name="Acme's range",
        item_ids=[i.item_id for i in items],
        account_ids=["acme"],
        revision=revision,
        changed_at=NOW + timedelta(minutes=revision),
    )


def eur(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="EUR")


def received(invoice, paid_now: str, due: str, minutes: int) -> PaymentReceived:
    return PaymentReceived(
        invoice_id=invoice.invoice_id,
        number=invoice.number,
        account_id=invoice.account_id,
        payment_id=uuid.uuid4(),
        method="bank_transfer",
        amount=eur(paid_now),
        amount_paid=eur(paid_now),
        balance_due=eur(due),
        invoice_status="partially_paid",
        received_at=NOW + timedelta(minutes=minutes),
    )


def channel_order(channel_order_id: str, *lines: ChannelOrderLine) -> ChannelOrderReceived:
    return ChannelOrderReceived(
        channel="marketplace",
        channel_order_id=channel_order_id,
        account_id="acme",
        currency="EUR",
        lines=list(lines),
        customer_reference="PO-4711",
        ordered_at=NOW,
    )


async def order_of(http, order_id: str, headers=ACME) -> dict:
    r = await http.get(f"/v1/orders/{order_id}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def dead_letters(kafka: str, topic: str, key: str, want: int = 1) -> list[dict]:
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    found: list[dict] = []
    try:
        meta = await consumer._client.fetch_all_metadata()
        parts = [TopicPartition(topic, p) for p in meta.partitions_for_topic(topic) or ()]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        for _ in range(60):
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for r in records:
                    if r.key and r.key.decode() == key:
                        found.append({k: (v or b"").decode() for k, v in r.headers} | {"value": json.loads(r.value)})
            if len(found) >= want:
                break
    finally:
        await consumer.stop()
    return found


async def test_goods_statuses_hold_reorder_and_channel_orders(new_database, kafka):
    paper = catalog_item("Paper", {"one_time": "4.50"}, kind="good")
    toner = catalog_item("Toner", {"one_time": "39.90"}, kind="good")
    hosting = catalog_item("Hosting", {"monthly": "10.00"})
    secret = catalog_item("Secret", {"one_time": "1.00"}, kind="good")
    url = await new_database("orders")
    async with running_service(definition(), database_url=url, kafka=kafka, clock=FrozenClock(NOW)) as (rt, http):
        *_, limited = await produce(kafka, paper, toner, hosting, secret, group(1, paper, toner, hosting))
        # the consumer may take a while to join its group on a busy machine
        await eventually(lambda: inboxed(rt, limited.event_id), timeout=120, what="the access group in orders' copy")
        good = {"kind": "good", "item_id": str(secret.item_id), "quantity": 1}
        assert (await add(http, good, OPS)).status_code == 201  # an admin's account is in no group: known

        # -- goods in the cart; an invisible item answers as an unknown one ----------------------
        hidden = await http.post("/v1/cart/lines", json=good, headers=ACME)
        unknown = await http.post("/v1/cart/lines", json={**good, "item_id": str(uuid.uuid4())}, headers=ACME)
        assert (hidden.status_code, unknown.status_code) == (409, 409)
        assert hidden.json()["type"] == unknown.json()["type"] and hidden.headers["retry-after"] == "1"
        assert (await add(http, {"kind": "good", "item_id": str(paper.item_id), "quantity": 3})).status_code == 201
        cart = (await add(http, {"kind": "good", "item_id": str(toner.item_id), "quantity": 1})).json()
        toner_line = cart["lines"][1]["line_id"]
        refusal(await http.put(f"/v1/cart/lines/{toner_line}", json={"quantity": 0}, headers=ACME), 400, "quantity")
        r = await http.put(f"/v1/cart/lines/{toner_line}", json={"quantity": 2}, headers=ACME)
        assert r.status_code == 200 and r.json()["lines"][1]["amount"] == "79.80", r.text
        line = {"kind": "new", "item_id": str(hosting.item_id), "cycle": "monthly", "domain": "acme.example"}
        cart = (await add(http, line)).json()
        assert (cart["total"], [x["quantity"] for x in cart["lines"]]) == ("103.30", [3, 2, 1])
        r = await http.post("/v1/cart/checkout", headers={**ACME, "Idempotency-Key": "b2b-1"})
        assert r.status_code == 201, r.text
        order = r.json()
        assert [(x["kind"], x["quantity"], x["amount"]) for x in order["lines"]] == [
            ("good", 3, "13.50"),
            ("good", 2, "79.80"),
            ("new", 1, "10.00"),
        ]
        assert (order["checkout_status"], order["payment_status"], order["shipping_status"]) == (
            "completed",
            "not_submitted",
            "unshipped",
        )
        assert (order["status_label"], order["source"], order["placed_by"]) == ("Completed", "cart", "acme/customer")

        # -- the payment status follows billing's events ------------------------------------------
        invoice = invoice_for(order)
        await produce(kafka, invoice, received(invoice, "50.00", "53.30", 1))
        await eventually(
            lambda: _status(http, order["order_id"], "payment_status", "submitted"), what="the payment submitted"
        )
        failed = PaymentFailed(
            invoice_id=invoice.invoice_id,
            account_id="acme",
            method="card",
            reason="card declined",
            failed_at=NOW + timedelta(minutes=2),
        )
        confirmed = paid(invoice).model_copy(update={"confirmed_at": NOW + timedelta(minutes=3)})
        await produce(kafka, failed)
        await eventually(lambda: _status(http, order["order_id"], "payment_status", "failed"), what="failed")
        await produce(kafka, confirmed, confirmed)  # told twice (two event ids)
        await eventually(lambda: _status(http, order["order_id"], "status_label", "Cleared"), what="cleared")
        await produce(kafka, failed.model_copy(update={"failed_at": NOW + timedelta(minutes=4)}))
        got = await order_of(http, order["order_id"])
        assert (got["payment_status"], got["status"]) == ("cleared", "paid")

        # -- hold and release (admins) -------------------------------------------------------------
        assert (await http.post(f"/v1/admin/orders/{order['order_id']}/hold", headers=ACME)).status_code == 403
        r = await http.post(f"/v1/admin/orders/{order['order_id']}/hold", json={"note": "check"}, headers=OPS)
        assert r.status_code == 200 and r.json()["checkout_status"] == "on_hold", r.text
        again = await http.post(f"/v1/admin/orders/{order['order_id']}/hold", headers=OPS)
        assert again.status_code == 409 and again.json()["current_status"] == "on_hold"
        r = await http.post(f"/v1/admin/orders/{order['order_id']}/release", headers=OPS)
        assert r.json()["checkout_status"] == "completed"
        notes = [h["note"] for h in r.json()["history"] if h["note"] and h["note"].startswith("checkout")]
        assert notes == ["checkout: on_hold (check)", "checkout: completed"]
        missing = await http.post(f"/v1/admin/orders/{uuid.uuid4()}/hold", headers=OPS)
        assert missing.status_code == 404

        # -- reorder: today's prices, a retired and an invisible line skipped ---------------------
        retired = CatalogItemRetired(item_id=toner.item_id, revision=2, retired_at=NOW)
        [narrowed, gone] = await produce(kafka, group(2, paper, toner), retired)
        for envelope in (narrowed, gone):
            await eventually(lambda e=envelope: inboxed(rt, e.event_id), what="the copy changed")
        assert (await http.post(f"/v1/orders/{order['order_id']}/reorder", headers=OTHER)).status_code == 404
        r = await http.post(f"/v1/orders/{order['order_id']}/reorder", headers=ACME)
        assert r.status_code == 200, r.text
        skipped = [(s["name"], s["reason"]) for s in r.json()["skipped"]]
        assert skipped == [("Toner", "retired"), ("Hosting", "invisible")]
        assert [(x["kind"], x["quantity"]) for x in r.json()["cart"]["lines"]] == [("good", 3)]
        r = await http.post("/v1/cart/checkout", headers={**ACME, "Idempotency-Key": "b2b-2"})
        assert (r.json()["source"], r.json()["reordered_from"]) == ("reorder", order["order_id"])

        # -- channel orders: twice is one order; an invisible item is refused (dead letter) -------
        line = ChannelOrderLine(sku=paper.sku, quantity=5, unit_price=Decimal("3.99"))
        first = channel_order("MP-1", line)
        await produce(kafka, first, first.model_copy())
        await eventually(lambda: _channel_orders(http, 1), what="the channel's order placed")
        bad = channel_order("MP-2", ChannelOrderLine(item_id=secret.item_id, quantity=1, unit_price=Decimal("1")))
        [bad_envelope] = await produce(kafka, bad)
        await produce(kafka, first)  # a third delivery, after the bad one
        await eventually(lambda: rt.consumer.stats["dead_lettered"] >= 1, what="the bad channel order refused")
        [dead] = await dead_letters(kafka, "orders.dlq", "MP-2")
        assert f"item {secret.item_id} is unknown" in dead["x-error"] and dead["value"]["id"] == str(
            bad_envelope.event_id
        )
        [placed] = await _channel_orders(http, 1)
        assert (placed["channel"], placed["channel_order_id"], placed["placed_by"], placed["total"]) == (
            "marketplace",
            "MP-1",
            "channel:marketplace",
            "19.95",
        )
        assert (placed["lines"][0]["kind"], placed["customer_reference"]) == ("good", "PO-4711")


async def _status(http, order_id: str, name: str, value: str) -> bool:
    return (await order_of(http, order_id))[name] == value


async def _channel_orders(http, want: int):
    page = (await http.get("/v1/orders", params={"account_id": "acme", "limit": 50}, headers=OPS)).json()
    found = [o for o in page["items"] if o["source"] == "channel"]
    return found if len(found) == want else None
