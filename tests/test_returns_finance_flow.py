"""Issue 16's proof, over HTTP and Kafka against the running catalog, orders, billing, returns and
notify on real Kafka, PostgreSQL and the SMTP sink: returns, goods receipts, credit notes, balances,
account and reconciliation statements, documents. One test per line of the issue's "What must show
that it works" (the README's walkthrough is tests/test_returns_finance_walkthrough.py's; the property
test of the statement and balance identities is billing's, services/billing/tests). The tests share
one running portal (each makes its own accounts and goods); its services have their test clocks, at
DAY unless a test moves them (and puts them back). Goods are taxed (19 % and 7 %) so credit notes and
tax invoices show tax; every figure below is computed by hand. Nothing sleeps: each step waits for
the event or the email it causes."""

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
    customer,
    databases,
    delivering_twice,
    events_of,
    good,
    mail_of,
    order_when,
    ordered,
    quote_line,
    sent_quote,
    template,
)
from client_area import WAIT, invoice_of, pay, settled, together, written_date, written_money
from flow import ADMIN, Portal, ok
from order_manager import cancel, names_field, pdf_pages, problem, shipment_lines, shipped, terms
from returns_finance import (
    CREDIT_NOTE_ISSUED,
    DOCUMENT_KINDS,
    GOODS_RECEIVED,
    NEW_TEMPLATES,
    RMA_APPROVED,
    RMA_DATE_CHANGED,
    RMA_RECEIVED,
    RMA_REJECTED,
    SECOND_RETURNS,
    STATEMENT_ISSUED,
    a_return,
    account_statement,
    admin_step,
    advance_payment,
    answer_statement,
    approve,
    at,
    balance,
    balances_by_currency,
    by_order,
    cents,
    credit_notes_of,
    document_pdf,
    documents,
    documents_when,
    goods_receipts,
    gross,
    invoice,
    invoice_line,
    issue_statement,
    move_expected,
    receipt_lines,
    receive,
    reject,
    request_return,
    requested,
    rma_id,
    rma_lines,
    running_finance_portal,
    statement_entries,
    statement_figures,
)

from portal_runtime.testing import eventually

DAY = "2027-09-01"  # the portal's business day (UTC) for this module; the test that moves it puts it back
UNKNOWN = "00000000-0000-4000-8000-000000000000"
D = Decimal
SCHEMA = (400, 422)  # refused by the schema (a type, a bound) first: 400, as everywhere in the portal; else 422


@pytest.fixture(scope="module")
async def portal(infra):
    async with running_finance_portal(infra, databases(infra), infra.kafka_bootstrap) as running:
        await at(running, DAY)
        yield running


def tag() -> str:
    return uuid.uuid4().hex[:8]


