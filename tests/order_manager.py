"""The order manager (issue 15) driven over HTTP and Kafka against the running services: payment
terms of an account, shipments with tracking (pending first or shipped at once), the customer's
order statement, the admins' views of orders with their filters and paging, an admin's cancel
(with the settlement of a paid order in billing: a credit note, refunded or credited), an order's
notes, its message thread both ways, and its invoice printed as a PDF (one order's, or a whole
view's) read back with pypdfium2: its text, and its first page rendered to an image. Shared by
tests/test_order_manager_flow.py; the README walkthrough's test runs the README instead."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from client_area import WAIT
from flow import ADMIN, Portal, ok
from outage import Role

from portal_runtime.testing import TEST_SECRET, eventually

# The emails of issue 15: each kind's template at notify (X-Portal-Template).
ORDER_SHIPPED = "order_shipped"
ORDER_PARTIALLY_SHIPPED = "order_partially_shipped"
ORDER_CANCELLED = "order_cancelled"
ORDER_MESSAGE = "order_message"
NEW_TEMPLATES = (ORDER_SHIPPED, ORDER_PARTIALLY_SHIPPED, ORDER_CANCELLED, ORDER_MESSAGE)
BUSINESS_EMAIL = "orders@portal.invalid"  # notify's BUSINESS_EMAIL default: a customer's message goes there
DHL_TRACKING = "https://www.dhl.com/track?tracking-id={tracking}"  # orders' carrier_tracking_urls default
UPS_TRACKING = "https://www.ups.com/track?tracknum={tracking}"
START_TIMEOUT = 120  # a Python process starting on a busy 2-core machine


# -- payment terms, notes, hold -----------------------------------------------------------------
async def terms(portal: Portal, account: str, days: int | None) -> dict[str, Any]:
    """An admin gives the account payment terms (days net), or takes them away (None)."""
    path = f"/v1/admin/accounts/{account}/payment-terms"
    answer = ok(await portal.http["orders"].put(path, headers=ADMIN, json={"payment_terms_days": days}))
    assert answer == {"account_id": account, "payment_terms_days": days}, answer
    return answer


async def notes(portal: Portal, oid: str, **notes: str | None) -> dict[str, Any]:
    return ok(await portal.http["orders"].put(f"/v1/admin/orders/{oid}/notes", headers=ADMIN, json=notes))


async def hold(portal: Portal, oid: str, note: str = "checking the address") -> dict[str, Any]:
    return ok(await portal.http["orders"].post(f"/v1/admin/orders/{oid}/hold", headers=ADMIN, json={"note": note}))


async def release(portal: Portal, oid: str) -> dict[str, Any]:
    return ok(await portal.http["orders"].post(f"/v1/admin/orders/{oid}/release", headers=ADMIN))


# -- shipments ----------------------------------------------------------------------------------
def line_of(order: dict[str, Any], item: dict[str, Any]) -> str:
    """The order's line of this item."""
    [line] = [x["line_id"] for x in order["lines"] if str(x["item_id"]) == str(item["id"])]
    return str(line)


def shipment_lines(order: dict[str, Any], *pairs: tuple[dict[str, Any], int]) -> list[dict[str, Any]]:
    return [{"line_id": line_of(order, item), "quantity": quantity} for item, quantity in pairs]


async def record_shipment(
    portal: Portal,
    oid: str,
    lines: list[dict[str, Any]],
    carrier: str | None = None,
    tracking_number: str | None = None,
    *,
    process: str = "orders",
    http: httpx.AsyncClient | None = None,
    **more: Any,
) -> httpx.Response:
    """POST a shipment of these lines (pending without a carrier and tracking number)."""
    body: dict[str, Any] = {"lines": lines, **more}
    if carrier is not None:
        body["carrier"] = carrier
    if tracking_number is not None:
        body["tracking_number"] = tracking_number
    client = http or portal.http[process]
    return await client.post(f"/v1/admin/orders/{oid}/shipments", headers=ADMIN, json=body)


async def shipped(portal: Portal, oid: str, lines: list[dict[str, Any]], carrier: str, tracking: str) -> dict:
    return ok(await record_shipment(portal, oid, lines, carrier, tracking), 201)


async def ship_pending(portal: Portal, oid: str, sid: str, carrier: str, tracking: str, **more: Any) -> httpx.Response:
    body = {"carrier": carrier, "tracking_number": tracking, **more}
    return await portal.http["orders"].post(f"/v1/admin/orders/{oid}/shipments/{sid}/ship", headers=ADMIN, json=body)


async def correct_tracking(portal: Portal, oid: str, sid: str, carrier: str, tracking: str) -> httpx.Response:
    body = {"carrier": carrier, "tracking_number": tracking}
    path = f"/v1/admin/orders/{oid}/shipments/{sid}/tracking"
    return await portal.http["orders"].put(path, headers=ADMIN, json=body)


