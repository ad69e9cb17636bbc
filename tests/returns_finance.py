"""Returns, credit notes, balances and statements (issue 16) driven over HTTP and Kafka against the
running catalog, orders, billing, returns and notify: taxed goods ordered and shipped, RMA requests
against their invoice (approved with an expected date, rejected, received in parts as goods
receipts), billing's credit notes for the goods received, advance payments of an account, the
customer balance, the balance by order and the account statement, reconciliation statements
confirmed or disputed, and every document the supplier issued (orders' documents, each a PDF).
Shared by tests/test_returns_finance_flow.py; the README walkthrough's test runs the README instead.

Where a feature is missing the helpers fail with what was asked and what came back (`ok`), never
skip."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
from client_area import WAIT
from flow import ADMIN, JOBS_ON_DEMAND, Portal, _count_handed, ok, skip_backlog

from billing.bootstrap import definition as billing_definition
from catalog.bootstrap import definition as catalog_definition
from notify.bootstrap import definition as notify_definition
from notify.settings import NotifySettings
from orders.bootstrap import definition as orders_definition
from portal_runtime.testing import eventually, running_service

# The emails of issue 16: each kind's template at notify (X-Portal-Template).
RMA_RECEIVED = "rma_received"
RMA_APPROVED = "rma_approved"
RMA_REJECTED = "rma_rejected"
RMA_DATE_CHANGED = "rma_expected_date_changed"
GOODS_RECEIVED = "goods_received"
CREDIT_NOTE_ISSUED = "credit_note_issued"
STATEMENT_ISSUED = "statement_issued"
NEW_TEMPLATES = (
    RMA_RECEIVED,
    RMA_APPROVED,
    RMA_REJECTED,
    RMA_DATE_CHANGED,
    GOODS_RECEIVED,
    CREDIT_NOTE_ISSUED,
    STATEMENT_ISSUED,
)
DOCUMENT_KINDS = (
    "quote",
    "goods_issue",
    "invoice",
    "tax_invoice",
    "goods_receipt",
    "credit_note",
    "reconciliation_statement",
)
SECOND_RETURNS = "returns-2"  # another returns process (HTTP only) on returns' database


@contextlib.asynccontextmanager
async def running_finance_portal(infra, new_database, kafka, *, test_clock: bool = True) -> AsyncIterator[Portal]:
    """flow.running_portal's four services and returns (five consumers on real Kafka, each on its own
    database), and a second returns process on returns' database (HTTP only: an api replica) at
    `portal.http["returns-2"]`, for two RMA requests sent at once to two processes."""
    from returns.bootstrap import definition as returns_definition  # here: the README's section test needs none

    portal = Portal(infra)
    settings = JOBS_ON_DEMAND if test_clock else {}
    await skip_backlog(kafka, ["catalog", "orders", "billing", "returns", "notify"])
    smtp = NotifySettings(
        smtp_host=infra.smtp_host, smtp_port=infra.smtp_port, send_poll_seconds=0.1, send_backoff_seconds=0.2
    )
    async with contextlib.AsyncExitStack() as stack:
        for d in (
            catalog_definition(),
            orders_definition(),
            billing_definition(),
            returns_definition(),
            notify_definition(smtp),
        ):
            portal.database_urls[d.name] = await new_database(d.name)
            rt, portal.http[d.name] = await stack.enter_async_context(
                running_service(d, database_url=portal.database_urls[d.name], kafka=kafka, **settings)
            )
            portal.runtimes[d.name] = rt
            _count_handed(portal, rt)
        _, portal.http[SECOND_RETURNS] = await stack.enter_async_context(
            running_service(
                returns_definition(),
                database_url=portal.database_urls["returns"],
                kafka=kafka,
                consume=False,
                relay=False,
                **settings,
            )
        )
        if test_clock:
            for rt in portal.runtimes.values():
                await eventually(lambda rt=rt: rt.jobs.wakes > 0, what=f"{rt.definition.name}'s first scheduler round")
        yield portal


async def at(portal: Portal, on: str, time: str = "09:00:00") -> None:
    """It is now `on` (UTC, the business's time zone in tests) for every service, the second returns
    process too (it reads its database's clock within one refresh: waited for)."""
    now = f"{on}T{time}Z"
    for name in portal.runtimes:
        moved = ok(await portal.http[name].put("/v1/admin/clock", headers=ADMIN, json={"now": now}))
        assert moved["today"] == on, moved
    if SECOND_RETURNS in portal.http:

        async def follows():
            return ok(await portal.http[SECOND_RETURNS].get("/v1/admin/clock", headers=ADMIN))["today"] == on

        await eventually(follows, what=f"the second returns process to read the clock moved to {on}")


def cents(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


# -- billing: invoices and their lines ----------------------------------------------------------
async def invoice(portal: Portal, headers: dict[str, str], invoice_id: str) -> dict[str, Any]:
    return ok(await portal.http["billing"].get(f"/v1/invoices/{invoice_id}", headers=headers))


def invoice_line(inv: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """The invoice's line of this catalog item."""
    found = [x for x in inv["lines"] if str(x.get("item_id")) == str(item["id"])]
    assert len(found) == 1, (item["id"], inv["lines"])
    return found[0]


# -- returns ------------------------------------------------------------------------------------
def rma_lines(inv: dict[str, Any], *pairs: tuple[dict[str, Any], int], reason: str = "Defective") -> list[dict]:
    """RMA lines of these (item, quantity) pairs: each names the invoice line by its line_id."""
    return [
        {"line_id": str(invoice_line(inv, item)["line_id"]), "quantity": quantity, "reason": reason}
        for item, quantity in pairs
    ]


async def request_return(
    portal: Portal,
    headers: dict[str, str],
    invoice_number: str,
    lines: list[dict[str, Any]],
    problem: str | None = "The goods arrived damaged",
    *,
    process: str = "returns",
) -> httpx.Response:
    body: dict[str, Any] = {"invoice_number": invoice_number, "lines": lines}
    if problem is not None:
        body["problem"] = problem
    return await portal.http[process].post("/v1/returns", headers=headers, json=body)


async def requested(
    portal: Portal, headers: dict[str, str], inv: dict[str, Any], lines: list[dict[str, Any]], **more: Any
) -> dict[str, Any]:
    """An RMA request on the invoice, once returns has its copy of the invoice (asked again while it
    answers 422 `invoice_number`: it has not heard of it yet)."""

    async def made():
        r = await request_return(portal, headers, inv["number"], lines, **more)
        if r.status_code == 422 and r.json().get("field") == "invoice_number":
            return None
        return ok(r, 201)

    return await eventually(made, what=f"returns to know invoice {inv['number']}", timeout=WAIT)


def rma_id(rma: dict[str, Any]) -> str:
    return str(rma.get("rma_id") or rma["id"])


async def a_return(portal: Portal, headers: dict[str, str], rid: str) -> dict[str, Any]:
    return ok(await portal.http["returns"].get(f"/v1/returns/{rid}", headers=headers))


async def approve(portal: Portal, rid: str, **body: Any) -> httpx.Response:
    return await portal.http["returns"].post(f"/v1/admin/returns/{rid}/approve", headers=ADMIN, json=body or None)


async def reject(portal: Portal, rid: str, reason: str) -> httpx.Response:
    return await portal.http["returns"].post(f"/v1/admin/returns/{rid}/reject", headers=ADMIN, json={"reason": reason})


async def move_expected(portal: Portal, rid: str, expected_on: str, note: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"expected_on": expected_on}
    if note is not None:
        body["note"] = note
    return await portal.http["returns"].put(f"/v1/admin/returns/{rid}/expected-date", headers=ADMIN, json=body)


async def receive(portal: Portal, rid: str, lines: list[dict[str, Any]], note: str | None = None) -> httpx.Response:
    """A goods receipt of these lines ({line_id, quantity}) for the RMA."""
    body: dict[str, Any] = {"lines": lines}
    if note is not None:
        body["note"] = note
    return await portal.http["returns"].post(f"/v1/admin/returns/{rid}/receipts", headers=ADMIN, json=body)


def receipt_lines(inv: dict[str, Any], *pairs: tuple[dict[str, Any], int]) -> list[dict[str, Any]]:
    return [{"line_id": str(invoice_line(inv, item)["line_id"]), "quantity": q} for item, q in pairs]


async def admin_step(portal: Portal, rid: str, step: str) -> httpx.Response:
    return await portal.http["returns"].post(f"/v1/admin/returns/{rid}/{step}", headers=ADMIN)


async def goods_receipts(portal: Portal, headers: dict[str, str], **params: str) -> list[dict[str, Any]]:
    r = await portal.http["returns"].get("/v1/goods-receipts", headers=headers, params={"limit": 100, **params})
    return ok(r)["items"]


# -- billing: credit notes, balances, statements ------------------------------------------------
async def credit_notes_of(
    portal: Portal, headers: dict[str, str], invoice_id: str, n: int, what: str = ""
) -> list[dict[str, Any]]:
    """The invoice's credit notes once there are n (newest first), each read in full."""

    async def issued():
        r = await portal.http["billing"].get(
            "/v1/credit-notes", headers=headers, params={"invoice_id": invoice_id, "limit": 100}
        )
        items = ok(r)["items"]
        return items if len(items) >= n else None

    found = await eventually(issued, what=what or f"{n} credit notes of invoice {invoice_id}", timeout=WAIT)
    return [ok(await portal.http["billing"].get(f"/v1/credit-notes/{c['id']}", headers=headers)) for c in found]


def gross(note: dict[str, Any]) -> Decimal:
    return cents(note["total"]) + cents(note["tax_total"])


async def balance(portal: Portal, headers: dict[str, str], **params: str) -> dict[str, Any]:
    return ok(await portal.http["billing"].get("/v1/account/balance", headers=headers, params=params))


def balances_by_currency(answer: dict[str, Any]) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
    """{currency: (owed, advance, balance)}"""
    return {b["currency"]: (cents(b["owed"]), cents(b["advance"]), cents(b["balance"])) for b in answer["balances"]}


async def by_order(portal: Portal, headers: dict[str, str], currency: str = "EUR", **params: str) -> dict[str, Any]:
    r = await portal.http["billing"].get(
        "/v1/account/balance/by-order", headers=headers, params={"currency": currency, **params}
    )
    return ok(r)


async def account_statement(
    portal: Portal, headers: dict[str, str], start: str, end: str, currency: str = "EUR", **params: str
) -> dict[str, Any]:
    r = await portal.http["billing"].get(
        "/v1/account/statement",
        headers=headers,
        params={"currency": currency, "from": start, "to": end, **params},
    )
    return ok(r)


def statement_figures(s: dict[str, Any]) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """(opening, debits, credits, closing)"""
    return tuple(cents(s[k]) for k in ("opening_balance", "debits", "credits", "closing_balance"))


def statement_entries(s: dict[str, Any]) -> list[tuple[str, str, Decimal, Decimal, Decimal]]:
    """(on, kind, debit, credit, running balance) of each entry."""
    return [(e["on"], e["kind"], cents(e["debit"]), cents(e["credit"]), cents(e["balance"])) for e in s["entries"]]


async def advance_payment(
    portal: Portal, account: str, amount: str, *, key: str | None = None, **more: Any
) -> httpx.Response:
    body = {"amount": {"amount": amount, "currency": "EUR"}, "method": "bank_transfer", **more}
    return await portal.http["billing"].post(
        f"/v1/admin/accounts/{account}/payments",
        headers={**ADMIN, "Idempotency-Key": key or f"advance-{uuid.uuid4().hex}"},
        json=body,
    )


async def issue_statement(portal: Portal, account: str, start: str, end: str, **more: Any) -> httpx.Response:
    body = {"account_id": account, "currency": "EUR", "period_start": start, "period_end": end, **more}
    return await portal.http["billing"].post("/v1/admin/statements", headers=ADMIN, json=body)


async def answer_statement(
    portal: Portal, headers: dict[str, str], sid: str, how: str, note: str | None = None
) -> httpx.Response:
    body = {"note": note} if note is not None else None
    return await portal.http["billing"].post(f"/v1/statements/{sid}/{how}", headers=headers, json=body)


# -- orders: documents --------------------------------------------------------------------------
async def documents(portal: Portal, headers: dict[str, str], **params: str) -> list[dict[str, Any]]:
    r = await portal.http["orders"].get("/v1/account/documents", headers=headers, params={"limit": 100, **params})
    return ok(r)["items"]


async def documents_when(portal: Portal, headers: dict[str, str], kinds: set[str], what: str) -> list[dict[str, Any]]:
    """The account's documents once there is one of each of these kinds."""

    async def there():
        found = await documents(portal, headers)
        return found if kinds <= {d["kind"] for d in found} else None

    return await eventually(there, what=what, timeout=WAIT)


async def document_pdf(portal: Portal, headers: dict[str, str], document_id: str) -> httpx.Response:
    return await portal.http["orders"].get(f"/v1/account/documents/{document_id}/pdf", headers=headers)
