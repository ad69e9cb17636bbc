"""Prepaid units (issue 13) driven over HTTP and Kafka against the running services: an admin's
unit packages in catalog (billing keeps a copy), an account's wallet and ledger at billing, manual
purchases by card under an Idempotency-Key, usage reported by metering systems (on `usage.units`,
as a system outside the portal publishes it, or over HTTP), the automatic plan and its top-ups,
and what the sandbox gateway charged (its `gateway_sandbox_charges` table, read from billing's
database as a provider's dashboard would show it). Shared by tests/test_units_flow.py and
tests/test_units_concurrency.py; the README walkthrough's test runs the README instead."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
from babel.numbers import format_decimal
from client_area import WAIT, run_job, settled
from flow import ADMIN, Portal, ok, publish_external

from billing.adapters.gateway import SandboxCharge, charges
from notify.adapters.wording import locale_of
from portal_contracts.events.usage import UnitsConsumed
from portal_runtime.testing import eventually

GRANT = 2000  # BILLING_UNITS_INITIAL_GRANT's default
LOW_BALANCE_AT = 100  # BILLING_UNITS_LOW_BALANCE_AT's default
CARD = {"number": "4242 4242 4242 4242", "expiry_month": 12, "expiry_year": 2035, "cvc": "123"}
DECLINING_CARD = {**CARD, "number": "4000 0000 0000 0002"}  # the sandbox declines it: card_declined
ADDRESS = {
    "company": "Nimbus GmbH",
    "line1": "Hauptstraße 5",
    "postal_code": "10115",
    "city": "Berlin",
    "country": "DE",
}
TOP_UPS_JOB = "unit-top-ups"

# The unit emails: each kind's template at notify (X-Portal-Template).
CREDITED = "units_credited"
RECEIPT = "units_purchased"
PURCHASE_FAILED = "units_purchase_failed"
BALANCE_LOW = "units_balance_low"
TOP_UP_FAILED = "units_top_up_failed"
PLAN_PAUSED = "units_plan_paused"
CAP_REACHED = "units_cap_reached"


# -- catalog ------------------------------------------------------------------------------------
async def package(portal: Portal, units: int, price: str, currency: str = "EUR") -> dict[str, Any]:
    """An admin offers a package of `units` units at a one-time price."""
    body = {
        "sku": f"UNITS-{units}-{uuid.uuid4().hex[:6]}",
        "name": f"{units:,} units",
        "description": f"{units:,} units, never expiring",
        "kind": "unit_package",
        "units": units,
        "currency": currency,
        "prices": [{"cycle": "one_time", "price": price}],
    }
    return ok(await portal.http["catalog"].post("/v1/admin/items", headers=ADMIN, json=body), 201)


async def known(portal: Portal, headers: dict[str, str], *packages: dict[str, Any]) -> None:
    """Wait until billing's copy of the catalog has these packages (it prices each)."""

    async def priced(package: dict[str, Any]):
        body = {"lines": [{"item_id": package["id"], "quantity": 1}]}
        r = await portal.http["billing"].post("/v1/units/purchases/preview", headers=headers, json=body)
        if r.status_code == 422 and r.json().get("field") == "lines[0].item_id":
            return None  # not heard of yet
        return ok(r)

    for p in packages:
        await eventually(lambda p=p: priced(p), what=f"billing to learn package {p['sku']} from catalog", timeout=WAIT)


# -- the wallet ---------------------------------------------------------------------------------
async def wallet(portal: Portal, headers: dict[str, str], **params: str) -> dict[str, Any]:
    return ok(await portal.http["billing"].get("/v1/units", headers=headers, params=params))


async def wallet_when(portal: Portal, headers: dict[str, str], check, what: str) -> dict[str, Any]:
    async def reached():
        w = await wallet(portal, headers)
        return w if check(w) else None

    return await eventually(reached, what=what, timeout=WAIT, interval=0.1)


async def balance_is(portal: Portal, headers: dict[str, str], balance: int, what: str = "") -> dict[str, Any]:
    return await wallet_when(portal, headers, lambda w: w["balance"] == balance, what or f"the balance to be {balance}")


async def ledger(portal: Portal, headers: dict[str, str], **params: str) -> list[dict[str, Any]]:
    """Every entry of the ledger (all pages), oldest first."""
    return sorted(await _all(portal, "/v1/units/ledger", headers, params), key=lambda e: e["seq"])


