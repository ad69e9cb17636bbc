"""Issue 15's proof, over HTTP and Kafka against the running catalog, orders, billing and notify on
real Kafka, PostgreSQL and the SMTP sink: the order manager. One test per line of the issue's "What
must show that it works" (the README's walkthrough is tests/test_order_manager_walkthrough.py's).
The tests share one running portal (each makes its own accounts and goods, and filters the views by
its account); its services have their test clocks, moved by the tests that place orders on chosen
days and put back to DAY. Two shipments at once go to two orders API processes (this test process
and `python -m orders api` on the same database). Nothing sleeps: each step waits for the event or
the email it causes."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from b2b import (
    LANGUAGES,
    activated,
    an_order,
    channel_order,
    channel_ordered,
    customer,
    databases,
    delivering_twice,
    events_of,
    good,
    mail_of,
    order_when,
    ordered,
    template,
)
from client_area import WAIT, at, invoice_of, pay, settled, together
from flow import ADMIN, Portal, money, ok, running_portal
from order_manager import (
    BUSINESS_EMAIL,
    DHL_TRACKING,
    NEW_TEMPLATES,
    ORDER_CANCELLED,
    ORDER_MESSAGE,
    ORDER_PARTIALLY_SHIPPED,
    ORDER_SHIPPED,
    UPS_TRACKING,
    account_credit,
    admin_order,
    cancel,
    correct_tracking,
    credit_note_of,
    credit_notes,
    hold,
    invoice_pdf,
    line_of,
    names_field,
    notes,
    orders_api_process,
    pdf_of,
    pdf_pages,
    post_message,
    posted,
    printed,
    problem,
    ready_client,
    record_shipment,
    release,
    render_first_page,
    ship_pending,
    shipment_id,
    shipment_lines,
    shipments,
    shipped,
    shipped_quantities,
    statement,
    statement_of,
    terms,
    thread,
    view,
    view_ids,
)

from notify.adapters.catalogs import translations
from portal_runtime.testing import eventually

DAY = "2027-09-01"  # the portal's business day (UTC) for this module; tests that move it put it back
UNKNOWN = "00000000-0000-4000-8000-000000000000"
CONCURRENT = "test_two_shipments_recorded_at_once_on_two_orders_processes_take_only_what_is_awaited"


@pytest.fixture(scope="module")
async def portal(infra, tmp_path_factory, request):
    async with running_portal(infra, databases(infra), infra.kafka_bootstrap, test_clock=True) as running:
        # The second orders API process (an OS process) starts now, beside the first tests, when the
        # concurrency test is to run: it is ready by the time that test uses it.
        concurrent = any(item.name == CONCURRENT for item in request.session.items)
        running.second = orders_api_process(running, tmp_path_factory.mktemp("orders-api-2")) if concurrent else None
        try:
            await at(running, DAY)
            yield running
        finally:
            if running.second is not None:
                await asyncio.to_thread(running.second.stop)


@pytest.fixture
def kafka(infra) -> str:
    return infra.kafka_bootstrap


def tag() -> str:
    return uuid.uuid4().hex[:8]


def plus(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def written(day: str) -> str:
    """A date as the printed invoice writes it: 1 September 2027."""
    d = date.fromisoformat(day)
    return f"{d.day} {d:%B %Y}"


async def paid_order(portal: Portal, headers: dict[str, str], *pairs) -> tuple[dict[str, Any], dict[str, Any]]:
    """An order of these goods, paid in full (cleared at orders): (order, invoice)."""
    placed = await ordered(portal, headers, *pairs)
    invoice = await invoice_of(portal, headers, placed["order_id"])
    await pay(portal, invoice)
    cleared = await order_when(
        portal, headers, placed["order_id"], lambda o: o["payment_status"] == "cleared", "the payment to clear"
    )
    return cleared, invoice


# -- Completed → Cleared → Shipped ---------------------------------------------------------------
async def test_completed_cleared_shipped_with_two_partial_shipments_and_the_statement_at_each_step(portal):
    orders = portal.http["orders"]
    account, email, headers = await customer(portal, "en")
    t = tag()
    drill = await good(portal, f"Drill {t}", "120.00")
    saw = await good(portal, f"Saw {t}", "90.00")
    placed = await ordered(portal, headers, (drill, 5), (saw, 2))
    oid, number = placed["order_id"], placed["number"]
    d, s = line_of(placed, drill), line_of(placed, saw)

    # Completed: in the statement with nothing shipped; shipping waits for the payment to clear.
    assert (placed["status_label"], placed["shipping_status"]) == ("Completed", "unshipped"), placed
    assert placed["payment_terms_days"] is None and placed["public_note"] is None, placed
    assert "private_note" not in placed, placed
    assert statement_of(await statement(portal, headers), oid) == {d: (5, 0, 5), s: (2, 0, 2)}
    early = await record_shipment(portal, oid, shipment_lines(placed, (drill, 1)), "DHL", "JD0001")
    assert problem(early, 409)["current_status"] == "not_submitted"
    invoice = await invoice_of(portal, headers, oid)
    await pay(portal, invoice, "100.00")
    await order_when(portal, headers, oid, lambda o: o["payment_status"] == "submitted", "the part payment")
    part_paid = await record_shipment(portal, oid, shipment_lines(placed, (drill, 1)), "DHL", "JD0001")
    assert problem(part_paid, 409)["current_status"] == "submitted"
    assert await shipments(portal, oid) == []
    await pay(portal, invoice)
    cleared = await order_when(portal, headers, oid, lambda o: o["payment_status"] == "cleared", "cleared")
    assert cleared["status_label"] == "Cleared" and cleared["shipping_status"] == "unshipped", cleared
    assert oid in await view_ids(portal, view="ready_to_ship", account_id=account)

    # Shipment 1, pending (no tracking yet): 2 drills. Still awaited from the customer's side.
    pending = ok(await record_shipment(portal, oid, shipment_lines(placed, (drill, 2))), 201)
    sid = shipment_id(pending)
    assert (pending["status"], pending["number"], pending["carrier"]) == ("pending", f"{number}-1", None), pending
    assert (await an_order(portal, headers, oid))["shipping_status"] == "pending_shipment"
    assert statement_of(await statement(portal, headers), oid) == {d: (5, 0, 5), s: (2, 0, 2)}
    assert (await admin_order(portal, oid))["awaiting_quantity"] == 5  # 7 ordered, 2 held by the pending one
    # more than is awaited (5 ordered - 2 held = 3): 422 naming the line, saying what is awaited
    over = await record_shipment(portal, oid, shipment_lines(placed, (saw, 1), (drill, 4)), "DHL", "JD0002")
    refused = problem(over, 422)
    assert (refused["field"], refused["awaiting"]) == ("lines[1].quantity", 3), refused
    # a pending shipment has no tracking to correct
    assert problem(await correct_tracking(portal, oid, sid, "DHL", "JD0003"), 409)
    assert [x["status"] for x in await shipments(portal, oid)] == ["pending"]

    # It leaves with DHL: the tracking link is DHL's page for the number.
    left = ok(await ship_pending(portal, oid, sid, "DHL", "JD014600003"))
    assert (left["status"], left["tracking_number"]) == ("shipped", "JD014600003"), left
    assert left["tracking_url"] == DHL_TRACKING.format(tracking="JD014600003"), left
    assert problem(await ship_pending(portal, oid, sid, "DHL", "JD014600003"), 409)  # shipped already
    partly = await order_when(
        portal, headers, oid, lambda o: o["shipping_status"] == "partially_shipped", "partially shipped"
    )
    assert partly["status_label"] == "Cleared" and partly["shipping_at"], partly
    assert statement_of(await statement(portal, headers), oid) == {d: (5, 2, 3), s: (2, 0, 2)}
    await mail_of(portal, email, ORDER_PARTIALLY_SHIPPED, left["number"], "JD014600003")

    # Its tracking number is corrected; what shipped does not change.
    fixed = ok(await correct_tracking(portal, oid, sid, "DHL", "JD014600004"))
    assert fixed["tracking_number"] == "JD014600004", fixed
    assert fixed["tracking_url"] == DHL_TRACKING.format(tracking="JD014600004"), fixed
    assert shipped_quantities(fixed) == {d: 2} and fixed["status"] == "shipped", fixed
    assert statement_of(await statement(portal, headers), oid) == {d: (5, 2, 3), s: (2, 0, 2)}

    # Shipment 2, the rest, shipped at once with UPS: the order is Shipped and leaves the statement.
    rest = await shipped(portal, oid, shipment_lines(placed, (drill, 3), (saw, 2)), "UPS", "1Z999AA10123456784")
    assert rest["number"] == f"{number}-2" and rest["status"] == "shipped", rest
    assert rest["tracking_url"] == UPS_TRACKING.format(tracking="1Z999AA10123456784"), rest
    done = await order_when(portal, headers, oid, lambda o: o["shipping_status"] == "shipped", "shipped")
    assert done["status_label"] == "Shipped", done
    assert statement_of(await statement(portal, headers), oid) is None
    await mail_of(portal, email, ORDER_SHIPPED, rest["number"], "1Z999AA10123456784")
    # nothing is awaited now: one more is 422
    more = problem(await record_shipment(portal, oid, shipment_lines(placed, (saw, 1)), "UPS", "1Z1"), 422)
    assert (more["field"], more["awaiting"]) == ("lines[0].quantity", 0), more

    # The customer sees both shipments, with the corrected tracking; another account's are 404.
    mine = await shipments(portal, oid, headers)
    assert [(x["number"], x["status"], x["tracking_number"]) for x in mine] == [
        (f"{number}-1", "shipped", "JD014600004"),
        (f"{number}-2", "shipped", "1Z999AA10123456784"),
    ], mine
    _, _, stranger = await customer(portal, "en")
    assert (await orders.get(f"/v1/orders/{oid}/shipments", headers=stranger)).status_code == 404
    # the admin's view of it
    admin = await admin_order(portal, oid)
    assert admin["awaiting_quantity"] == 0 and len(admin["shipments"]) == 2 and admin["unpaid_days"] is None, admin
    assert oid in await view_ids(portal, view="shipped", account_id=account)
    assert oid not in await view_ids(portal, view="ready_to_ship", account_id=account)
    # cancel: nothing after a shipment
    assert problem(await cancel(portal, oid, "Too late", "refund"), 409)["current_status"] == "shipped"
    # the admin's statement needs the account
    assert names_field(await orders.get("/v1/orders/statement", headers=ADMIN), "account_id")
    assert statement_of(await statement(portal, ADMIN, account_id=account), oid) is None


async def test_a_shipment_that_is_wrong_is_422_naming_the_field_and_changes_nothing(portal):
    account, _, headers = await customer(portal, "en")
    await terms(portal, account, 30)
    bolt = await good(portal, f"Bolt {tag()}", "1.50")
    placed = await ordered(portal, headers, (bolt, 10))
    oid, b = placed["order_id"], line_of(placed, bolt)
    cases = [
        ({"lines": []}, ("lines",)),
        ({"lines": [{"line_id": b, "quantity": 0}]}, ("lines[0].quantity", "lines.0.quantity")),
        ({"lines": [{"line_id": UNKNOWN, "quantity": 1}]}, ("lines[0].line_id",)),
        ({"lines": [{"line_id": b, "quantity": 11}]}, ("lines[0].quantity",)),
        ({"lines": [{"line_id": b, "quantity": 1}], "carrier": "DHL"}, ("tracking_number", "carrier")),
        ({"lines": [{"line_id": b, "quantity": 1}], "tracking_number": "JD1"}, ("carrier", "tracking_number")),
        (
            {"lines": [{"line_id": b, "quantity": 1}], "carrier": "DHL", "tracking_number": "JD/1;"},
            ("tracking_number",),
        ),
        ({"lines": [{"line_id": b, "quantity": 1}], "carrier": "x" * 101, "tracking_number": "JD1"}, ("carrier",)),
        (
            {"lines": [{"line_id": b, "quantity": 1}], "carrier": "DHL", "tracking_number": "JD1", "tracking_url": "x"},
            ("tracking_url",),
        ),
    ]
    for body, fields in cases:
        r = await portal.http["orders"].post(f"/v1/admin/orders/{oid}/shipments", headers=ADMIN, json=body)
        assert names_field(r, *fields), (body, r.status_code, r.text)
    assert await shipments(portal, oid) == []
    assert (await admin_order(portal, oid))["awaiting_quantity"] == 10
    # an unknown carrier has no tracking link
    own = await shipped(portal, oid, [{"line_id": b, "quantity": 1}], "Our own van", "VAN-7")
    assert own["tracking_url"] is None and own["carrier"] == "Our own van", own
    # an unknown order is 404
    r = await record_shipment(portal, UNKNOWN, [{"line_id": b, "quantity": 1}], "DHL", "JD1")
    assert r.status_code == 404, r.text


async def test_shipping_before_payment_is_409_unless_the_account_has_terms(portal):
    orders = portal.http["orders"]
    account, _, headers = await customer(portal, "de")
    nail = await good(portal, f"Nail {tag()}", "2.00")
    assert ok(await orders.get(f"/v1/admin/accounts/{account}/payment-terms", headers=ADMIN)) == {
        "account_id": account,
        "payment_terms_days": None,
    }
    for wrong in (0, 366, "30"):
        r = await orders.put(
            f"/v1/admin/accounts/{account}/payment-terms", headers=ADMIN, json={"payment_terms_days": wrong}
        )
        schema = (400, 422) if isinstance(wrong, str) else (422,)  # a string: the schema's type error
        assert names_field(r, "payment_terms_days", statuses=schema), (wrong, r.text)
    plain = await ordered(portal, headers, (nail, 4))
    r = await record_shipment(portal, plain["order_id"], shipment_lines(plain, (nail, 1)), "DPD", "0150123")
    assert problem(r, 409)["current_status"] == "not_submitted"

    # 30 days net: the order carries them, billing makes its invoice due 30 days after its date, and
    # it ships unpaid (the account's terms now decide: also the order placed before them).
    await terms(portal, account, 30)
    termed = await ordered(portal, headers, (nail, 6))
    assert termed["payment_terms_days"] == 30 and plain["payment_terms_days"] is None, termed
    invoice = await invoice_of(portal, headers, termed["order_id"])
    assert invoice["due_on"] == plus(invoice["issued_at"][:10], 30), invoice
    first = await invoice_of(portal, headers, plain["order_id"])
    assert first["due_on"] < invoice["due_on"], (first, invoice)
    out = await shipped(portal, termed["order_id"], shipment_lines(termed, (nail, 2)), "DPD", "01501234")
    assert out["tracking_url"] == "https://tracking.dpd.de/status/en_US/parcel/01501234", out
    ok(await record_shipment(portal, plain["order_id"], shipment_lines(plain, (nail, 1))), 201)  # pending
    # shipped on terms and not paid: in unpaid and in shipped; ready to ship while something awaits
    await order_when(
        portal, headers, termed["order_id"], lambda o: o["shipping_status"] == "partially_shipped", "shipped"
    )
    for name in ("unpaid", "shipped", "ready_to_ship"):
        assert termed["order_id"] in await view_ids(portal, view=name, account_id=account, as_of=DAY), name

    # On hold: 409 on_hold, terms or not; released, it ships again.
    await hold(portal, termed["order_id"])
    r = await record_shipment(portal, termed["order_id"], shipment_lines(termed, (nail, 1)), "DPD", "01501235")
    assert problem(r, 409)["current_status"] == "on_hold"
    assert termed["order_id"] not in await view_ids(portal, view="ready_to_ship", account_id=account)
    await release(portal, termed["order_id"])
    await shipped(portal, termed["order_id"], shipment_lines(termed, (nail, 1)), "DPD", "01501235")

    # The terms taken away: shipping waits for payment again; the next order has none.
    await terms(portal, account, None)
    r = await record_shipment(portal, termed["order_id"], shipment_lines(termed, (nail, 1)), "DPD", "01501236")
    assert problem(r, 409)["current_status"] == "not_submitted"
    assert termed["order_id"] not in await view_ids(portal, view="ready_to_ship", account_id=account)
    later = await ordered(portal, headers, (nail, 1))
    assert (
        later["payment_terms_days"] is None
        and (await an_order(portal, headers, termed["order_id"]))["payment_terms_days"] == 30
    )
    # OrderPlaced (v2) tells billing the terms of each order
    placed_terms = {
        e["data"]["order_id"]: e["data"].get("payment_terms_days")
        for e in await events_of(portal, account)
        if e["type"] == "OrderPlaced" and e["dataversion"] == 2
    }
    assert placed_terms == {plain["order_id"]: None, termed["order_id"]: 30, later["order_id"]: None}, placed_terms


# -- cancel rules --------------------------------------------------------------------------------
async def test_cancel_rules_nothing_after_a_shipment_and_a_paid_order_credited_or_refunded(portal):
    billing = portal.http["billing"]
    account, email, headers = await customer(portal, "en")
    t = tag()
    lamp = await good(portal, f"Lamp {t}", "40.00")
    desk = await good(portal, f"Desk {t}", "250.00")

    # Unpaid: a reason is required; cancelled, billing voids its invoice and issues no credit note.
    unpaid = await ordered(portal, headers, (lamp, 1))
    invoice = await invoice_of(portal, headers, unpaid["order_id"])
    assert names_field(await cancel(portal, unpaid["order_id"], None), "reason", statuses=(400, 422))  # missing
    assert names_field(await cancel(portal, unpaid["order_id"], ""), "reason")
    assert names_field(await cancel(portal, unpaid["order_id"], "x" * 501), "reason")
    not_one = await cancel(portal, unpaid["order_id"], "Asked by phone", "cash")  # neither refund nor credit
    assert names_field(not_one, "settlement", statuses=(400, 422)), not_one.text
    assert (await an_order(portal, headers, unpaid["order_id"]))["status"] == "placed"
    gone = ok(await cancel(portal, unpaid["order_id"], "Ordered twice by mistake"))
    assert (gone["status"], gone["shipping_status"]) == ("cancelled", "cancelled"), gone
    again = problem(await cancel(portal, unpaid["order_id"], "Again"), 409)
    assert again["current_status"] == "cancelled", again
    await mail_of(portal, email, ORDER_CANCELLED, unpaid["number"], "Ordered twice by mistake")

    async def voided():
        now = ok(await billing.get(f"/v1/invoices/{invoice['id']}", headers=headers))
        return now if now["status"] == "voided" else None

    await eventually(voided, what="billing to void the cancelled order's invoice", timeout=WAIT)

    # Paid: the settlement is required (422, nothing changes); refunded: a credit note of every line.
    paid, paid_invoice = await paid_order(portal, headers, (lamp, 2), (desk, 1))
    assert names_field(await cancel(portal, paid["order_id"], "Customer withdrew"), "settlement")
    assert (await an_order(portal, headers, paid["order_id"]))["status"] != "cancelled"
    ok(await cancel(portal, paid["order_id"], "Customer withdrew", "refund"))
    refund = await credit_note_of(portal, headers, paid["order_id"])
    assert re.fullmatch(r"CN-\d{4}-\d{6}", refund["number"]), refund
    assert (refund["invoice_id"], refund["settlement"]) == (paid_invoice["id"], "refund"), refund
    assert money(refund["total"]) == money(paid_invoice["total"]) == money(refund["refunded"]), refund
    assert money(refund["credited"]) == 0, refund
    # refunded to the payer the way it paid (a refund row; no gateway payout in this system)
    assert {r["method"] for r in refund["refunds"]} == {"bank_transfer"}, refund
    assert sum(money(r["amount"]) for r in refund["refunds"]) == money(refund["total"]), refund
    assert sorted((x["description"], x["quantity"], money(x["unit_price"])) for x in refund["lines"]) == sorted(
        (x["description"], x["quantity"], money(x["unit_price"])) for x in paid_invoice["lines"]
    ), refund
    await mail_of(portal, email, ORDER_CANCELLED, paid["number"], "Customer withdrew")

    # Part-paid, credited: the invoice is voided, a credit note of what was paid stays on the account.
    part = await ordered(portal, headers, (desk, 2))
    part_invoice = await invoice_of(portal, headers, part["order_id"])
    await pay(portal, part_invoice, "120.00")
    await order_when(portal, headers, part["order_id"], lambda o: o["payment_status"] == "submitted", "part paid")
    assert names_field(await cancel(portal, part["order_id"], "Out of stock"), "settlement")
    ok(await cancel(portal, part["order_id"], "Out of stock", "credit"))
    credit = await credit_note_of(portal, headers, part["order_id"])
    [line] = credit["lines"]
    assert part_invoice["number"] in line["description"] and money(line["tax"]) == 0, credit
    assert (money(credit["total"]), money(credit["credited"]), money(credit["refunded"])) == (
        Decimal("120.00"),
        Decimal("120.00"),
        Decimal("0"),
    ), credit
    assert credit["number"] != refund["number"], credit
    assert ok(await billing.get(f"/v1/invoices/{part_invoice['id']}", headers=headers))["status"] == "voided"
    assert await account_credit(portal, headers) == {"EUR": "120.00"}
    assert await account_credit(portal, ADMIN, account_id=account) == {"EUR": "120.00"}
    assert names_field(await billing.get("/v1/account/credit", headers=ADMIN), "account_id")
    # another account sees neither its credit notes nor its credit
    _, _, stranger = await customer(portal, "en")
    assert await credit_notes(portal, stranger, order_id=part["order_id"]) == []
    assert (await billing.get(f"/v1/credit-notes/{credit['id']}", headers=stranger)).status_code == 404
    assert await account_credit(portal, stranger) == {}

    # A pending shipment is cancelled with its order; once one shipped, the order cannot be cancelled.
    # (Another account: this one's credit would pay these orders' invoices at once, issue 16.)
    shipper, _, shipper_headers = await customer(portal, "en")
    await terms(portal, shipper, 30)
    boxed = await ordered(portal, shipper_headers, (lamp, 3))
    pending = ok(await record_shipment(portal, boxed["order_id"], shipment_lines(boxed, (lamp, 1))), 201)
    ok(await cancel(portal, boxed["order_id"], "Changed plans"))
    assert [x["status"] for x in await shipments(portal, boxed["order_id"])] == ["cancelled"]
    assert problem(await ship_pending(portal, boxed["order_id"], shipment_id(pending), "DHL", "JD9"), 409)
    sent = await ordered(portal, shipper_headers, (lamp, 3))
    await shipped(portal, sent["order_id"], shipment_lines(sent, (lamp, 1)), "DHL", "JD10")
    assert problem(await cancel(portal, sent["order_id"], "Changed plans"), 409)["current_status"] == (
        "partially_shipped"
    )
    assert (await an_order(portal, shipper_headers, sent["order_id"]))["status"] != "cancelled"
    await settled(portal)
    assert len(await credit_notes(portal, headers)) == 2  # the refund and the credit, once each
    # OrderCancelled tells the number, the admin's reason, the settlement and who cancelled
    told = {e["data"]["order_id"]: e["data"] for e in await events_of(portal, account) if e["type"] == "OrderCancelled"}
    assert {
        o: (d["number"], d["reason"], d["note"], d.get("settlement"), d["cancelled_by"]) for o, d in told.items()
    } == {
        unpaid["order_id"]: (unpaid["number"], "admin", "Ordered twice by mistake", None, "ops/admin"),
        paid["order_id"]: (paid["number"], "admin", "Customer withdrew", "refund", "ops/admin"),
        part["order_id"]: (part["number"], "admin", "Out of stock", "credit", "ops/admin"),
    }, told
    [boxed_told] = [e["data"] for e in await events_of(portal, shipper) if e["type"] == "OrderCancelled"]
    assert (boxed_told["order_id"], boxed_told["number"], boxed_told.get("settlement")) == (
        boxed["order_id"],
        boxed["number"],
        None,
    )


# -- the views -----------------------------------------------------------------------------------
async def test_the_unpaid_view_as_of_a_date_and_cancelling_from_it(portal):
    account, email, headers = await customer(portal, "en")
    cup = await good(portal, f"Cup {tag()}", "8.00")
    d0 = plus(DAY, -40)
    try:
        await at(portal, d0)
        first = await ordered(portal, headers, (cup, 1))
        await at(portal, plus(d0, 10))
        second = await ordered(portal, headers, (cup, 2))
        paid_late = await ordered(portal, headers, (cup, 3))
        await at(portal, plus(d0, 12))
        await pay(portal, await invoice_of(portal, headers, paid_late["order_id"]))
        await order_when(portal, headers, paid_late["order_id"], lambda o: o["payment_status"] == "cleared", "paid")
        await at(portal, plus(d0, 20))
        newest = await ordered(portal, headers, (cup, 4))
    finally:
        await at(portal, DAY)
    a, b, c, n = (o["order_id"] for o in (first, second, paid_late, newest))

    async def unpaid(as_of: str, **more: Any) -> list[tuple[str, int]]:
        page = await view(portal, view="unpaid", account_id=account, as_of=as_of, limit=200, **more)
        return [(str(o["order_id"]), o["unpaid_days"]) for o in page["items"]]

    assert await unpaid(plus(d0, 5)) == [(a, 5)]
    on_day_11 = await unpaid(plus(d0, 11))  # paid on day 12: still unpaid on day 11
    assert sorted(on_day_11[:2]) == sorted([(b, 1), (c, 1)]) and on_day_11[2:] == [(a, 11)], on_day_11
    assert await unpaid(plus(d0, 15)) == [(b, 5), (a, 15)]  # paid on day 12: no longer unpaid
    assert await unpaid(plus(d0, 25)) == [(n, 5), (b, 15), (a, 25)]
    assert await unpaid(plus(d0, 25), older_than_days=10) == [(b, 15), (a, 25)]
    assert await unpaid(plus(d0, 25), older_than_days=20) == [(a, 25)]
    assert await unpaid(DAY) == [(n, 20), (b, 30), (a, 40)]  # as_of defaults to today's business date
    default = await view(portal, view="unpaid", account_id=account, limit=200)
    assert [str(o["order_id"]) for o in default["items"]] == [n, b, a], default
    assert names_field(
        await portal.http["orders"].get(
            "/v1/admin/orders", headers=ADMIN, params={"view": "unpaid", "older_than_days": -1}
        ),
        "older_than_days",
        statuses=(400, 422),  # a query parameter's bound: orders answers the schema's 400 (findings.md)
    )

    # Cancelling from it: each order more than 30 days old, with a reason; it moves to cancelled.
    for o in (await view(portal, view="unpaid", account_id=account, older_than_days=31))["items"]:
        ok(await cancel(portal, str(o["order_id"]), f"Not paid within 30 days of {o['placed_at'][:10]}"))
    assert await unpaid(DAY) == [(n, 20), (b, 30)]
    assert await view_ids(portal, view="cancelled", account_id=account) == [a]
    await mail_of(portal, email, ORDER_CANCELLED, first["number"], f"Not paid within 30 days of {d0}")


async def test_every_views_filters_and_paging(portal, kafka):
    orders = portal.http["orders"]
    account, _, headers = await customer(portal, "en")
    other, _, other_headers = await customer(portal, "en")
    pen = await good(portal, f"Pen {tag()}", "3.00")
    d1, d2 = plus(DAY, -9), plus(DAY, -3)
    try:
        await at(portal, d1)
        unpaid = await ordered(portal, headers, (pen, 1))
        dropped = await ordered(portal, headers, (pen, 2))
        ok(await cancel(portal, dropped["order_id"], "Duplicate"))
        await at(portal, d2)
        ready, _ = await paid_order(portal, headers, (pen, 3))
        sent, _ = await paid_order(portal, headers, (pen, 4))
        await shipped(portal, sent["order_id"], shipment_lines(sent, (pen, 4)), "GLS", "GLS123")
        await channel_ordered(kafka, channel_order(account, [(pen, 5, "2.80")], channel="marketplace"))

        async def from_the_channel():
            found = await view(portal, account_id=account, channel="marketplace")
            return found["items"] or None

        [marketplace] = await eventually(from_the_channel, what="the channel order to be placed", timeout=WAIT)
        theirs = await ordered(portal, other_headers, (pen, 6))
    finally:
        await at(portal, DAY)
    await order_when(portal, headers, sent["order_id"], lambda o: o["shipping_status"] == "shipped", "shipped")
    u, x, r, s, m = (str(o["order_id"]) for o in (unpaid, dropped, ready, sent, marketplace))

    def same(got: list[str], *expected: str) -> None:
        assert set(got) == set(expected) and len(got) == len(expected), (got, expected)

    everything = await view_ids(portal, account_id=account)
    same(everything, u, x, r, s, m)
    assert everything.index(m) < everything.index(u) and everything.index(r) < everything.index(u), everything
    same(await view_ids(portal, view="all", account_id=account), *everything)
    same(await view_ids(portal, view="unpaid", account_id=account), u, m)
    same(await view_ids(portal, view="ready_to_ship", account_id=account), r)
    same(await view_ids(portal, view="shipped", account_id=account), s)
    same(await view_ids(portal, view="cancelled", account_id=account), x)
    # by channel: the marketplace's, or those placed in the portal
    same(await view_ids(portal, account_id=account, channel="marketplace"), m)
    same(await view_ids(portal, account_id=account, channel="portal"), u, x, r, s)
    same(await view_ids(portal, view="unpaid", account_id=account, channel="portal"), u)
    # by dates, inclusive
    same(await view_ids(portal, account_id=account, placed_from=d1, placed_to=d1), u, x)
    same(await view_ids(portal, account_id=account, placed_from=d2), r, s, m)
    same(await view_ids(portal, account_id=account, placed_to=plus(d2, -1)), u, x)
    same(await view_ids(portal, account_id=account, placed_from=plus(d2, 1)))
    wrong = await orders.get("/v1/admin/orders", headers=ADMIN, params={"placed_from": d2, "placed_to": d1})
    assert names_field(wrong, "placed_from"), wrong.text
    # by account: the other account's order is only in its own, and in the unfiltered view
    same(await view_ids(portal, account_id=other), str(theirs["order_id"]))
    assert {u, str(theirs["order_id"])} <= set(await view_ids(portal, placed_from=d1))
    for bad in ({"view": "overdue"}, {"placed_from": "yesterday"}, {"as_of": "2027-13-01"}):
        assert (await orders.get("/v1/admin/orders", headers=ADMIN, params=bad)).status_code in (400, 422), bad
    assert (await orders.get("/v1/admin/orders", headers=headers)).status_code in (401, 403)

    # paged: two at a time, in the same order as the whole view, with its total
    pages, offset = [], 0
    while True:
        page = await view(portal, account_id=account, limit=2, offset=offset)
        assert page["total"] == 5 and page["limit"] == 2 and page["offset"] == offset, page
        pages.append([str(o["order_id"]) for o in page["items"]])
        offset += 2
        if offset >= page["total"]:
            break
    assert [len(p) for p in pages] == [2, 2, 1] and sum(pages, []) == everything, pages
    one = await view(portal, view="unpaid", account_id=account, limit=1, offset=1)
    assert one["total"] == 2 and len(one["items"]) == 1, one
    # the answer of a view is the admin's order: the private note, what awaits, the shipments
    found = {str(o["order_id"]): o for o in (await view(portal, account_id=account))["items"]}
    assert (found[r]["awaiting_quantity"], found[s]["awaiting_quantity"], found[x]["awaiting_quantity"]) == (3, 0, 0)
    assert [sh["number"] for sh in found[s]["shipments"]] == [f"{sent['number']}-1"], found[s]
    assert found[u]["unpaid_days"] == 9 and found[r]["unpaid_days"] is None, found[u]
    assert "private_note" in found[u], found[u]


# -- two at once ------------------------------------------------------------------------------
async def test_two_shipments_recorded_at_once_on_two_orders_processes_take_only_what_is_awaited(portal):
    account, _, headers = await customer(portal, "en")
    await terms(portal, account, 14)  # no payment to wait for
    crate = await good(portal, f"Crate {tag()}", "10.00")
    async with ready_client(portal.second) as second:
        for n in range(3):
            o = await ordered(portal, headers, (crate, 5))  # its invoice on the way meanwhile
            lines = shipment_lines(o, (crate, 3))  # 3 + 3 > 5: only one of the two may be taken
            tracking = (f"JD{n}A", f"JD{n}B") if n != 1 else (None, None)  # round 2: both pending
            answers = await together(
                record_shipment(portal, o["order_id"], lines, "DHL" if tracking[0] else None, tracking[0]),
                record_shipment(portal, o["order_id"], lines, "DHL" if tracking[1] else None, tracking[1], http=second),
            )
            assert sorted(a.status_code for a in answers) == [201, 422], [(a.status_code, a.text) for a in answers]
            [refused] = [a.json() for a in answers if a.status_code == 422]
            assert (refused["field"], refused["awaiting"]) == ("lines[0].quantity", 2), refused
            [taken] = await shipments(portal, o["order_id"])
            assert shipped_quantities(taken) == {line_of(o, crate): 3} and taken["number"].endswith("-1"), taken
            now = await admin_order(portal, o["order_id"])
            assert now["awaiting_quantity"] == 2, (n, now["awaiting_quantity"], now["shipments"], now["history"])
            # what is left can still be shipped, by either process
            last = await record_shipment(
                portal, o["order_id"], shipment_lines(o, (crate, 2)), "UPS", f"1Z{n}", http=second
            )
            assert last.status_code == 201 and last.json()["number"].endswith("-2"), last.text


# -- messages ------------------------------------------------------------------------------------
async def test_messages_both_ways_and_another_accounts_thread_is_404(portal):
    orders = portal.http["orders"]
    account, email, headers = await customer(portal, "tr")
    user = await activated(portal, account, "tr", name="Ayşe Yılmaz")
    mug = await good(portal, f"Mug {tag()}", "6.00")
    placed = await ordered(portal, user.headers, (mug, 12))
    oid, number = placed["order_id"], placed["number"]

    asked = await posted(portal, oid, user.headers, "  Can you deliver before Friday?  ")
    assert (asked["side"], asked["author_name"], asked["body"]) == (
        "customer",
        "Ayşe Yılmaz",
        "Can you deliver before Friday?",
    )
    told = await mail_of(
        portal, BUSINESS_EMAIL, ORDER_MESSAGE, f"/orders/{oid}", number, "Ayşe Yılmaz", "before Friday?"
    )
    assert f"/orders/{oid}" in told["text"] and told["headers"]["Content-Language"] == "en", told["headers"]
    answered = await posted(portal, oid, ADMIN, "Yes: it leaves on Thursday.")
    assert (answered["side"], answered["author_name"]) == ("business", None), answered
    got = await mail_of(portal, email, ORDER_MESSAGE, number, "Yes: it leaves on Thursday.")
    assert got["headers"]["Content-Language"] == "tr" and f"/orders/{oid}" in got["text"], got["headers"]

    # The thread, oldest first, the same on both sides, paged.
    for side in (headers, user.headers, ADMIN):
        seen = await thread(portal, oid, side)
        assert [(m["side"], m["body"]) for m in seen["items"]] == [
            ("customer", "Can you deliver before Friday?"),
            ("business", "Yes: it leaves on Thursday."),
        ] and seen["total"] == 2, seen
    second = await thread(portal, oid, ADMIN, limit=1, offset=1)
    assert [m["body"] for m in second["items"]] == ["Yes: it leaves on Thursday."] and second["total"] == 2, second

    # Another account's thread is 404 to read and to write, as an unknown order's; bad bodies are 422.
    _, _, stranger = await customer(portal, "en")
    for who, path in ((stranger, f"/v1/orders/{oid}/messages"), (headers, f"/v1/orders/{UNKNOWN}/messages")):
        assert (await orders.get(path, headers=who)).status_code == 404
        assert (await orders.post(path, headers=who, json={"body": "Hello?"})).status_code == 404
    assert (await post_message(portal, UNKNOWN, ADMIN, "Hello?")).status_code == 404
    for body in ("   ", "", "x" * 5001):
        assert names_field(await post_message(portal, oid, user.headers, body), "body"), body
    await settled(portal)
    assert (await thread(portal, oid, ADMIN))["total"] == 2
    to_account = [m for m in await portal.infra.messages(to=email) if template(m) == ORDER_MESSAGE]
    to_business = [
        m
        for m in await portal.infra.messages(to=BUSINESS_EMAIL)
        if template(m) == ORDER_MESSAGE and f"/orders/{oid}" in m["text"]
    ]
    assert (len(to_account), len(to_business)) == (1, 1), (to_account, to_business)


# -- printed invoices ----------------------------------------------------------------------------
PUBLIC_NOTE = "Deliver to gate 3, ask for Łukasz Żółć or Şule Güneş."
PRIVATE_NOTE = "Slow payer - SECRET-7731, call before shipping"


async def test_the_printed_invoice_pdf_read_back_with_its_lines_and_totals_and_without_the_private_note(
    portal, tmp_path
):
    account, _, headers = await customer(portal, "pl")
    t = tag()
    drill = await good(portal, f"Wiertarka żółta {t}", "129.00")
    pliers = await good(portal, f"Pense Şahin {t}", "24.50")
    placed = await ordered(portal, headers, (drill, 2), (pliers, 4))
    oid = placed["order_id"]
    noted = await notes(portal, oid, public_note=PUBLIC_NOTE, private_note=PRIVATE_NOTE)
    assert (noted["public_note"], noted["private_note"]) == (PUBLIC_NOTE, PRIVATE_NOTE), noted
    mine = await an_order(portal, headers, oid)
    assert mine["public_note"] == PUBLIC_NOTE and "private_note" not in mine and PRIVATE_NOTE not in str(mine), mine
    kept = await notes(portal, oid, public_note=PUBLIC_NOTE)  # an absent key keeps the note
    assert kept["private_note"] == PRIVATE_NOTE, kept
    assert names_field(
        await portal.http["orders"].put(
            f"/v1/admin/orders/{oid}/notes", headers=ADMIN, json={"private_note": "x" * 2001}
        ),
        "private_note",
    )
    invoice = await invoice_of(portal, headers, oid)
    await pay(portal, invoice, "100.00")
    await order_when(portal, headers, oid, lambda o: o["payment_status"] == "submitted", "the part payment")

    content = await printed(portal, oid, headers)
    assert pdf_of(await invoice_pdf(portal, oid, ADMIN))  # the admin's print of it too
    pages = pdf_pages(content)
    text = "\n".join(pages)
    flat = " ".join(text.split())
    assert pages[0].count("INVOICE") >= 1 and invoice["number"] in pages[0], pages[0]
    for phrase in (
        "Portal Commerce Ltd",
        placed["number"],
        written(invoice["issued_at"][:10]),
        written(invoice["due_on"]),
        f"Wiertarka żółta {t}",
        f"Pense Şahin {t}",
        "129.00",
        "24.50",
        "258.00",  # 2 × 129.00
        "98.00",  # 4 × 24.50
        f"{money(invoice['total']):.2f}",
        f"{money(invoice['total']) - Decimal('100.00'):.2f}",  # the balance after the part paid
        "100.00",  # paid so far
    ):
        assert phrase in flat, (phrase, text)
    assert " ".join(PUBLIC_NOTE.split()) in flat, text
    for rate in {money(x["tax_rate"]) for x in invoice["lines"]}:  # as a fraction or a percentage
        assert f"{rate:g}" in flat or f"{(rate * 100).normalize():f} %" in flat or f"{rate * 100:g}%" in flat, text
    dense = "".join(text.split())
    details = [str(v) for i in invoice["payment_instructions"] for v in (i.get("details") or {}).values()]
    assert details and any("".join(d.split()) in dense for d in details if len(d) > 5), (details, text)
    assert "SECRET-7731" not in text and "Slow payer" not in text, text
    assert b"SECRET-7731" not in content

    # Page 1 rendered: A4, the header and the lines table drawn in dark pixels, the margins white.
    png = tmp_path / "invoice-page-1.png"
    drawn = render_first_page(content, ["INVOICE", f"Wiertarka żółta {t}", "Portal Commerce Ltd"], png)
    print(f"the invoice's first page rendered: {png}")
    assert abs(drawn.page_points[0] - 595.28) < 1 and abs(drawn.page_points[1] - 841.89) < 1, drawn.page_points
    assert abs(drawn.width - 595.28 * 2) <= 2 and abs(drawn.height - 841.89 * 2) <= 2, (drawn.width, drawn.height)
    assert "INVOICE" in drawn.boxes and f"Wiertarka żółta {t}" in drawn.boxes, drawn.boxes
    header, line = drawn.boxes["INVOICE"], drawn.boxes[f"Wiertarka żółta {t}"]
    assert header[1] < line[1], (header, line)  # the header above the lines
    assert header[1] < drawn.height * 0.4, header  # in the top part of the page
    assert drawn.dark(header) > 50 and drawn.dark(line) > 50, (drawn.dark(header), drawn.dark(line))
    margin = int(10 * 72 / 25.4 * 2) - 2  # 10 mm at 144 dpi
    for strip in ((0, 0, margin, drawn.height), (drawn.width - margin, 0, drawn.width, drawn.height)):
        assert drawn.dark(strip) == 0, strip
    assert drawn.dark((0, 0, drawn.width, drawn.height)) > 2000

    # Another account's invoice is 404; a cancelled order's prints VOID.
    _, _, stranger = await customer(portal, "en")
    assert (await invoice_pdf(portal, oid, stranger)).status_code == 404
    assert (await invoice_pdf(portal, UNKNOWN, headers)).status_code == 404
    dropped = await ordered(portal, headers, (pliers, 1))
    voided = await invoice_of(portal, headers, dropped["order_id"])
    ok(await cancel(portal, dropped["order_id"], "Not needed"))

    async def stamped():
        r = await invoice_pdf(portal, dropped["order_id"], headers)
        return r.status_code == 200 and "VOID" in "\n".join(pdf_pages(r.content))

    await eventually(stamped, what="the voided invoice to print VOID", timeout=WAIT)
    assert voided["number"] in pdf_pages(pdf_of(await invoice_pdf(portal, dropped["order_id"], headers)))[0]


async def test_a_whole_view_printed_as_one_pdf_one_invoice_per_order(portal):
    orders = portal.http["orders"]
    account, _, headers = await customer(portal, "en")
    tape = await good(portal, f"Tape {tag()}", "4.00")
    placed = [await ordered(portal, headers, (tape, n)) for n in (1, 2, 3)]
    numbers = {}
    for o in placed:
        numbers[o["order_id"]] = (await invoice_of(portal, headers, o["order_id"]))["number"]
    await notes(portal, placed[1]["order_id"], private_note=PRIVATE_NOTE)
    in_view = await view_ids(portal, account_id=account)
    assert set(in_view) == set(numbers), in_view

    async def printed_view(**params: Any) -> list[str]:
        async def answered():
            r = await orders.get(
                "/v1/admin/orders/invoices.pdf", headers=ADMIN, params={"account_id": account, **params}
            )
            if r.status_code == 409:  # orders has not every copy yet
                return None
            pages = pdf_pages(pdf_of(r))
            found = [n for n in numbers.values() if any(n in p for p in pages)]
            return pages if len(found) >= min(len(numbers), params.get("limit", 3)) else None

        return await eventually(answered, what="the view's invoices to print", timeout=WAIT)

    pages = await printed_view()
    assert len(pages) >= 3, len(pages)
    # one invoice per order, in the view's order, each starting on its own page
    first_page = {n: next(i for i, p in enumerate(pages) if n in p) for n in numbers.values()}
    assert sorted(first_page.values(), key=int) == [first_page[numbers[oid]] for oid in in_view], first_page
    assert len(set(first_page.values())) == 3, first_page
    assert all("INVOICE" in pages[i] for i in first_page.values()), pages
    assert not any("SECRET-7731" in p for p in pages)
    # a page of the view: its invoices only
    paged = await printed_view(limit=2, offset=1)
    assert {n for n in numbers.values() if any(n in p for p in paged)} == {numbers[oid] for oid in in_view[1:]}
    # a view with no invoice in it is 409
    empty = await orders.get("/v1/admin/orders/invoices.pdf", headers=ADMIN, params={"account_id": f"none-{tag()}"})
    assert empty.status_code == 409, empty.text
    assert (await orders.get("/v1/admin/orders/invoices.pdf", headers=headers)).status_code in (401, 403)


# -- every event twice, every email in four languages -------------------------------------------
class Manager:
    """One customer account's run through the order manager's emailing flows, in one language: an
    order paid and shipped in two shipments (the first pending, then given tracking that is then
    corrected), a message each way, a second order paid and then cancelled by an admin with its
    money credited to the account."""

    def __init__(self, portal: Portal, language: str, items: list[dict[str, Any]]):
        self.portal, self.language, self.items = portal, language, items
        self.account, self.email, self.headers = "", "", {}
        self.shipments: list[dict[str, Any]] = []

    async def opens(self) -> None:
        self.account, self.email, self.headers = await customer(self.portal, self.language)

    async def orders(self) -> None:
        first, second = self.items
        self.order, _ = await paid_order(self.portal, self.headers, (first, 3), (second, 1))
        self.other, self.other_invoice = await paid_order(self.portal, self.headers, (second, 2))

    async def ships(self) -> None:
        first, second = self.items
        oid = self.order["order_id"]
        pending = ok(await record_shipment(self.portal, oid, shipment_lines(self.order, (first, 2))), 201)
        ok(await ship_pending(self.portal, oid, shipment_id(pending), "DHL", f"JD{self.account[-6:]}A"))
        ok(await correct_tracking(self.portal, oid, shipment_id(pending), "DHL", f"JD{self.account[-6:]}B"))
        rest = shipment_lines(self.order, (first, 1), (second, 1))
        await shipped(self.portal, oid, rest, "UPS", f"1Z{self.account[-6:]}")
        self.shipments = await shipments(self.portal, oid)

    async def talks(self) -> None:
        oid = self.order["order_id"]
        await posted(self.portal, oid, self.headers, f"Where is the rest of {self.order['number']}?")
        await posted(self.portal, oid, ADMIN, "It left today with UPS.")

    async def cancels(self) -> None:
        ok(await cancel(self.portal, self.other["order_id"], "Discontinued model", "credit"))
        self.credit = await credit_note_of(self.portal, self.headers, self.other["order_id"])

    async def figures(self) -> dict[str, Any]:
        await settled(self.portal)
        orders = [await an_order(self.portal, self.headers, o["order_id"]) for o in (self.order, self.other)]
        sent = await shipments(self.portal, self.order["order_id"])
        to_account = Counter(template(m) for m in await self.portal.infra.messages(to=self.email))
        to_business = [
            m
            for m in await self.portal.infra.messages(to=BUSINESS_EMAIL)
            if template(m) == ORDER_MESSAGE and f"/orders/{self.order['order_id']}" in m["text"]
        ]
        return {
            "orders": [(o["status"], o["payment_status"], o["shipping_status"], o["status_label"]) for o in orders],
            "shipments": [
                (s["number"].rsplit("-", 1)[1], s["status"], s["carrier"], s["tracking_number"][-1], sum_of(s))
                for s in sent
            ],
            "thread": [m["side"] for m in (await thread(self.portal, self.order["order_id"], self.headers))["items"]],
            "credit notes": [
                (money(c["total"]) == money(self.other_invoice["total"]), c["settlement"])
                for c in await credit_notes(self.portal, self.headers)
            ],
            "credit": await account_credit(self.portal, self.headers)
            == {"EUR": f"{money(self.other_invoice['total']):.2f}"},
            "to the account": {k: to_account[k] for k in NEW_TEMPLATES},
            "to the business": len(to_business),
        }


def sum_of(s: dict[str, Any]) -> int:
    return sum(x["quantity"] for x in s["lines"])


EVERY_FIGURE = {
    "orders": [("paid", "cleared", "shipped", "Shipped"), ("cancelled", "cleared", "cancelled", "Cleared")],
    "shipments": [("1", "shipped", "DHL", "B", 2), ("2", "shipped", "UPS", "", 2)],
    "thread": ["customer", "business"],
    "credit notes": [(True, "credit")],
    "credit": True,
    "to the account": {ORDER_SHIPPED: 1, ORDER_PARTIALLY_SHIPPED: 1, ORDER_CANCELLED: 1, ORDER_MESSAGE: 1},
    "to the business": 1,
}


def expected_figures(managers: list[Manager]) -> list[dict[str, Any]]:
    """EVERY_FIGURE with each manager's own last tracking character of its UPS shipment."""
    return [
        {**EVERY_FIGURE, "shipments": [EVERY_FIGURE["shipments"][0], ("2", "shipped", "UPS", m.account[-1], 2)]}
        for m in managers
    ]


