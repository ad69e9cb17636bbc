"""The order manager over HTTP with orders' real consumers on the real Kafka and PostgreSQL: an order
of goods Completed → Cleared → Shipped in two shipments (the statement at each step; more than awaited
422, also two at once; shipping before payment 409 unless the account has terms), tracking corrected,
payment terms, notes (the private one only for admins), an admin's cancel (reason, settlement, nothing
after a shipment), and every view with its filters and paging."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from decimal import Decimal

from orders_testkit import NOW
from test_b2b_orders_http import channel_order, order_of
from test_client_area_http import add, catalog_item, invoice_for, paid, refusal
from test_http import inboxed, outbox_count, produce

from orders.bootstrap import definition
from portal_contracts.events.channels import ChannelOrderLine
from portal_runtime.clock import FrozenClock
from portal_runtime.testing import bearer, eventually, running_service

ACME, OTHER, OPS = bearer("acme"), bearer("other"), bearer("ops", "admin")
DAY = NOW.date()


async def place(http, headers, *lines) -> dict:
    for item, quantity in lines:
        r = await add(http, {"kind": "good", "item_id": str(item.item_id), "quantity": quantity}, headers)
        assert r.status_code == 201, r.text
    r = await http.post("/v1/cart/checkout", headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
    assert r.status_code == 201, r.text
    return r.json()


async def statement(http, headers=ACME, **params) -> dict:
    r = await http.get("/v1/orders/statement", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def lines_of(found: dict, order_id: str) -> list[tuple[int, int, int]]:
    [o] = [o for o in found["orders"] if o["order_id"] == order_id]
    return [(x["ordered"], x["shipped"], x["awaiting"]) for x in o["lines"]]


async def view(http, **params) -> dict:
    r = await http.get("/v1/admin/orders", params=params, headers=OPS)
    assert r.status_code == 200, r.text
    return r.json()


def numbers(page: dict) -> list[str]:
    return [o["number"] for o in page["items"]]


async def test_the_order_manager_over_http(new_database, kafka):
    paper = catalog_item("Paper", {"one_time": "4.50"}, kind="good")
    toner = catalog_item("Toner", {"one_time": "39.90"}, kind="good")
    url = await new_database("orders")
    clock = FrozenClock(NOW)
    async with running_service(definition(), database_url=url, kafka=kafka, clock=clock) as (rt, http):
        *_, last = await produce(kafka, paper, toner)
        await eventually(lambda: inboxed(rt, last.event_id), timeout=120, what="the items in orders' copy")

        # -- Completed: shipping waits for payment --------------------------------------------------
        order = await place(http, ACME, (paper, 5), (toner, 2))
        oid, (paper_line, toner_line) = order["order_id"], (x["line_id"] for x in order["lines"])
        assert (order["payment_terms_days"], order["public_note"], order["status_label"]) == (None, None, "Completed")
        ship3 = {"lines": [{"line_id": paper_line, "quantity": 3}], "carrier": "DHL", "tracking_number": "JD 0001"}
        early = await http.post(f"/v1/admin/orders/{oid}/shipments", json=ship3, headers=OPS)
        assert early.status_code == 409 and early.json()["current_status"] == "not_submitted", early.text
        assert lines_of(await statement(http), oid) == [(5, 0, 5), (2, 0, 2)]

        # -- Cleared, then a first shipment ---------------------------------------------------------
        invoice = invoice_for(order)
        await produce(kafka, invoice, paid(invoice))
        await eventually(lambda: _label(http, oid, "Cleared"), what="the order cleared")
        assert (await http.post(f"/v1/admin/orders/{oid}/shipments", json=ship3, headers=ACME)).status_code == 403
        r = await http.post(f"/v1/admin/orders/{oid}/shipments", json=ship3, headers=OPS)
        assert r.status_code == 201, r.text
        first = r.json()
        assert (first["number"], first["status"], first["tracking_url"]) == (
            f"{order['number']}-1",
            "shipped",
            "https://www.dhl.com/track?tracking-id=JD%200001",
        )
        got = await order_of(http, oid)
        assert (got["shipping_status"], got["status_label"]) == ("partially_shipped", "Cleared")
        assert lines_of(await statement(http), oid) == [(5, 3, 2), (2, 0, 2)]

        # -- more than awaited: 422; two at once: one taken, the other 422 --------------------------
        too_many = {"lines": [{"line_id": paper_line, "quantity": 3}]}
        r = refusal(
            await http.post(f"/v1/admin/orders/{oid}/shipments", json=too_many, headers=OPS), 422, "lines[0].quantity"
        )
        assert r["awaiting"] == 2
        both = {"lines": [{"line_id": toner_line, "quantity": 1}, {"line_id": paper_line, "quantity": 2}]}
        answers = await asyncio.gather(
            *(http.post(f"/v1/admin/orders/{oid}/shipments", json=both, headers=OPS) for _ in range(2))
        )
        assert sorted(a.status_code for a in answers) == [201, 422], [a.text for a in answers]
        [taken] = [a.json() for a in answers if a.status_code == 201]
        [refused] = [a.json() for a in answers if a.status_code == 422]
        assert (taken["status"], refused["field"], refused["awaiting"]) == ("pending", "lines[1].quantity", 0)
        for bad, field in (
            ({"lines": []}, "lines"),
            ({"lines": [{"line_id": paper_line, "quantity": 0}]}, "lines[0].quantity"),
            ({"lines": [{"line_id": str(uuid.uuid4()), "quantity": 1}]}, "lines[0].line_id"),
            ({"lines": [{"line_id": toner_line, "quantity": 1}], "carrier": "DHL"}, "tracking_number"),
        ):
            refusal(await http.post(f"/v1/admin/orders/{oid}/shipments", json=bad, headers=OPS), 422, field)
        # the pending shipment holds its quantities: the statement still awaits them
        assert (await order_of(http, oid))["shipping_status"] == "partially_shipped"
        assert lines_of(await statement(http), oid) == [(5, 3, 2), (2, 0, 2)]
        pending_tracking = await http.put(
            f"/v1/admin/orders/{oid}/shipments/{taken['shipment_id']}/tracking",
            json={"carrier": "UPS", "tracking_number": "1Z1"},
            headers=OPS,
        )
        assert pending_tracking.status_code == 409 and pending_tracking.json()["current_status"] == "pending"

        # -- the rest: a third shipment, then the pending one leaves: Shipped ------------------------
        rest = {"lines": [{"line_id": toner_line, "quantity": 1}], "carrier": "fedex", "tracking_number": "777"}
        assert (await http.post(f"/v1/admin/orders/{oid}/shipments", json=rest, headers=OPS)).status_code == 201
        r = await http.post(
            f"/v1/admin/orders/{oid}/shipments/{taken['shipment_id']}/ship",
            json={"carrier": "UPS", "tracking_number": "1Z1"},
            headers=OPS,
        )
        assert r.status_code == 200 and r.json()["shipped_at"], r.text
        got = await order_of(http, oid)
        assert (got["shipping_status"], got["status_label"]) == ("shipped", "Shipped")
        assert oid not in [o["order_id"] for o in (await statement(http))["orders"]]
        r = await http.put(
            f"/v1/admin/orders/{oid}/shipments/{first['shipment_id']}/tracking",
            json={"carrier": "DHL", "tracking_number": "JD0002"},
            headers=OPS,
        )
        assert r.status_code == 200, r.text
        assert [(h["old_tracking_number"], h["new_tracking_number"]) for h in r.json()["tracking_history"]] == [
            ("JD 0001", "JD0002")
        ]
        mine = await http.get(f"/v1/orders/{oid}/shipments", headers=ACME)
        assert [(s["number"][-2:], s["status"]) for s in mine.json()] == [
            ("-1", "shipped"),
            ("-2", "shipped"),
            ("-3", "shipped"),
        ]
        assert (await http.get(f"/v1/orders/{oid}/shipments", headers=OTHER)).status_code == 404
        assert await outbox_count(rt, "OrderShipped") == 3
        assert await outbox_count(rt, "ShipmentTrackingCorrected") == 1
        cancel = await http.post(
            f"/v1/admin/orders/{oid}/cancel", json={"reason": "late", "settlement": "refund"}, headers=OPS
        )
        assert cancel.status_code == 409 and cancel.json()["current_status"] == "shipped"

        # -- payment terms: an unpaid order ships; checkout copies the terms ------------------------
        refusal(
            await http.put("/v1/admin/accounts/other/payment-terms", json={"payment_terms_days": 0}, headers=OPS),
            422,
            "payment_terms_days",
        )
        r = await http.put("/v1/admin/accounts/other/payment-terms", json={"payment_terms_days": 30}, headers=OPS)
        assert r.json() == {"account_id": "other", "payment_terms_days": 30}
        got = await http.get("/v1/admin/accounts/other/payment-terms", headers=OPS)
        assert got.json() == {"account_id": "other", "payment_terms_days": 30}
        clock.advance(days=1)
        on_terms = await place(http, OTHER, (paper, 2))
        assert on_terms["payment_terms_days"] == 30
        r = await http.post(
            f"/v1/admin/orders/{on_terms['order_id']}/shipments",
            json={
                "lines": [{"line_id": on_terms["lines"][0]["line_id"], "quantity": 2}],
                "carrier": "gls",
                "tracking_number": "G1",
            },
            headers=OPS,
        )
        assert r.status_code == 201 and r.json()["tracking_url"] == "https://gls-group.com/track/G1", r.text

        # -- more orders: unpaid, paid, a channel's; notes ------------------------------------------
        clock.advance(days=1)
        unpaid = await place(http, ACME, (toner, 1))
        clock.advance(days=1)
        paid_order = await place(http, ACME, (paper, 1))
        invoice2 = invoice_for(paid_order).model_copy(update={"invoice_id": uuid.uuid4(), "number": "INV-2"})
        await produce(kafka, invoice2, paid(invoice2))
        await eventually(lambda: _label(http, paid_order["order_id"], "Cleared"), what="the second order cleared")
        clock.advance(hours=1)
        [placed] = await produce(
            kafka, channel_order("MP-9", ChannelOrderLine(sku=paper.sku, quantity=4, unit_price=Decimal("3.99")))
        )
        await eventually(lambda: inboxed(rt, placed.event_id), what="the channel's order")
        r = await http.put(
            f"/v1/admin/orders/{unpaid['order_id']}/notes",
            json={"public_note": "Ships after payment", "private_note": "Call before shipping"},
            headers=OPS,
        )
        assert r.status_code == 200 and r.json()["private_note"] == "Call before shipping", r.text
        r = await http.put(f"/v1/admin/orders/{unpaid['order_id']}/notes", json={"private_note": None}, headers=OPS)
        assert (r.json()["public_note"], r.json()["private_note"]) == ("Ships after payment", None)
        refusal(
            await http.put(
                f"/v1/admin/orders/{unpaid['order_id']}/notes", json={"public_note": "x" * 2001}, headers=OPS
            ),
            422,
            "public_note",
        )
        mine = await order_of(http, unpaid["order_id"])
        assert mine["public_note"] == "Ships after payment" and "private_note" not in mine

        # -- the views --------------------------------------------------------------------------------
        everyone = await view(http)
        assert everyone["total"] == 5 and everyone["items"][0]["channel"] == "marketplace"  # newest first
        as_of = (DAY + timedelta(days=10)).isoformat()
        unpaid_view = await view(http, view="unpaid", as_of=as_of)
        assert numbers(unpaid_view) == [
            everyone["items"][0]["number"],  # the channel's
            unpaid["number"],
            on_terms["number"],  # shipped on terms and not paid: unpaid AND shipped
        ]
        assert [o["unpaid_days"] for o in unpaid_view["items"]] == [7, 8, 9]
        older = await view(http, view="unpaid", as_of=as_of, older_than_days=8)
        assert numbers(older) == [unpaid["number"], on_terms["number"]]
        shipped = await view(http, view="shipped")
        assert numbers(shipped) == [on_terms["number"], order["number"]]
        ready = await view(http, view="ready_to_ship")
        assert numbers(ready) == [paid_order["number"]]
        assert numbers(await view(http, account_id="other")) == [on_terms["number"]]
        assert numbers(await view(http, channel="marketplace")) == [everyone["items"][0]["number"]]
        assert len(numbers(await view(http, channel="portal"))) == 4
        window = await view(
            http, placed_from=(DAY + timedelta(days=1)).isoformat(), placed_to=(DAY + timedelta(days=2)).isoformat()
        )
        assert numbers(window) == [unpaid["number"], on_terms["number"]]
        paged = await view(http, limit=2, offset=2)
        assert (paged["total"], numbers(paged)) == (5, numbers(everyone)[2:4])
        refusal(
            await http.get(
                "/v1/admin/orders", params={"placed_from": "2026-02-02", "placed_to": "2026-02-01"}, headers=OPS
            ),
            422,
            "placed_from",
        )
        assert (await http.get("/v1/admin/orders", params={"view": "nope"}, headers=OPS)).status_code == 400
        assert (await http.get("/v1/admin/orders", headers=ACME)).status_code == 403
        one = (await http.get(f"/v1/admin/orders/{oid}", headers=OPS)).json()
        assert (one["awaiting_quantity"], len(one["shipments"]), one["unpaid_days"]) == (0, 3, None)

        # -- cancel from the unpaid view; a paid one names its settlement ----------------------------
        refusal(
            await http.post(f"/v1/admin/orders/{unpaid['order_id']}/cancel", json={"reason": ""}, headers=OPS),
            422,
            "reason",
        )
        r = await http.post(
            f"/v1/admin/orders/{unpaid['order_id']}/cancel", json={"reason": "Ordered by mistake"}, headers=OPS
        )
        assert r.status_code == 200 and (r.json()["status"], r.json()["shipping_status"]) == ("cancelled", "cancelled")
        refusal(
            await http.post(
                f"/v1/admin/orders/{paid_order['order_id']}/cancel", json={"reason": "Out of stock"}, headers=OPS
            ),
            422,
            "settlement",
        )
        r = await http.post(
            f"/v1/admin/orders/{paid_order['order_id']}/cancel",
            json={"reason": "Out of stock", "settlement": "credit"},
            headers=OPS,
        )
        assert r.status_code == 200, r.text
        again = await http.post(
            f"/v1/admin/orders/{paid_order['order_id']}/cancel",
            json={"reason": "again", "settlement": "credit"},
            headers=OPS,
        )
        assert again.status_code == 409 and again.json()["current_status"] == "cancelled"
        assert numbers(await view(http, view="cancelled")) == [paid_order["number"], unpaid["number"]]
        assert unpaid["number"] not in numbers(await view(http, view="unpaid", as_of=as_of))
        assert await outbox_count(rt, "OrderCancelled") == 2

        # -- the statement: a customer's own; an admin names the account ----------------------------
        refusal(await http.get("/v1/orders/statement", headers=OPS), 422, "account_id")
        theirs = await statement(http, OPS, account_id="acme")
        assert [o["number"] for o in theirs["orders"]] == [everyone["items"][0]["number"]]  # the channel's
        assert (await statement(http, OTHER))["orders"] == []  # shipped in full
        assert (await statement(http, OTHER, account_id="acme"))["orders"] == []  # another account's: nothing


async def _label(http, order_id: str, label: str) -> bool:
    return (await order_of(http, order_id))["status_label"] == label