async def purchases(portal: Portal, headers: dict[str, str], **params: str) -> list[dict[str, Any]]:
    return await _all(portal, "/v1/units/purchases", headers, params)


async def _all(portal: Portal, path: str, headers: dict[str, str], params: dict[str, str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while True:
        page = ok(
            await portal.http["billing"].get(
                path, headers=headers, params={**params, "limit": 200, "offset": len(found)}
            )
        )
        found += page["items"]
        if len(found) >= page["total"] or not page["items"]:
            return found


def check_ledger(entries: list[dict[str, Any]], balance: int) -> None:
    """The balance is the sum of the ledger; seq runs 1, 2, ... without a gap; each entry's
    balance_after is the running sum."""
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1)), [e["seq"] for e in entries]
    running = 0
    for e in entries:
        running += e["units"]
        assert e["balance_after"] == running, (e, running)
    assert running == balance, (running, balance)


def movements(entries: list[dict[str, Any]]) -> list[tuple[str, int, int]]:
    return [(e["kind"], e["units"], e["balance_after"]) for e in entries]


# -- usage --------------------------------------------------------------------------------------
def usage_id() -> str:
    return f"usage-{uuid.uuid4().hex[:12]}"


async def used(
    portal: Portal, account: str, units: int, *, usage: str | None = None, used_on: str | None = None
) -> httpx.Response:
    """A metering system that cannot publish reports usage over HTTP (an admin endpoint)."""
    body = {
        "usage_id": usage or usage_id(),
        "account_id": account,
        "units": units,
        "used_on": used_on or (await today(portal)),
    }
    return await portal.http["billing"].post("/v1/admin/units/usage", headers=ADMIN, json=body)


async def consumed(
    kafka: str, account: str, units: int, *, usage: str | None = None, used_on: str, copies: int = 1
) -> UnitsConsumed:
    """A metering system publishes the units an account used on `usage.units`, keyed by account."""
    report = UnitsConsumed(
        usage_id=usage or usage_id(), account_id=account, units=units, used_on=date.fromisoformat(used_on)
    )
    await publish_external(kafka, [report], copies=copies)
    return report


async def today(portal: Portal) -> str:
    return ok(await portal.http["billing"].get("/v1/admin/clock", headers=ADMIN))["today"]


# -- purchases ----------------------------------------------------------------------------------
def lines(*pairs: tuple[dict[str, Any], int]) -> list[dict[str, Any]]:
    return [{"item_id": p["id"], "quantity": quantity} for p, quantity in pairs]


async def buy(
    portal: Portal,
    headers: dict[str, str],
    cart: list[dict[str, Any]],
    *,
    card: dict[str, Any] = CARD,
    key: str | None = None,
) -> httpx.Response:
    """A manual purchase by card, under an Idempotency-Key (a new one unless given)."""
    return await portal.http["billing"].post(
        "/v1/units/purchases",
        headers={**headers, "Idempotency-Key": key or f"buy-{uuid.uuid4().hex}"},
        json={"lines": cart, "card": card},
    )


def contact(email: str, name: str = "Dana Billing") -> dict[str, str]:
    return {"name": name, "email": email}


async def plan_on(
    portal: Portal,
    headers: dict[str, str],
    package_id: str,
    contact_email: str,
    *,
    threshold: int = 0,
    cap: str | None = None,
    card: dict[str, Any] | None = CARD,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "package_item_id": package_id,
        "threshold": threshold,
        "monthly_cap": cap,
        "billing_address": ADDRESS,
        "billing_contact": contact(contact_email),
    }
    if card is not None:
        body["card"] = card
    return ok(await portal.http["billing"].put("/v1/units/plan", headers=headers, json=body))


async def plan(portal: Portal, headers: dict[str, str]) -> dict[str, Any]:
    return ok(await portal.http["billing"].get("/v1/units/plan", headers=headers))


async def plan_when(portal: Portal, headers: dict[str, str], check, what: str) -> dict[str, Any]:
    async def reached():
        p = await plan(portal, headers)
        return p if check(p) else None

    return await eventually(reached, what=what, timeout=WAIT)


async def settled_purchases(portal: Portal, headers: dict[str, str], n: int, **params: str) -> list[dict[str, Any]]:
    """Wait until the account has n purchases (of `params`' filter) and none pending; newest first
    as billing lists them."""

    async def ended():
        found = await purchases(portal, headers, **params)
        return found if len(found) == n and all(p["status"] != "pending" for p in found) else None

    return await eventually(ended, what=f"{n} ended purchases {params}", timeout=WAIT)