async def every_order_manager_email(portal: Portal, languages: list[str]) -> list[Manager]:
    items = [await good(portal, f"Hinge {tag()}", "5.00"), await good(portal, f"Hook {tag()}", "7.00")]
    managers = [Manager(portal, language, items) for language in languages]
    for step in (Manager.opens, Manager.orders, Manager.ships, Manager.talks, Manager.cancels):
        await asyncio.gather(*(step(m) for m in managers))
    return managers


async def told_in_its_language(portal: Portal, m: Manager) -> None:
    """Each email in the account's language, saying its figures in its text and its HTML."""
    first, last = m.shipments
    sent = await mail_of(portal, m.email, ORDER_PARTIALLY_SHIPPED, first["number"], f"JD{m.account[-6:]}A", "DHL")
    assert DHL_TRACKING.format(tracking=f"JD{m.account[-6:]}A") in sent["html"], sent["html"]
    done = await mail_of(portal, m.email, ORDER_SHIPPED, last["number"], f"1Z{m.account[-6:]}", "UPS")
    assert UPS_TRACKING.format(tracking=f"1Z{m.account[-6:]}") in done["html"], done["html"]
    credited = translations(m.language).gettext(CREDITED)  # notify's own catalog of the language
    assert m.language == "en" or credited != CREDITED, (m.language, "no translation of", CREDITED)
    await mail_of(portal, m.email, ORDER_CANCELLED, m.other["number"], "Discontinued model", credited)
    await mail_of(portal, m.email, ORDER_MESSAGE, m.order["number"], "It left today with UPS.")
    for kind in NEW_TEMPLATES:
        for mail in [x for x in await portal.infra.messages(to=m.email) if template(x) == kind]:
            assert mail["headers"]["Content-Language"] == m.language, (m.language, kind, mail["subject"])
    await mail_of(
        portal,
        BUSINESS_EMAIL,
        ORDER_MESSAGE,
        f"/orders/{m.order['order_id']}",
        f"Where is the rest of {m.order['number']}?",
    )