async def shipments(portal: Portal, oid: str, headers: dict[str, str] = ADMIN) -> list[dict[str, Any]]:
    """The order's shipments: the admin's list, or the customer's own (`headers` another's)."""
    path = f"/v1/admin/orders/{oid}/shipments" if headers is ADMIN else f"/v1/orders/{oid}/shipments"
    answer = ok(await portal.http["orders"].get(path, headers=headers))
    return answer["items"] if isinstance(answer, dict) else answer


def shipment_id(s: dict[str, Any]) -> str:
    return str(s.get("shipment_id") or s["id"])


def shipped_quantities(s: dict[str, Any]) -> dict[str, int]:
    return {str(x["line_id"]): x["quantity"] for x in s["lines"]}


def problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    return r.json()


def names_field(r: httpx.Response, *fields: str, statuses: tuple[int, ...] = (422,)) -> bool:
    """Refused as bad input (422; `statuses` (400, 422) where the schema refuses a wrong type or a
    missing member first, as everywhere in the portal) naming one of these fields: a domain rule's
    `field`, or a validation problem's (its `field`, or one of its `errors`), `lines[0].quantity`
    and `lines.0.quantity` alike."""
    if r.status_code not in statuses:
        return False
    body = r.json()
    named = {body.get("field")} | {e.get("field") for e in body.get("errors") or []}

    def plain(name: str) -> str:
        return re.sub(r"\[(\d+)\]", r".\1", name)

    return bool({plain(n) for n in named if n} & {plain(f) for f in fields})


# -- the customer's statement, the admins' views -----------------------------------------------
async def statement(portal: Portal, headers: dict[str, str], **params: str) -> dict[str, Any]:
    return ok(await portal.http["orders"].get("/v1/orders/statement", headers=headers, params=params))


def statement_of(answer: dict[str, Any], oid: str) -> dict[str, tuple[int, int, int]] | None:
    """An order's lines in the statement, by line id: (ordered, shipped, awaiting); None: not in it."""
    for o in answer["orders"]:
        if str(o["order_id"]) == oid:
            return {str(x["line_id"]): (x["ordered"], x["shipped"], x["awaiting"]) for x in o["lines"]}
    return None


async def view(portal: Portal, **params: Any) -> dict[str, Any]:
    """GET /v1/admin/orders with these query parameters: the page as answered."""
    params = {k: v for k, v in params.items() if v is not None}
    return ok(await portal.http["orders"].get("/v1/admin/orders", headers=ADMIN, params=params))


async def view_ids(portal: Portal, **params: Any) -> list[str]:
    return [str(o["order_id"]) for o in (await view(portal, limit=200, **params))["items"]]


async def admin_order(portal: Portal, oid: str) -> dict[str, Any]:
    return ok(await portal.http["orders"].get(f"/v1/admin/orders/{oid}", headers=ADMIN))