async def top_ups_run(portal: Portal, as_of: str) -> dict[str, Any]:
    """The `unit-top-ups` job, run now (as the scheduler does often) as of a date."""
    answer = ok(await run_job(portal, TOP_UPS_JOB, as_of, process="billing"))
    assert answer["run_status"] == "ran", answer
    return answer


# -- what the sandbox charged -------------------------------------------------------------------
async def sandbox_charges(database_url: str) -> list[SandboxCharge]:
    """Every charge the sandbox gateway answered, approved or declined, from its table in billing's
    database (one per idempotency key: a key asked again moves no money and adds none)."""
    return await charges(database_url, approved=None)


def charge_key(purchase_id: str) -> str:
    return f"unit-purchase:{purchase_id}"


async def charges_of(portal: Portal, purchase_ids: list[str]) -> list[SandboxCharge]:
    keys = {charge_key(p) for p in purchase_ids}
    return [c for c in await sandbox_charges(portal.database_urls["billing"]) if c.idempotency_key in keys]


# -- emails -------------------------------------------------------------------------------------
# A phrase of each kind's subjects in each language (the translation, not a template variable;
# compared ignoring case).
SAYS = {
    "en": {
        CREDITED: "to your account",
        RECEIPT: "receipt and invoice",
        PURCHASE_FAILED: "could not be completed",
        BALANCE_LOW: "Low unit balance",
        TOP_UP_FAILED: "top-up was declined",
        PLAN_PAUSED: "top-up plan is paused",
        CAP_REACHED: "Monthly spending cap reached",
    },
    "tr": {
        CREDITED: "Hesabınıza",
        RECEIPT: "makbuz ve",
        PURCHASE_FAILED: "satın alımınız tamamlanamadı",
        BALANCE_LOW: "Birim bakiyeniz azaldı",
        TOP_UP_FAILED: "Otomatik yüklemeniz reddedildi",
        PLAN_PAUSED: "planınız duraklatıldı",
        CAP_REACHED: "Aylık harcama limitine ulaşıldı",
    },
    "de": {
        CREDITED: "Ihrem Konto",
        RECEIPT: "Quittung und Rechnung",
        PURCHASE_FAILED: "konnte nicht abgeschlossen werden",
        BALANCE_LOW: "Niedriger Einheitenstand",
        TOP_UP_FAILED: "Aufladung wurde abgelehnt",
        PLAN_PAUSED: "Aufladeplan ist pausiert",
        CAP_REACHED: "Monatliches Ausgabenlimit erreicht",
    },
    "pl": {
        CREDITED: "Twoje",
        RECEIPT: "faktura",
        PURCHASE_FAILED: "Nie udało się zrealizować zakupu",
        BALANCE_LOW: "Niskie saldo jednostek",
        TOP_UP_FAILED: "doładowanie zostało odrzucone",
        PLAN_PAUSED: "został wstrzymany",
        CAP_REACHED: "Osiągnięto miesięczny limit wydatków",
    },
}


def template(mail: dict[str, Any]) -> str:
    return mail["headers"]["X-Portal-Template"]


def written_units(units: int, language: str) -> str:
    """A number of units as the emails write it in the language (CLDR digits: 1,000 / 1.000)."""
    return format_decimal(units, locale=locale_of(language))


@dataclass
class Inbox:
    """Every email the SMTP sink received, by recipient."""

    by_address: dict[str, list[dict[str, Any]]]

    def to(self, email: str) -> list[dict[str, Any]]:
        return self.by_address.get(email.lower(), [])

    def kinds(self, email: str, *, only: tuple[str, ...] = ()) -> dict[str, int]:
        found = Counter(template(m) for m in self.to(email))
        return {k: n for k, n in found.items() if not only or k in only}

    def saying(self, email: str, kind: str, *phrases: str) -> list[dict[str, Any]]:
        """The emails of this kind to `email` with each phrase in their text and their HTML."""
        return [
            m for m in self.to(email) if template(m) == kind and all(p in m["text"] and p in m["html"] for p in phrases)
        ]


async def inbox(portal: Portal) -> Inbox:
    """Once every event is applied and notify has no email left to send: what the sink received
    (read once: the sink parses every message it holds on each read)."""
    await settled(portal)
    by_address: dict[str, list[dict[str, Any]]] = {}
    for m in await portal.infra.messages():
        for to in m["rcpt_to"]:
            by_address.setdefault(to.lower(), []).append(m)
    return Inbox(by_address)