CREDITED = "The amount paid will be credited to your account."  # the cancellation's credit sentence (en)


def _wording(subject: str) -> str:
    """A subject without its numbers and codes (what the template says, not its variables)."""
    return re.sub(r"[A-Z]{1,4}-?\d[\w-]*|\d[\d.,/-]*", "#", subject).strip()


async def test_every_new_email_in_all_four_languages(portal):
    managers = await every_order_manager_email(portal, list(LANGUAGES))
    subjects: dict[str, set[str]] = {}
    for m, expected in zip(managers, expected_figures(managers), strict=True):
        assert await m.figures() == expected, m.language
        await told_in_its_language(portal, m)
        for mail in await portal.infra.messages(to=m.email):
            if template(mail) in NEW_TEMPLATES:
                assert mail["text"] and mail["html"], mail["subject"]
                subjects.setdefault(f"{template(mail)}:{m.language}", set()).add(_wording(mail["subject"]))
    # each template reads differently in each language (a translation, not the English text)
    for kind in NEW_TEMPLATES:
        wordings = [subjects.get(f"{kind}:{language}", set()) for language in LANGUAGES]
        assert all(wordings), (kind, wordings)
        for i, a in enumerate(wordings):
            for b in wordings[i + 1 :]:
                assert not (a & b), (kind, a, b)


async def test_every_event_of_these_flows_delivered_twice_changes_nothing(portal):
    dead_before = {name: rt.consumer.stats["dead_lettered"] for name, rt in portal.runtimes.items()}
    delivering_twice(portal, True)
    try:
        [manager] = await every_order_manager_email(portal, ["de"])
        figures = await manager.figures()
    finally:
        delivering_twice(portal, False)
    assert figures == expected_figures([manager])[0]
    await told_in_its_language(portal, manager)
    events = await events_of(portal, manager.account)
    types = {e["type"] for e in events}
    assert types >= {
        "OrderPlaced",
        "InvoiceIssued",
        "PaymentConfirmed",
        "OrderShipped",
        "ShipmentTrackingCorrected",
        "OrderMessagePosted",
        "OrderCancelled",
        "CreditNoteIssued",
    }, types
    await portal.handed_twice(events)
    stats = {name: rt.consumer.stats for name, rt in portal.runtimes.items()}
    assert all(stats[name]["duplicates"] > 0 for name in ("orders", "billing", "notify")), stats
    assert {name: s["dead_lettered"] for name, s in stats.items()} == dead_before, stats