# -- cancel -------------------------------------------------------------------------------------
async def cancel(portal: Portal, oid: str, reason: str | None, settlement: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {}
    if reason is not None:
        body["reason"] = reason
    if settlement is not None:
        body["settlement"] = settlement
    return await portal.http["orders"].post(f"/v1/admin/orders/{oid}/cancel", headers=ADMIN, json=body)


async def credit_notes(portal: Portal, headers: dict[str, str], **params: str) -> list[dict[str, Any]]:
    return ok(await portal.http["billing"].get("/v1/credit-notes", headers=headers, params={"limit": 100, **params}))[
        "items"
    ]


async def credit_note_of(portal: Portal, headers: dict[str, str], oid: str) -> dict[str, Any]:
    """The one credit note of the order (waited for: billing issues it on OrderCancelled)."""

    async def issued():
        return await credit_notes(portal, headers, order_id=oid) or None

    [note] = await eventually(issued, what=f"billing's credit note of order {oid}", timeout=WAIT)
    return ok(await portal.http["billing"].get(f"/v1/credit-notes/{note['id']}", headers=headers))


async def account_credit(portal: Portal, headers: dict[str, str], **params: str) -> dict[str, str]:
    answer = ok(await portal.http["billing"].get("/v1/account/credit", headers=headers, params=params))
    return {b["currency"]: str(b["amount"]) for b in answer["balances"]}


# -- messages -----------------------------------------------------------------------------------
def thread_path(oid: str, headers: dict[str, str]) -> str:
    return f"/v1/admin/orders/{oid}/messages" if headers is ADMIN else f"/v1/orders/{oid}/messages"


async def post_message(portal: Portal, oid: str, headers: dict[str, str], body: Any) -> httpx.Response:
    """A message in the order's thread: the business's (headers ADMIN) or the customer's."""
    return await portal.http["orders"].post(thread_path(oid, headers), headers=headers, json={"body": body})


async def posted(portal: Portal, oid: str, headers: dict[str, str], body: str) -> dict[str, Any]:
    return ok(await post_message(portal, oid, headers, body), 201)


async def thread(portal: Portal, oid: str, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    return ok(await portal.http["orders"].get(thread_path(oid, headers), headers=headers, params=params))


# -- printed invoices ---------------------------------------------------------------------------
async def invoice_pdf(portal: Portal, oid: str, headers: dict[str, str]) -> httpx.Response:
    path = f"/v1/admin/orders/{oid}/invoice.pdf" if headers is ADMIN else f"/v1/orders/{oid}/invoice.pdf"
    return await portal.http["orders"].get(path, headers=headers)


async def printed(portal: Portal, oid: str, headers: dict[str, str]) -> bytes:
    """The order's invoice as a PDF (asked again while orders has no copy of billing's invoice yet)."""

    async def answered():
        r = await invoice_pdf(portal, oid, headers)
        return None if r.status_code == 409 else r

    r = await eventually(answered, what=f"orders' copy of the invoice of order {oid}", timeout=WAIT)
    return pdf_of(r)


def pdf_of(r: httpx.Response) -> bytes:
    assert r.status_code == 200, f"{r.request.method} {r.request.url}: {r.status_code} {r.text[:500]}"
    assert r.headers["content-type"].startswith("application/pdf"), r.headers
    disposition = r.headers.get("content-disposition", "")
    assert disposition.startswith("attachment") and "filename=" in disposition, r.headers
    assert r.content.startswith(b"%PDF-"), r.content[:40]
    return r.content


def pdf_pages(content: bytes) -> list[str]:
    """The text of each page, as pypdfium2 (PDFium, Chrome's PDF engine) reads it."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(content)
    try:
        texts = []
        for page in pdf:
            text = page.get_textpage()
            texts.append(text.get_text_bounded())
            text.close()
            page.close()
        return texts
    finally:
        pdf.close()


@dataclass
class Rendered:
    """Page 1 rendered at `scale` (72 dpi × scale): the image and where phrases were drawn on it."""

    width: int
    height: int
    page_points: tuple[float, float]
    boxes: dict[str, tuple[int, int, int, int]]  # phrase -> (left, top, right, bottom) in image pixels
    path: Path
    dark: Any  # (left, top, right, bottom) -> how many pixels darker than mid grey


def render_first_page(content: bytes, phrases: list[str], png: Path, scale: float = 2.0) -> Rendered:
    """Page 1 of the PDF rendered to an RGB image (saved as `png`), and for each phrase the box of its
    first occurrence in the page's text, in the image's pixels."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(content)
    try:
        page = pdf[0]
        points = page.get_size()
        image = page.render(scale=scale).to_pil().convert("RGB")
        image.save(png)
        text = page.get_textpage()
        boxes = {}
        for phrase in phrases:
            searcher = text.search(phrase, match_case=True)
            found = searcher.get_next()
            searcher.close()
            if not found:
                continue
            start, count = found
            xs, ys = [], []
            for i in range(start, start + count):
                left, bottom, right, top = text.get_charbox(i)
                if right > left:
                    xs += [left, right]
                    ys += [bottom, top]
            if xs:
                # PDF points from the bottom left → image pixels from the top left
                boxes[phrase] = (
                    int(min(xs) * scale),
                    int((points[1] - max(ys)) * scale),
                    int(max(xs) * scale) + 1,
                    int((points[1] - min(ys)) * scale) + 1,
                )
        text.close()
        page.close()
    finally:
        pdf.close()
    grey = image.convert("L")

    def dark(box: tuple[int, int, int, int]) -> int:
        return sum(grey.crop(box).point(lambda v: 255 if v < 128 else 0).histogram()[255:])

    return Rendered(image.width, image.height, points, boxes, png, dark)


# -- a second orders API process on orders' database -------------------------------------------
def orders_api_process(portal: Portal, log_dir: Path) -> Role:
    """`python -m orders api` started as its own OS process on the portal's orders database (HTTP
    only, as an api replica behind a load balancer is deployed), with the test clock. Started, not
    waited for: `ready_client` waits until it answers."""
    env = {
        "SERVICE_NAME": "orders",
        "DATABASE_URL": portal.database_urls["orders"],
        "JWT_SECRET": TEST_SECRET,
        "KAFKA_BOOTSTRAP_SERVERS": portal.infra.kafka_bootstrap,
        "PORTAL_TEST_CLOCK": "true",
        "TEST_CLOCK_REFRESH_SECONDS": "0.2",
        "LOG_LEVEL": "WARNING",
    }
    return Role("orders", "api", env, log_dir, name="orders-api-2")


@contextlib.asynccontextmanager
async def ready_client(role: Role) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the process once it is ready (a process that ended fails with its log)."""

    async def ready():
        assert role.alive(), role.why()
        return await asyncio.to_thread(role.status, "/health/ready") == 200

    await eventually(ready, what=f"{role.name} to be ready", timeout=START_TIMEOUT, interval=0.3)
    async with httpx.AsyncClient(base_url=role.url, timeout=30) as client:
        yield client
