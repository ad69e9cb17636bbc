"""The client area (issue 12) driven over HTTP against the running services: an admin's catalog of
services and add-ons, a customer's cart, checkout, invoice and payment, its services' list, and
time moved by the test clock of every service with the orders jobs run as of chosen dates.
Shared by tests/test_client_area_flow.py (and the walkthrough's test, which runs the README)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
from babel.dates import format_interval
from flow import ADMIN, Portal, ok, record_transfer

from notify.adapters.wording import PERIOD_SKELETON, format_date, format_money, locale_of
from portal_runtime.testing import eventually

CLOCKED = ("catalog", "orders", "billing", "notify")  # every service running_portal starts
SECOND_ORDERS = "orders-2"  # running_portal(second_orders=True): another orders process, same database
WAIT = 60  # seconds an event may take to travel through Kafka and the consumers on a busy machine

# The client area's emails: each kind's template set at notify (X-Portal-Template), and a phrase
# of its subject in each language (the translation, not a template variable).
ORDER_RECEIVED = "order_received"
ORDER_INVOICE = "order_invoice"
RENEWAL_INVOICE = "renewal_invoice"
PAYMENT = "payment_received"
ACTIVATED = "service_activated"
RENEWED = "service_renewed"
OVERDUE = "service_overdue"
SUSPENDED = "service_suspended"
REACTIVATED = "service_reactivated"
TERMINATED = "service_terminated"
CANCELLATION_SCHEDULED = "service_cancellation_scheduled"
CANCELLED = "service_cancelled"
TEMPLATE = {RENEWAL_INVOICE: ORDER_INVOICE}  # a renewal's invoice is an order invoice with its own wording
SAYS = {
    "en": {
        ORDER_RECEIVED: "We received your order",
        ORDER_INVOICE: "for your order",
        RENEWAL_INVOICE: "Renewal invoice",
        PAYMENT: "Payment received for invoice",
        ACTIVATED: "is active",
        RENEWED: "has been renewed",
        OVERDUE: "Payment reminder",
        SUSPENDED: "has been suspended",
        REACTIVATED: "is active again",
        TERMINATED: "has been terminated",
        CANCELLATION_SCHEDULED: "Cancellation of",
        CANCELLED: "has been cancelled",
    },
    "de": {
        ORDER_RECEIVED: "Wir haben Ihre Bestellung",
        ORDER_INVOICE: "zu Ihrer Bestellung",
        RENEWAL_INVOICE: "Verlängerungsrechnung",
        PAYMENT: "Zahlung für Rechnung",
        ACTIVATED: "ist aktiv",
        RENEWED: "wurde verlängert",
        OVERDUE: "Zahlungserinnerung",
        SUSPENDED: "wurde gesperrt",
        REACTIVATED: "ist wieder aktiv",
        TERMINATED: "wurde beendet",
        CANCELLATION_SCHEDULED: "Kündigung von",
        CANCELLED: "wurde gekündigt",
    },
    "tr": {
        ORDER_RECEIVED: "siparişinizi aldık",
        ORDER_INVOICE: "Siparişinizin faturası",
        RENEWAL_INVOICE: "yenileme faturası",
        PAYMENT: "ödemeniz alındı",
        ACTIVATED: "hizmetiniz aktif",
        RENEWED: "hizmetiniz yenilendi",
        OVERDUE: "Ödeme hatırlatması",
        SUSPENDED: "askıya alındı",
        REACTIVATED: "yeniden aktif",
        TERMINATED: "sonlandırıldı",
        CANCELLATION_SCHEDULED: "hizmetinin iptali",
        CANCELLED: "iptal edildi",
    },
    "pl": {
        ORDER_RECEIVED: "Otrzymaliśmy Twoje zamówienie",
        ORDER_INVOICE: "za Twoje zamówienie",
        RENEWAL_INVOICE: "Faktura za odnowienie",
        PAYMENT: "Otrzymaliśmy płatność",
        ACTIVATED: "jest aktywna",
        RENEWED: "została odnowiona",
        OVERDUE: "Przypomnienie o płatności",
        SUSPENDED: "została zawieszona",
        REACTIVATED: "jest znowu aktywna",
        TERMINATED: "została zakończona",
        CANCELLATION_SCHEDULED: "Anulowanie usługi",
        CANCELLED: "została anulowana",
    },
}


def day(text: str) -> date:
    return date.fromisoformat(text)


def written_date(text: str, language: str) -> str:
    """A date as the emails write it in the language (CLDR, as notify formats it)."""
    return format_date(day(text), language)


def written_period(start: str, end: str, language: str) -> str:
    """A period paid for, `end` being the next due date, as the emails write it in the language:
    its first to its last day (CLDR's interval format)."""
    last = day(end) - timedelta(days=1)
    return format_interval(day(start), last, PERIOD_SKELETON, locale=locale_of(language))


def written_money(amount: str, language: str, currency: str = "EUR") -> str:
    return format_money(Decimal(amount), currency, language)


# -- time ---------------------------------------------------------------------------------------
async def at(portal: Portal, on: str, time: str = "09:00:00") -> None:
    """It is now `on` (UTC, the business's time zone in tests) for every service; a second orders
    process reads its database's clock within one refresh, and is waited for."""
    now = f"{on}T{time}Z"
    for name in CLOCKED:
        moved = ok(await portal.http[name].put("/v1/admin/clock", headers=ADMIN, json={"now": now}))
        assert moved["today"] == on, moved
    if SECOND_ORDERS in portal.http:

        async def follows():
            return ok(await portal.http[SECOND_ORDERS].get("/v1/admin/clock", headers=ADMIN))["today"] == on

        await eventually(follows, what=f"the second orders process to read the clock moved to {on}")


async def run_job(portal: Portal, job: str, as_of: str, *, process: str = "orders") -> httpx.Response:
    return await portal.http[process].post(f"/v1/admin/jobs/{job}/run", headers=ADMIN, json={"as_of": as_of})


async def ran(portal: Portal, job: str, as_of: str, *, process: str = "orders") -> dict[str, Any]:
    """Run an orders job as of a date, then wait until what it published is applied everywhere."""
    answer = ok(await run_job(portal, job, as_of, process=process))
    assert answer["run_status"] == "ran" and answer["as_of"] == as_of, answer
    await settled(portal)
    return answer


async def settled(portal: Portal) -> None:
    await eventually(portal.settled, what="every event applied and every email sent", timeout=WAIT)


# -- catalog ------------------------------------------------------------------------------------
async def item(
    portal: Portal, name: str, prices: dict[str, str], *, kind: str = "service", **more: Any
) -> dict[str, Any]:
    """An admin offers a service or an add-on (`parents=[...]`) at a price per cycle."""
    body = {
        "sku": f"{name[:8].upper().replace(' ', '-')}-{uuid.uuid4().hex[:8]}",
        "name": name,
        "description": f"{name}, for the client area",
        "kind": kind,
        "currency": "EUR",
        "prices": [{"cycle": cycle, "price": price} for cycle, price in prices.items()],
        **more,
    }
    return ok(await portal.http["catalog"].post("/v1/admin/items", headers=ADMIN, json=body), 201)


async def reprice(portal: Portal, item_id: str, prices: dict[str, str]) -> dict[str, Any]:
    body = {"prices": [{"cycle": cycle, "price": price} for cycle, price in prices.items()]}
    return ok(await portal.http["catalog"].patch(f"/v1/admin/items/{item_id}", headers=ADMIN, json=body))


# -- cart, checkout, invoice, payment ----------------------------------------------------------
async def add_line(portal: Portal, headers: dict[str, str], line: dict[str, Any]) -> httpx.Response:
    """POST /v1/cart/lines, asked again while orders has not heard of the item yet (409
    not-offered-yet with Retry-After, as for requests); any other answer is returned."""

    async def answered():
        r = await portal.http["orders"].post("/v1/cart/lines", headers=headers, json=line)
        if r.status_code == 409 and r.headers.get("retry-after"):
            return None
        return r

    return await eventually(answered, what="orders to know the item of the cart line", timeout=WAIT)


async def added(portal: Portal, headers: dict[str, str], line: dict[str, Any]) -> dict[str, Any]:
    return ok(await add_line(portal, headers, line), 201)


async def checkout(portal: Portal, headers: dict[str, str], key: str | None = None) -> dict[str, Any]:
    key = key or f"checkout-{uuid.uuid4().hex}"
    return ok(await portal.http["orders"].post("/v1/cart/checkout", headers={**headers, "Idempotency-Key": key}), 201)


async def order(portal: Portal, headers: dict[str, str], order_id: str) -> dict[str, Any]:
    return ok(await portal.http["orders"].get(f"/v1/orders/{order_id}", headers=headers))


async def invoice_of(portal: Portal, headers: dict[str, str], order_id: str) -> dict[str, Any]:
    """The order's invoice, once billing issued it and orders linked it."""

    async def linked():
        return (await order(portal, headers, order_id))["invoice_id"]

    invoice_id = await eventually(linked, what=f"billing to invoice order {order_id}", timeout=WAIT)
    invoice = ok(await portal.http["billing"].get(f"/v1/invoices/{invoice_id}", headers=headers))
    assert invoice["source_id"] == order_id, invoice
    return invoice


async def pay(portal: Portal, invoice: dict[str, Any], amount: str | None = None) -> dict[str, Any]:
    """A bank transfer of `amount` (what is still due, by default) arrives and is recorded."""
    if amount is None:
        now = ok(await portal.http["billing"].get(f"/v1/invoices/{invoice['id']}", headers=ADMIN))
        amount = now["balance_due"]
    paid = ok(await record_transfer(portal, invoice, amount, f"transfer {invoice['number']}", uuid.uuid4().hex), 201)
    return paid["invoice"]


async def invoices(portal: Portal, headers: dict[str, str], source_kind: str | None = None) -> list[dict[str, Any]]:
    items = ok(await portal.http["billing"].get("/v1/invoices", headers=headers, params={"limit": 100}))["items"]
    return [i for i in items if source_kind is None or i["source_kind"] == source_kind]


async def orders_of(portal: Portal, headers: dict[str, str], **params: str) -> list[dict[str, Any]]:
    return ok(await portal.http["orders"].get("/v1/orders", headers=headers, params={"limit": 100, **params}))["items"]


# -- services -----------------------------------------------------------------------------------
async def service(portal: Portal, headers: dict[str, str], subscription_id: str) -> dict[str, Any]:
    return ok(await portal.http["orders"].get(f"/v1/services/{subscription_id}", headers=headers))


async def service_when(portal: Portal, headers: dict[str, str], subscription_id: str, check, what: str) -> dict:
    async def reached():
        r = await portal.http["orders"].get(f"/v1/services/{subscription_id}", headers=headers)
        if r.status_code == 404:  # a service is made when its order is paid
            return None
        s = ok(r)
        return s if check(s) else None

    return await eventually(reached, what=what, timeout=WAIT)


async def services(portal: Portal, headers: dict[str, str], **params: str) -> dict[str, Any]:
    return ok(await portal.http["orders"].get("/v1/services", headers=headers, params=params))


async def bought(
    portal: Portal, headers: dict[str, str], item_id: str, cycle: str, domain: str
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A new service through the cart, paid in full: (order, invoice, the active service)."""
    cart = await added(portal, headers, {"kind": "new", "item_id": item_id, "cycle": cycle, "domain": domain})
    [line] = [x for x in cart["lines"] if x["item_id"] == item_id and x["domain"] == domain]
    placed = await checkout(portal, headers)
    invoice = await invoice_of(portal, headers, placed["order_id"])
    await pay(portal, invoice)
    active = await service_when(
        portal, headers, line["subscription_id"], lambda s: s["status"] in ("active", "completed"), "payment to fulfil"
    )
    await settled(portal)
    return placed, invoice, active


async def renewal_invoice(portal: Portal, headers: dict[str, str], due_on: str) -> dict[str, Any]:
    """The one renewal invoice of the account for a due date (asserts there is exactly one)."""
    found = [i for i in await invoices(portal, headers, "renewal") if i["due_on"] == due_on]
    assert len(found) == 1, found
    return ok(await portal.http["billing"].get(f"/v1/invoices/{found[0]['id']}", headers=headers))


# -- emails -------------------------------------------------------------------------------------
def template_of(kind: str) -> str:
    return TEMPLATE.get(kind, kind)


async def mail(portal: Portal, email: str, kind: str, language: str, *phrases: str) -> dict[str, Any]:
    """Wait for an email of this kind to `email` (its template, its subject in the language) with
    each phrase in its text and its HTML; it must be in the account's language."""
    says = SAYS[language][kind]

    def telling(m: dict[str, Any]) -> bool:
        return all(p in m["text"] and p in m["html"] for p in phrases)

    async def found():
        of_kind = [
            m
            for m in await portal.infra.messages(to=email)
            if m["headers"]["X-Portal-Template"] == template_of(kind) and says in m["subject"]
        ]
        return next((m for m in of_kind if telling(m)), None)

    what = f"a {kind} email to {email} ({says!r}) saying {phrases!r}"
    got = await eventually(found, what=what, timeout=WAIT, interval=0.5)
    assert got["headers"]["Content-Language"] == language, got["headers"]
    return got


async def templates_sent(portal: Portal, email: str) -> list[str]:
    await settled(portal)
    return [m["headers"]["X-Portal-Template"] for m in await portal.infra.messages(to=email)]


async def together(*requests) -> list[httpx.Response]:
    """Send these requests at once (as two processes or two people would)."""
    return list(await asyncio.gather(*requests))