def plus(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


async def taxed_goods(portal: Portal) -> tuple[dict[str, Any], dict[str, Any]]:
    """A drill at 120.00 taxed 19 % and a roll of tape at 4.99 taxed 7 %."""
    t = tag()
    drill = await good(portal, f"Drill {t}", "120.00", tax_rate="0.19")
    tape = await good(portal, f"Tape {t}", "4.99", tax_rate="0.07")
    assert (drill.get("tax_rate"), tape.get("tax_rate")) == ("0.19", "0.07"), (drill, tape)
    return drill, tape


async def invoiced(portal: Portal, headers: dict[str, str], *pairs) -> tuple[dict[str, Any], dict[str, Any]]:
    """An order of these goods and its invoice (the account has payment terms: it ships unpaid)."""
    placed = await ordered(portal, headers, *pairs)
    return placed, await invoice_of(portal, headers, placed["order_id"])


async def shipped_all(portal: Portal, placed: dict[str, Any], *pairs) -> None:
    """A shipment of these goods; waited for until returns applied OrderShipped."""
    await shipped(portal, placed["order_id"], shipment_lines(placed, *pairs), "DHL", f"JD{tag()}")
    await settled(portal)


def figures_of(note: dict[str, Any]) -> list[tuple[int, Decimal, Decimal, Decimal]]:
    """A credit note's lines: (quantity, unit price, net, tax), by description."""
    return [
        (x["quantity"], cents(x["unit_price"]), cents(x["line_total"]), cents(x["tax"]))
        for x in sorted(note["lines"], key=lambda x: x["description"])
    ]


# -- the returnable quantity ---------------------------------------------------------------------
async def test_an_rma_needs_an_invoice_and_the_returnable_quantity_holds_across_requests_at_once_and_rejections(
    portal,
):
    returns = portal.http["returns"]
    account, email, headers = await customer(portal, "en")
    await terms(portal, account, 30)
    drill, tape = await taxed_goods(portal)

    # Before any invoice: refused naming the field; nothing is made.
    before = await request_return(portal, headers, "INV-2027-999999", [{"sku": "Drill", "quantity": 1, "reason": "x"}])
    assert names_field(before, "invoice_number"), before.text
    assert ok(await returns.get("/v1/returns", headers=headers))["items"] == []

    # 3 drills and 7 rolls invoiced; 2 drills and the tape shipped: 2 drills can be returned.
    placed, inv = await invoiced(portal, headers, (drill, 3), (tape, 7))
    assert invoice_line(inv, drill)["line_id"] == next(
        x["line_id"] for x in placed["lines"] if str(x["item_id"]) == str(drill["id"])
    ), "the invoice line's id is the order line's (HT)"
    await shipped_all(portal, placed, (drill, 2), (tape, 7))
    over = problem(await request_return(portal, headers, inv["number"], rma_lines(inv, (drill, 3))), 422)
    assert (over["field"], over["available"]) == ("lines[0].quantity", 2), over
    tape_over = problem(await request_return(portal, headers, inv["number"], rma_lines(inv, (tape, 8))), 422)
    assert (tape_over["field"], tape_over["available"]) == ("lines[0].quantity", 7), tape_over
    # bad problems; another account's invoice is unknown to it
    for wrong in ("", "x" * 2001):
        r = await request_return(portal, headers, inv["number"], rma_lines(inv, (drill, 1)), problem=wrong)
        assert names_field(r, "problem", statuses=SCHEMA), (len(wrong), r.text)
    _, _, stranger = await customer(portal, "en")
    assert names_field(
        await request_return(portal, stranger, inv["number"], rma_lines(inv, (drill, 1))), "invoice_number"
    )

    # One drill asked for: one is left; two requests for it at once on two returns processes: one wins.
    first = await requested(portal, headers, inv, rma_lines(inv, (drill, 1)), problem="It does not start")
    assert re.fullmatch(r"RMA-\d{4}-\d{6}", first["number"]), first
    assert (first["status"], first["problem"], first["invoice_id"]) == ("requested", "It does not start", inv["id"])
    racing = await together(
        request_return(portal, headers, inv["number"], rma_lines(inv, (drill, 1))),
        request_return(portal, headers, inv["number"], rma_lines(inv, (drill, 1)), process=SECOND_RETURNS),
    )
    assert sorted(r.status_code for r in racing) == [201, 422], [r.text for r in racing]
    [lost] = [r.json() for r in racing if r.status_code == 422]
    assert (lost["field"], lost["available"]) == ("lines[0].quantity", 0), lost
    [won] = [r.json() for r in racing if r.status_code == 201]
    assert won["number"] != first["number"], (won, first)
    none_left = problem(await request_return(portal, headers, inv["number"], rma_lines(inv, (drill, 1))), 422)
    assert none_left["available"] == 0, none_left

    # A rejection frees its quantity; a rejected request is not approved later.
    rejected = ok(await reject(portal, rma_id(first), "Wear and tear is not covered"))
    assert rejected["status"] == "rejected", rejected
    assert problem(await approve(portal, rma_id(first)), 409)["current_status"] == "rejected"
    again = await requested(portal, headers, inv, rma_lines(inv, (drill, 1)))
    # The third drill ships: one more can be returned, then none.
    await shipped_all(portal, placed, (drill, 1))
    ok(await request_return(portal, headers, inv["number"], rma_lines(inv, (drill, 1))), 201)
    assert (
        problem(await request_return(portal, headers, inv["number"], rma_lines(inv, (drill, 1))), 422)["available"] == 0
    )

    # The customer's list, filtered by status; another account sees none of them.
    mine = ok(await returns.get("/v1/returns", headers=headers, params={"limit": 50}))["items"]
    assert len(mine) == 4 and {x["invoice_number"] for x in mine} == {inv["number"]}, mine
    only_rejected = ok(await returns.get("/v1/returns", headers=headers, params={"status": "rejected"}))["items"]
    assert [x["number"] for x in only_rejected] == [first["number"]], only_rejected
    assert ok(await returns.get("/v1/returns", headers=stranger))["items"] == []
    assert (await returns.get(f"/v1/returns/{rma_id(again)}", headers=stranger)).status_code == 404
    await mail_of(portal, email, RMA_RECEIVED, first["number"], inv["number"])
    await mail_of(portal, email, RMA_REJECTED, first["number"], "Wear and tear is not covered")


# -- approve, expected date, receipts, credit note ---------------------------------------------
async def test_approved_with_a_date_changed_received_in_two_parts_credited_with_tax_lowering_due_and_balance(portal):
    account, email, headers = await customer(portal, "en")
    await terms(portal, account, 30)
    drill, tape = await taxed_goods(portal)
    placed, inv = await invoiced(portal, headers, (drill, 3), (tape, 7))
    # 3 × 120.00 = 360.00 + 19 % 68.40; 7 × 4.99 = 34.93 + 7 % 2.45 (2.4451): 465.78
    assert (cents(invoice_line(inv, drill)["tax_amount"]), cents(invoice_line(inv, tape)["tax_amount"])) == (
        D("68.40"),
        D("2.45"),
    ), inv["lines"]
    assert cents(inv["total"]) == D("465.78") and cents(inv["balance_due"]) == D("465.78"), inv
    await shipped_all(portal, placed, (drill, 3), (tape, 7))
    rma = await requested(portal, headers, inv, rma_lines(inv, (drill, 2), (tape, 3)), problem="Broken in transit")
    rid = rma_id(rma)

    # Approve: the expected date today or later; the resolution one of four.
    assert names_field(await approve(portal, rid, expected_on=plus(DAY, -1)), "expected_on")
    assert names_field(await approve(portal, rid, resolution="swap"), "resolution", statuses=SCHEMA)
    assert (await a_return(portal, headers, rid))["status"] == "requested"
    approved = ok(await approve(portal, rid, resolution="credit", expected_on=plus(DAY, 10), note="Send them back"))
    assert (approved["status"], approved["resolution"], approved["expected_on"]) == (
        "approved",
        "credit",
        plus(DAY, 10),
    ), approved
    assert problem(await approve(portal, rid), 409)["current_status"] == "approved"
    # The expected date moves (not to the same date, not to the past).
    assert names_field(await move_expected(portal, rid, plus(DAY, 10)), "expected_on")
    assert names_field(await move_expected(portal, rid, plus(DAY, -2)), "expected_on")
    moved = ok(await move_expected(portal, rid, plus(DAY, 12), "The carrier is late"))
    assert moved["expected_on"] == plus(DAY, 12), moved

    # Receipt 1: a drill and the 3 rolls. Over-receipt refused; an unknown line refused.
    part = ok(await receive(portal, rid, receipt_lines(inv, (drill, 1), (tape, 3)), "First parcel"), 201)
    assert re.fullmatch(r"GR-\d{4}-\d{6}", part["number"]) and part["rma_number"] == rma["number"], part
    assert (await a_return(portal, headers, rid))["status"] == "partly_received"
    too_many = problem(await receive(portal, rid, receipt_lines(inv, (drill, 2))), 422)
    assert (too_many["field"], too_many["remaining"]) == ("lines[0].quantity", 1), too_many
    unknown = await receive(portal, rid, [{"line_id": UNKNOWN, "quantity": 1}])
    assert names_field(unknown, "lines[0].line_id"), unknown.text
    assert problem(await admin_step(portal, rid, "complete"), 409)["current_status"] == "partly_received"
    rest = ok(await receive(portal, rid, receipt_lines(inv, (drill, 1))), 201)
    now = await a_return(portal, headers, rid)
    assert now["status"] == "received", now
    assert sorted(x["received"] for x in now["lines"]) == [2, 3], now["lines"]
    assert [r["number"] for r in now["receipts"]] == [part["number"], rest["number"]], now["receipts"]

    # One credit note per receipt, at the invoice's unit price and tax rate, all of it off the invoice.
    notes = sorted(await credit_notes_of(portal, headers, inv["id"], 2), key=lambda n: n["number"])
    first, second = notes
    assert figures_of(first) == sorted_lines(
        [(drill, 1, "120.00", "120.00", "22.80"), (tape, 3, "4.99", "14.97", "1.05")]  # 1.0479 → 1.05
    ), first
    assert figures_of(second) == [(1, D("120.00"), D("120.00"), D("22.80"))], second
    assert [gross(n) for n in notes] == [D("158.82"), D("142.80")], notes
    for n, receipt in zip(notes, (part, rest), strict=True):
        missing = {"applied", "receipt_id", "rma_id"} - set(n)
        assert not missing, f"billing's credit note answer lacks {sorted(missing)}: {n}"
        assert (n["reason"], n["settlement"], str(n["receipt_id"])) == (
            "returned_goods",
            "credit",
            receipt["receipt_id"],
        )
        assert (cents(n["applied"]), cents(n["credited"]), cents(n["refunded"])) == (gross(n), 0, 0), n
        assert re.fullmatch(r"CN-\d{4}-\d{6}", n["number"]), n
    after = await invoice(portal, headers, inv["id"])
    assert (cents(after["amount_credited"]), cents(after["balance_due"])) == (D("301.62"), D("164.16")), after
    assert balances_by_currency(await balance(portal, headers)) == {"EUR": (D("164.16"), D("0.00"), D("164.16"))}

    # The customer's goods receipts; another account sees none.
    receipts = await goods_receipts(portal, headers)
    assert [r["number"] for r in receipts] == [rest["number"], part["number"]], receipts  # newest first
    _, _, stranger = await customer(portal, "en")
    assert await goods_receipts(portal, stranger) == []
    assert (
        await portal.http["returns"].get(f"/v1/goods-receipts/{part['receipt_id']}", headers=stranger)
    ).status_code == 404
    ok(await portal.http["returns"].get(f"/v1/goods-receipts/{part['receipt_id']}", headers=headers))

    # Completed, closed; history of every step.
    assert ok(await admin_step(portal, rid, "complete"))["status"] == "completed"
    assert ok(await admin_step(portal, rid, "close"))["status"] == "closed"
    assert problem(await admin_step(portal, rid, "close"), 409)["current_status"] == "closed"
    history = (await a_return(portal, headers, rid))["history"]
    assert [h["to_status"] for h in history] == [
        "requested",
        "approved",
        "approved",  # the expected date moved, with its note
        "partly_received",
        "received",
        "completed",
        "closed",
    ], history
    assert "The carrier is late" in (history[2]["note"] or ""), history

    # An email at each step.
    await mail_of(portal, email, RMA_RECEIVED, rma["number"])
    await mail_of(portal, email, RMA_APPROVED, rma["number"])
    await mail_of(portal, email, RMA_DATE_CHANGED, rma["number"])
    await mail_of(portal, email, GOODS_RECEIVED, part["number"])
    await mail_of(portal, email, GOODS_RECEIVED, rest["number"])
    for n in notes:
        await mail_of(portal, email, CREDIT_NOTE_ISSUED, n["number"], inv["number"])


def sorted_lines(rows: list[tuple]) -> list[tuple[int, Decimal, Decimal, Decimal]]:
    """(item, quantity, unit price, net, tax) rows as figures_of gives them (by description)."""
    return [(q, D(u), D(n), D(t)) for _, q, u, n, t in sorted(rows, key=lambda r: r[0]["name"])]


async def test_a_full_return_in_parts_credits_exactly_what_was_invoiced_refunded_and_replace_credits_nothing(portal):
    account, email, headers = await customer(portal, "en")
    await terms(portal, account, 30)
    t = tag()
    washer = await good(portal, f"Washer {t}", "0.35", tax_rate="0.07")
    nut = await good(portal, f"Nut {t}", "0.10", tax_rate="0.19")
    placed, inv = await invoiced(portal, headers, (washer, 3), (nut, 2))
    # washers: 1.05 + 7 % 0.07 (0.0735); nuts: 0.20 + 19 % 0.04 (0.038): 1.36
    assert cents(inv["total"]) == D("1.36"), inv
    await pay(portal, inv)
    await shipped_all(portal, placed, (washer, 3), (nut, 2))
    refund = await requested(portal, headers, inv, rma_lines(inv, (washer, 3)))
    replace = await requested(portal, headers, inv, rma_lines(inv, (nut, 2)))
    ok(await approve(portal, rma_id(refund), resolution="refund"))
    ok(await approve(portal, rma_id(replace), resolution="replace"))
    for _ in range(3):  # one washer a parcel
        ok(await receive(portal, rma_id(refund), receipt_lines(inv, (washer, 1))), 201)
    ok(await receive(portal, rma_id(replace), receipt_lines(inv, (nut, 2))), 201)

    # 0.35 net each, tax 0.0245 → 0.02 twice; the last takes what is left: 0.07 - 0.04 = 0.03.
    notes = sorted(await credit_notes_of(portal, headers, inv["id"], 3), key=lambda n: n["number"])
    assert [figures_of(n) for n in notes] == [
        [(1, D("0.35"), D("0.35"), D("0.02"))],
        [(1, D("0.35"), D("0.35"), D("0.02"))],
        [(1, D("0.35"), D("0.35"), D("0.03"))],
    ], notes
    assert sum(cents(n["total"]) for n in notes) == D("1.05") and sum(cents(n["tax_total"]) for n in notes) == D("0.07")
    # paid in full: nothing to take off; each is refunded to the payer
    for n in notes:
        assert (n["settlement"], cents(n["applied"]), cents(n["refunded"])) == ("refund", 0, gross(n)), n
        assert sum(cents(r["amount"]) for r in n["refunds"]) == gross(n), n
    await settled(portal)
    assert len(await credit_notes_of(portal, headers, inv["id"], 3)) == 3  # the replaced nuts credit nothing
    assert balances_by_currency(await balance(portal, headers)).get("EUR", (0,))[0] == 0


# -- balances and statements ---------------------------------------------------------------------
async def test_balances_and_statements_over_invoices_payments_an_advance_and_a_credit_note_by_hand(portal):
    billing = portal.http["billing"]
    account, _, headers = await customer(portal, "en")
    await terms(portal, account, 30)
    t = tag()
    widget = await good(portal, f"Widget {t}", "50.00", tax_rate="0.19")  # 59.50 with tax
    gadget = await good(portal, f"Gadget {t}", "30.00", tax_rate="0.07")  # 32.10 with tax
    try:
        # 4 October: invoice 1 (2 widgets, 119.00); 19.00 paid on it.
        await at(portal, "2027-10-04")
        a, i1 = await invoiced(portal, headers, (widget, 2))
        assert cents(i1["total"]) == D("119.00"), i1
        await pay(portal, i1, "19.00")
        # 6 October: invoice 2 (a gadget, 32.10).
        await at(portal, "2027-10-06")
        b, i2 = await invoiced(portal, headers, (gadget, 1))
        await settled(portal)
        assert balances_by_currency(await balance(portal, headers)) == {"EUR": (D("132.10"), D(0), D("132.10"))}

        # 8 October: 200.00 paid in advance: 100.00 to invoice 1 and 32.10 to invoice 2 (by due date), 67.90 left.
        await at(portal, "2027-10-08")
        assert names_field(await advance_payment(portal, account, "0.00"), "amount", "amount.amount", statuses=SCHEMA)
        assert names_field(
            await advance_payment(portal, account, "10.00", received_on="2027-10-09"), "received_on", statuses=SCHEMA
        )
        key = f"advance-{t}"
        paid_in = ok(await advance_payment(portal, account, "200.00", key=key, reference="ACME 1008"), 201)
        assert [(x["invoice_number"], cents(x["amount"])) for x in paid_in["allocations"]] == [
            (i1["number"], D("100.00")),
            (i2["number"], D("32.10")),
        ], paid_in
        assert cents(paid_in["advance"]) == D("67.90"), paid_in
        assert ok(await advance_payment(portal, account, "200.00", key=key, reference="ACME 1008"), 201) == paid_in
        for oid in (a["order_id"], b["order_id"]):  # an allocated advance counts as paid
            await order_when(portal, headers, oid, lambda o: o["payment_status"] == "cleared", "cleared by the advance")
        assert balances_by_currency(await balance(portal, headers)) == {"EUR": (D(0), D("67.90"), D("-67.90"))}
        middle = await by_order(portal, headers)
        assert [cents(o["due"]) for o in middle["orders"]] == [0, 0] and cents(middle["on_account"]) == D("-67.90")
        assert cents(middle["total"]) == D("-67.90"), middle

        # 12 October: invoice 3 (a widget, 59.50) is paid at once from the advance (8.40 left).
        await at(portal, "2027-10-12")
        c, i3 = await invoiced(portal, headers, (widget, 1))
        await order_when(portal, headers, c["order_id"], lambda o: o["payment_status"] == "cleared", "paid by credit")
        assert (await invoice(portal, headers, i3["id"]))["status"] == "paid"
        # 14 October: invoice 4 (3 gadgets, 96.30): the 8.40 left pays part of it (87.90 due).
        await at(portal, "2027-10-14")
        d, i4 = await invoiced(portal, headers, (gadget, 3))

        async def part_paid():
            now = await invoice(portal, headers, i4["id"])
            return now if cents(now["balance_due"]) == D("87.90") else None

        await eventually(part_paid, what="the last 8.40 of the advance to pay part of invoice 4", timeout=WAIT)
        # 18 October: one gadget comes back (credit): a credit note of 32.10 takes it off invoice 4 (55.80 due).
        await at(portal, "2027-10-18")
        await shipped_all(portal, d, (gadget, 3))
        rma = await requested(portal, headers, i4, rma_lines(i4, (gadget, 1)))
        approved = ok(await approve(portal, rma_id(rma), resolution="credit"))
        assert approved["expected_on"] == "2027-11-01", approved  # today + RETURNS_EXPECTED_DAYS (14)
        ok(await receive(portal, rma_id(rma), receipt_lines(i4, (gadget, 1))), 201)
        [note] = await credit_notes_of(portal, headers, i4["id"], 1)
        assert (gross(note), cents(note["applied"])) == (D("32.10"), D("32.10")), note
        await settled(portal)

        assert balances_by_currency(await balance(portal, headers)) == {"EUR": (D("55.80"), D(0), D("55.80"))}
        assert balances_by_currency(await balance(portal, ADMIN, account_id=account))["EUR"][2] == D("55.80")
        assert names_field(await billing.get("/v1/account/balance", headers=ADMIN), "account_id")
        orders = await by_order(portal, headers)
        assert {
            o["source_id"]: (
                o["order_number"],
                cents(o["invoiced"]),
                cents(o["paid"]),
                cents(o["credited"]),
                cents(o["due"]),
            )
            for o in orders["orders"]
        } == {
            a["order_id"]: (a["number"], D("119.00"), D("119.00"), D(0), D(0)),
            b["order_id"]: (b["number"], D("32.10"), D("32.10"), D(0), D(0)),
            c["order_id"]: (c["number"], D("59.50"), D("59.50"), D(0), D(0)),
            d["order_id"]: (d["number"], D("96.30"), D("8.40"), D("32.10"), D("55.80")),
        }, orders
        assert cents(orders["on_account"]) == 0 and cents(orders["total"]) == D("55.80"), orders

        # The statements: 1-9 October, 10-31 October and the whole month; adjacent periods chain.
        early = await account_statement(portal, headers, "2027-10-01", "2027-10-09")
        assert statement_figures(early) == (D(0), D("151.10"), D("219.00"), D("-67.90")), early
        assert statement_entries(early) == [
            ("2027-10-04", "invoice", D("119.00"), D(0), D("119.00")),
            ("2027-10-04", "payment", D(0), D("19.00"), D("100.00")),
            ("2027-10-06", "invoice", D("32.10"), D(0), D("132.10")),
            ("2027-10-08", "advance_payment", D(0), D("200.00"), D("-67.90")),
        ], early
        assert [e["document_number"] for e in early["entries"]][:3:2] == [i1["number"], i2["number"]], early
        late = await account_statement(portal, headers, "2027-10-10", "2027-10-31")
        assert statement_figures(late) == (D("-67.90"), D("155.80"), D("32.10"), D("55.80")), late
        assert [(e["kind"], e["document_number"]) for e in late["entries"]] == [
            ("invoice", i3["number"]),
            ("invoice", i4["number"]),
            ("credit_note", note["number"]),
        ], late  # the advance spent on invoices 3 and 4 is no entry: it was counted when it came in
        october = await account_statement(portal, headers, "2027-10-01", "2027-10-31")
        assert statement_figures(october) == (D(0), D("306.90"), D("251.10"), D("55.80")), october
        wrong = await billing.get(
            "/v1/account/statement",
            headers=headers,
            params={"currency": "EUR", "from": "2027-10-09", "to": "2027-10-01"},
        )
        assert names_field(wrong, "to"), wrong.text

        # 29 October invoice 5 (a widget, 59.50) unpaid; voided on 2 November: October keeps it, November
        # has the void's credit.
        await at(portal, "2027-10-29")
        e, i5 = await invoiced(portal, headers, (widget, 1))
        await settled(portal)
        closed = await account_statement(portal, headers, "2027-10-01", "2027-10-31")
        assert statement_figures(closed) == (D(0), D("366.40"), D("251.10"), D("115.30")), closed
        await at(portal, "2027-11-02")
        ok(await cancel(portal, e["order_id"], "Ordered by mistake"))

        async def voided():
            return (await invoice(portal, headers, i5["id"]))["status"] == "voided"

        await eventually(voided, what="billing to void invoice 5", timeout=WAIT)
        await settled(portal)
        assert await account_statement(portal, headers, "2027-10-01", "2027-10-31") == closed
        november = await account_statement(portal, headers, "2027-11-01", "2027-11-02")
        assert statement_figures(november) == (D("115.30"), D(0), D("59.50"), D("55.80")), november
        assert statement_entries(november) == [("2027-11-02", "void", D(0), D("59.50"), D("55.80"))], november
        final = await by_order(portal, headers)
        assert sum(cents(o["due"]) for o in final["orders"]) + cents(final["on_account"]) == cents(final["total"])
        assert cents(final["total"]) == balances_by_currency(await balance(portal, headers))["EUR"][2] == D("55.80")
        # another account: nothing
        _, _, stranger = await customer(portal, "en")
        assert balances_by_currency(await balance(portal, stranger)) in ({}, {"EUR": (D(0), D(0), D(0))})
        empty = await account_statement(portal, stranger, "2027-10-01", "2027-10-31")
        assert statement_figures(empty) == (0, 0, 0, 0) and empty["entries"] == [], empty
    finally:
        await at(portal, DAY)


async def test_a_reconciliation_statement_confirmed_and_another_disputed(portal):
    billing = portal.http["billing"]
    account, email, headers = await customer(portal, "en")
    await terms(portal, account, 30)
    widget = await good(portal, f"Widget {tag()}", "50.00", tax_rate="0.19")
    _, inv = await invoiced(portal, headers, (widget, 2))  # 119.00
    await pay(portal, inv, "19.00")
    await settled(portal)

    assert names_field(await issue_statement(portal, account, DAY, plus(DAY, 1)), "period_end")
    assert names_field(await issue_statement(portal, account, DAY, plus(DAY, -1)), "period_end")
    one = ok(await issue_statement(portal, account, DAY, DAY, note="Q3 check"), 201)
    assert re.fullmatch(r"ST-\d{4}-\d{6}", one["number"]) and one["status"] == "open", one
    assert statement_figures(one) == (D(0), D("119.00"), D("19.00"), D("100.00")), one
    two = ok(await issue_statement(portal, account, plus(DAY, -30), DAY), 201)
    assert two["number"] != one["number"] and statement_figures(two)[3] == D("100.00"), two
    sid1, sid2 = str(one["statement_id"]), str(two["statement_id"])

    mine = ok(await billing.get("/v1/statements", headers=headers))["items"]
    assert {str(s["statement_id"]) for s in mine} == {sid1, sid2}, mine
    confirmed = ok(await answer_statement(portal, headers, sid1, "confirm"))
    assert confirmed["status"] == "confirmed" and confirmed["answered_at"], confirmed
    assert problem(await answer_statement(portal, headers, sid1, "confirm"), 409)["current_status"] == "confirmed"
    assert problem(await answer_statement(portal, headers, sid1, "dispute", "No"), 409)["current_status"] == "confirmed"
    for wrong in ("", "x" * 2001):
        assert names_field(await answer_statement(portal, headers, sid2, "dispute", wrong), "note", statuses=SCHEMA), (
            len(wrong)
        )
    disputed = ok(await answer_statement(portal, headers, sid2, "dispute", "The 19.00 transfer was 119.00"))
    assert (disputed["status"], disputed["dispute_note"]) == ("disputed", "The 19.00 transfer was 119.00"), disputed

    async def listed(status: str) -> list[str]:
        r = await billing.get("/v1/admin/statements", headers=ADMIN, params={"status": status, "account_id": account})
        return [str(s["statement_id"]) for s in ok(r)["items"]]

    assert (await listed("open"), await listed("confirmed"), await listed("disputed")) == ([], [sid1], [sid2])
    _, _, stranger = await customer(portal, "en")
    assert ok(await billing.get("/v1/statements", headers=stranger))["items"] == []
    for sid in (sid1, sid2):
        assert (await billing.get(f"/v1/statements/{sid}", headers=stranger)).status_code == 404
    assert (await answer_statement(portal, stranger, sid2, "confirm")).status_code == 404
    await mail_of(portal, email, STATEMENT_ISSUED, one["number"], "100.00")
    await mail_of(portal, email, STATEMENT_ISSUED, two["number"])


# -- documents -----------------------------------------------------------------------------------
async def test_every_document_is_a_pdf_for_its_owner_and_404_for_another_account(portal):
    orders = portal.http["orders"]
    account, _, headers = await customer(portal, "en")
    await terms(portal, account, 30)
    drill, tape = await taxed_goods(portal)
    sent = await sent_quote(portal, account, [quote_line(drill, 1)], plus(DAY, 20))
    placed, inv = await invoiced(portal, headers, (drill, 2), (tape, 5))
    await shipped_all(portal, placed, (drill, 2), (tape, 5))
    rma = await requested(portal, headers, inv, rma_lines(inv, (drill, 1)))
    ok(await approve(portal, rma_id(rma), resolution="credit"))
    receipt = ok(await receive(portal, rma_id(rma), receipt_lines(inv, (drill, 1))), 201)
    [note] = await credit_notes_of(portal, headers, inv["id"], 1)
    statement = ok(await issue_statement(portal, account, DAY, DAY), 201)

    docs = await documents_when(portal, headers, set(DOCUMENT_KINDS), "orders to list every kind of document")
    numbers = {d["kind"]: d["number"] for d in docs}
    assert numbers["invoice"] == numbers["tax_invoice"] == inv["number"], numbers
    assert (numbers["goods_receipt"], numbers["credit_note"], numbers["reconciliation_statement"]) == (
        receipt["number"],
        note["number"],
        statement["number"],
    ), numbers
    assert numbers["quote"] == sent["number"], numbers
    assert [d["issued_at"] for d in docs] == sorted((d["issued_at"] for d in docs), reverse=True), docs
    texts = {}
    for d in docs:
        r = await document_pdf(portal, headers, d["document_id"])
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/pdf"), (d, r.text[:300])
        assert f'filename="{d["number"]}.pdf"' in r.headers["content-disposition"], r.headers
        text = " ".join("\n".join(pdf_pages(r.content)).split())
        assert d["number"] in text, (d["kind"], text[:500])
        texts[d["kind"]] = text
        assert ok(await orders.get(f"/v1/account/documents/{d['document_id']}", headers=headers))["kind"] == d["kind"]
    # The tax invoice: the tax per rate. 19 %: 240.00 net, 45.60 tax; 7 %: 24.95 net, 1.75 tax (1.7465).
    assert "TAX INVOICE" in texts["tax_invoice"], texts["tax_invoice"]
    for phrase in ("240.00", "45.60", "24.95", "1.75"):
        assert phrase in texts["tax_invoice"], (phrase, texts["tax_invoice"])
    assert "142.80" in texts["credit_note"], texts["credit_note"]  # 120.00 + 22.80
    assert [d["kind"] for d in await documents(portal, headers, kind="credit_note")] == ["credit_note"]
    assert names_field(
        await orders.get("/v1/account/documents", headers=headers, params={"kind": "poem"}), "kind", statuses=SCHEMA
    )

    # Another account: 404 on every document and its PDF; empty lists of every kind.
    _, _, stranger = await customer(portal, "en")
    for d in docs:
        assert (await orders.get(f"/v1/account/documents/{d['document_id']}", headers=stranger)).status_code == 404
        assert (await document_pdf(portal, stranger, d["document_id"])).status_code == 404
    assert await documents(portal, stranger) == []
    for kind in DOCUMENT_KINDS:
        assert await documents(portal, stranger, kind=kind) == [], kind
    # the admin sees the account's
    assert {d["document_id"] for d in await documents(portal, ADMIN, account_id=account)} >= {
        d["document_id"] for d in docs
    }


# -- every email in four languages, every event twice --------------------------------------------
class Returner:
    """One customer account's run through the emailing flows of issue 16, in one language: taxed goods
    ordered on terms and shipped, one RMA rejected, another approved, its date moved, received in two
    parts (two goods receipts, two credit notes), and a reconciliation statement issued."""

    def __init__(self, portal: Portal, language: str, items: tuple[dict[str, Any], dict[str, Any]]):
        self.portal, self.language, self.items = portal, language, items

    async def opens(self) -> None:
        self.account, self.email, self.headers = await customer(self.portal, self.language)
        await terms(self.portal, self.account, 30)

    async def orders(self) -> None:
        drill, tape = self.items
        self.order, self.invoice = await invoiced(self.portal, self.headers, (drill, 2), (tape, 4))
        await shipped(
            self.portal, self.order["order_id"], shipment_lines(self.order, (drill, 2), (tape, 4)), "DHL", "JD1"
        )

    async def asks(self) -> None:
        drill, tape = self.items
        await settled(self.portal)
        self.rejected = await requested(self.portal, self.headers, self.invoice, rma_lines(self.invoice, (tape, 1)))
        self.rma = await requested(self.portal, self.headers, self.invoice, rma_lines(self.invoice, (drill, 2)))

    async def answers(self) -> None:
        ok(await reject(self.portal, rma_id(self.rejected), "Opened and used"))
        ok(await approve(self.portal, rma_id(self.rma), resolution="credit", expected_on=plus(DAY, 5)))
        ok(await move_expected(self.portal, rma_id(self.rma), plus(DAY, 9)))

    async def receives(self) -> None:
        drill, _ = self.items
        for _ in range(2):
            ok(await receive(self.portal, rma_id(self.rma), receipt_lines(self.invoice, (drill, 1))), 201)
        self.notes = await credit_notes_of(self.portal, self.headers, self.invoice["id"], 2)
        self.statement = ok(await issue_statement(self.portal, self.account, DAY, DAY), 201)

    async def figures(self) -> dict[str, Any]:
        await settled(self.portal)
        rmas = [await a_return(self.portal, self.headers, rma_id(r)) for r in (self.rejected, self.rma)]
        inv = await invoice(self.portal, self.headers, self.invoice["id"])
        sent = Counter(template(m) for m in await self.portal.infra.messages(to=self.email))
        return {
            "returns": [(r["status"], sorted(x["received"] for x in r["lines"])) for r in rmas],
            "expected_on": rmas[1]["expected_on"],
            "receipts": len(await goods_receipts(self.portal, self.headers)),
            "credit notes": sorted(
                str(gross(n)) for n in await credit_notes_of(self.portal, self.headers, inv["id"], 2)
            ),
            # 2 × 120.00 + 45.60 = 285.60; 4 × 4.99 = 19.96 + 1.40 (1.3972) = 21.36: 306.96 less 285.60
            "due": str(cents(inv["balance_due"])),
            "balance": balances_by_currency(await balance(self.portal, self.headers)),
            "statement": statement_figures(self.statement)[3] == cents(inv["balance_due"]),
            "emails": {k: sent[k] for k in NEW_TEMPLATES},
        }


EVERY_FIGURE = {
    "returns": [("rejected", [0]), ("received", [2])],
    "expected_on": plus(DAY, 9),
    "receipts": 2,
    "credit notes": ["142.80", "142.80"],
    "due": "21.36",
    "balance": {"EUR": (D("21.36"), D("0.00"), D("21.36"))},
    "statement": True,
    "emails": {
        RMA_RECEIVED: 2,
        RMA_APPROVED: 1,
        RMA_REJECTED: 1,
        RMA_DATE_CHANGED: 1,
        GOODS_RECEIVED: 2,
        CREDIT_NOTE_ISSUED: 2,
        STATEMENT_ISSUED: 1,
    },
}


async def every_returns_email(portal: Portal, languages: list[str]) -> list[Returner]:
    items = await taxed_goods(portal)
    runs = [Returner(portal, language, items) for language in languages]
    for step in (Returner.opens, Returner.orders, Returner.asks, Returner.answers, Returner.receives):
        await asyncio.gather(*(step(r) for r in runs))
    return runs


async def told_in_its_language(portal: Portal, r: Returner) -> None:
    await mail_of(portal, r.email, RMA_RECEIVED, r.rma["number"], r.invoice["number"])
    await mail_of(portal, r.email, RMA_REJECTED, r.rejected["number"], "Opened and used")
    lang = r.language  # dates and money as notify writes them in the language (CLDR)
    await mail_of(portal, r.email, RMA_APPROVED, r.rma["number"], written_date(plus(DAY, 5), lang))
    await mail_of(
        portal,
        r.email,
        RMA_DATE_CHANGED,
        r.rma["number"],
        written_date(plus(DAY, 5), lang),
        written_date(plus(DAY, 9), lang),
    )
    for n in r.notes:  # 120.00 + 22.80 tax each
        await mail_of(
            portal, r.email, CREDIT_NOTE_ISSUED, n["number"], r.invoice["number"], written_money("142.80", lang)
        )
    await mail_of(portal, r.email, STATEMENT_ISSUED, r.statement["number"], written_money("21.36", lang))
    for mail in await portal.infra.messages(to=r.email):
        if template(mail) in NEW_TEMPLATES:
            assert mail["headers"]["Content-Language"] == r.language, (r.language, template(mail), mail["subject"])
            assert mail["text"] and mail["html"], mail["subject"]


def _wording(subject: str) -> str:
    """A subject without its numbers and codes (what the template says, not its variables)."""
    return re.sub(r"[A-Z]{1,4}-?\d[\w-]*|\d[\d.,/-]*", "#", subject).strip()


async def test_every_new_email_in_all_four_languages(portal):
    runs = await every_returns_email(portal, list(LANGUAGES))
    subjects: dict[str, set[str]] = {}
    for r in runs:
        assert await r.figures() == EVERY_FIGURE, r.language
        await told_in_its_language(portal, r)
        for mail in await portal.infra.messages(to=r.email):
            if template(mail) in NEW_TEMPLATES:
                subjects.setdefault(f"{template(mail)}:{r.language}", set()).add(_wording(mail["subject"]))
    for kind in NEW_TEMPLATES:  # each reads differently in each language (a translation)
        wordings = [subjects.get(f"{kind}:{language}", set()) for language in LANGUAGES]
        assert all(wordings), (kind, wordings)
        for i, a in enumerate(wordings):
            for b in wordings[i + 1 :]:
                assert not (a & b), (kind, a, b)


async def test_every_event_of_these_flows_delivered_twice_changes_nothing(portal):
    dead_before = {name: rt.consumer.stats["dead_lettered"] for name, rt in portal.runtimes.items()}
    delivering_twice(portal, True)
    try:
        [run] = await every_returns_email(portal, ["de"])
        figures = await run.figures()
    finally:
        delivering_twice(portal, False)
    assert figures == EVERY_FIGURE
    await told_in_its_language(portal, run)
    events = await events_of(portal, run.account)
    types = {e["type"] for e in events}
    assert types >= {
        "OrderShipped",
        "ReturnRequested",
        "ReturnApproved",
        "ReturnRejected",
        "ReturnExpectedDateChanged",
        "GoodsReceived",
        "CreditNoteIssued",
        "StatementIssued",
    }, types
    await portal.handed_twice(events)
    stats = {name: rt.consumer.stats for name, rt in portal.runtimes.items()}
    assert all(stats[name]["duplicates"] > 0 for name in ("orders", "billing", "returns", "notify")), stats
    assert {name: s["dead_lettered"] for name, s in stats.items()} == dead_before, stats
