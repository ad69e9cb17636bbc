"""The B2B customer portal (issue 14) driven over HTTP and Kafka against the running services: goods
with attributes and access groups in catalog (orders keeps its copy from `catalog.access`), published
documents, the users of a customer account (invited by an admin, their password set through the
emailed link, tokens from `POST /v1/auth/token`), quotes, orders from a cart, a quote, an earlier
order or another channel (ChannelOrderReceived on `channels.orders`, as a system outside the portal
publishes it), the order's payment status from billing's events, and support requests. Shared by
tests/test_b2b_portal_flow.py; the README walkthrough's test runs the README instead."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx
from client_area import WAIT, add_line, checkout, settled
from flow import ADMIN, Portal, ok, publish_external, seller
from sqlalchemy import select

from portal_contracts.events.channels import ChannelOrderLine, ChannelOrderReceived
from portal_runtime.db import OutboxRecord
from portal_runtime.testing import eventually

LANGUAGES = ("en", "tr", "de", "pl")
# The emails of issue 14: each kind's template at notify (X-Portal-Template).
ACCESS_GRANTED = "portal_access_granted"
SUPPORT_RECEIVED = "support_request_received"
SUPPORT_ANSWERED = "support_request_answered"
QUOTE_SENT = "quote_sent"
QUOTE_EXPIRING = "quote_expiring"
ORDER_RECEIVED = "order_received"
NEW_TEMPLATES = (ACCESS_GRANTED, SUPPORT_RECEIVED, SUPPORT_ANSWERED, QUOTE_SENT, QUOTE_EXPIRING, ORDER_RECEIVED)

PASSWORD = "correct horse battery staple"
CARD = {"number": "4242 4242 4242 4242", "expiry_month": 12, "expiry_year": 2035, "cvc": "123"}
DECLINING_CARD = {**CARD, "number": "4000 0000 0000 0002"}  # the sandbox declines it: card_declined


def bearer_of(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def template(mail: dict[str, Any]) -> str:
    return mail["headers"]["X-Portal-Template"]


# -- catalog: goods, access groups, documents ---------------------------------------------------
async def good(
    portal: Portal, name: str, price: str, attributes: dict[str, str] | None = None, **more: Any
) -> dict[str, Any]:
    """An admin offers a good (sold by quantity, one one-time price) with attributes to compare by."""
    body = {
        "sku": f"{name[:8].upper().replace(' ', '-')}-{uuid.uuid4().hex[:8]}",
        "name": name,
        "description": f"{name}, for business customers",
        "kind": "good",
        "currency": "EUR",
        "prices": [{"cycle": "one_time", "price": price}],
        **more,
    }
    if attributes:
        body["attributes"] = attributes
    return ok(await portal.http["catalog"].post("/v1/admin/items", headers=ADMIN, json=body), 201)


async def reprice(portal: Portal, item_id: str, price: str) -> dict[str, Any]:
    body = {"prices": [{"cycle": "one_time", "price": price}]}
    return ok(await portal.http["catalog"].patch(f"/v1/admin/items/{item_id}", headers=ADMIN, json=body))


async def retire(portal: Portal, item_id: str) -> dict[str, Any]:
    return ok(await portal.http["catalog"].post(f"/v1/admin/items/{item_id}/retire", headers=ADMIN))


async def group(portal: Portal, name: str, items: list[str], accounts: list[str]) -> dict[str, Any]:
    """An access group of these items with these accounts in it; waited for until orders has its copy."""
    body = {"name": name, "item_ids": items, "account_ids": accounts}
    made = ok(await portal.http["catalog"].post("/v1/admin/access-groups", headers=ADMIN, json=body), 201)
    await settled(portal)
    return made


async def regroup(portal: Portal, group_id: str, **changes: Any) -> dict[str, Any]:
    """The group's whole state changed (PUT); waited for until orders applied it."""
    now = ok(await portal.http["catalog"].get(f"/v1/admin/access-groups/{group_id}", headers=ADMIN))
    body = {"name": now["name"], "item_ids": now["item_ids"], "account_ids": now["account_ids"], **changes}
    changed = ok(await portal.http["catalog"].put(f"/v1/admin/access-groups/{group_id}", headers=ADMIN, json=body))
    await settled(portal)
    return changed


async def document(
    portal: Portal, title: str, filename: str, content: bytes, content_type: str, group_ids: list[str] = ()
) -> dict[str, Any]:
    data: dict[str, Any] = {"title": title}
    if group_ids:
        data["group_ids"] = list(group_ids)
    r = await portal.http["catalog"].post(
        "/v1/admin/documents", headers=ADMIN, data=data, files={"file": (filename, content, content_type)}
    )
    return ok(r, 201)


async def catalog_items(portal: Portal, headers: dict[str, str], **params: str) -> list[dict[str, Any]]:
    return ok(await portal.http["catalog"].get("/v1/items", headers=headers, params={"limit": 200, **params}))["items"]


def ids(things: list[dict[str, Any]], key: str = "id") -> set[str]:
    return {str(t[key]) for t in things}


# -- orders: cart, orders, reorder, channel orders ---------------------------------------------
def goods(*pairs: tuple[dict[str, Any], int]) -> list[dict[str, Any]]:
    return [{"kind": "good", "item_id": item["id"], "quantity": quantity} for item, quantity in pairs]


async def cart_of(portal: Portal, headers: dict[str, str], *pairs: tuple[dict[str, Any], int]) -> dict[str, Any]:
    """These goods in the cart (each line asked again while orders has not heard of its item)."""
    cart: dict[str, Any] = {}
    for line in goods(*pairs):
        cart = ok(await add_line(portal, headers, line), 201)
    return cart


async def ordered(portal: Portal, headers: dict[str, str], *pairs: tuple[dict[str, Any], int]) -> dict[str, Any]:
    """These goods through the cart, checked out: the order as orders answers it."""
    await cart_of(portal, headers, *pairs)
    placed = await checkout(portal, headers)
    return await an_order(portal, headers, order_id(placed))


def order_id(answer: dict[str, Any]) -> str:
    return str(answer.get("order_id") or answer["id"])


async def an_order(portal: Portal, headers: dict[str, str], oid: str) -> dict[str, Any]:
    return ok(await portal.http["orders"].get(f"/v1/orders/{oid}", headers=headers))


async def order_when(portal: Portal, headers: dict[str, str], oid: str, check, what: str) -> dict[str, Any]:
    async def reached():
        o = await an_order(portal, headers, oid)
        return o if check(o) else None

    return await eventually(reached, what=what, timeout=WAIT)


async def account_orders(portal: Portal, headers: dict[str, str], **params: str) -> list[dict[str, Any]]:
    return ok(await portal.http["orders"].get("/v1/orders", headers=headers, params={"limit": 100, **params}))["items"]


def line_figures(o: dict[str, Any]) -> list[tuple[str, int, str]]:
    return sorted((str(x["item_id"]), x["quantity"], str(x["unit_price"])) for x in o["lines"])


async def empty_cart(portal: Portal, headers: dict[str, str]) -> None:
    cart = ok(await portal.http["orders"].get("/v1/cart", headers=headers))
    for line in cart["lines"]:
        r = await portal.http["orders"].delete(f"/v1/cart/lines/{line['line_id']}", headers=headers)
        assert r.status_code in (200, 204), r.text


def channel_order(account: str, lines: list[tuple[dict[str, Any], int, str]], **more: Any) -> ChannelOrderReceived:
    """An order a marketplace took for the account: (item, quantity, the channel's unit price) lines."""
    return ChannelOrderReceived(
        channel=more.pop("channel", "marketplace"),
        channel_order_id=more.pop("channel_order_id", f"MP-{uuid.uuid4().hex[:10]}"),
        account_id=account,
        currency="EUR",
        lines=[ChannelOrderLine(item_id=uuid.UUID(i["id"]), quantity=q, unit_price=p) for i, q, p in lines],
        ordered_at=datetime.now(UTC),
        **more,
    )


async def channel_ordered(kafka: str, event: ChannelOrderReceived, copies: int = 2) -> None:
    await publish_external(kafka, [event], source="marketplace", copies=copies)


# -- billing ------------------------------------------------------------------------------------
async def card_payment(
    portal: Portal, headers: dict[str, str], invoice: dict[str, Any], amount: str, card: dict[str, Any] = CARD
) -> httpx.Response:
    return await portal.http["billing"].post(
        f"/v1/invoices/{invoice['id']}/payments",
        headers={**headers, "Idempotency-Key": f"card-{uuid.uuid4().hex}"},
        json={
            "method": "card",
            "amount": amount,
            "currency": invoice["currency"],
            "payer_reference": "card",
            "card": card,
        },
    )


# -- users and tokens ---------------------------------------------------------------------------
@dataclass
class User:
    account: str
    login: str
    email: str
    language: str
    id: str = ""
    password: str = PASSWORD
    token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return bearer_of(self.token)


def new_login(prefix: str = "buyer") -> str:
    return f"{prefix}.{uuid.uuid4().hex[:8]}"


async def invite(
    portal: Portal, account: str, language: str, *, login: str | None = None, role: str = "buyer", name: str = ""
) -> tuple[User, dict[str, Any]]:
    """An admin creates a user of the account (status invited): the user and the answer."""
    login = login or new_login()
    user = User(account, login, f"{login}@{account}.example.test", language)
    body = {
        "login": login,
        "name": name or f"Buyer {login}",
        "email": user.email,
        "language": language,
        "account_role": role,
    }
    made = ok(await portal.http["orders"].post(f"/v1/admin/accounts/{account}/users", headers=ADMIN, json=body), 201)
    user.id = str(made.get("user_id") or made["id"])
    return user, made


async def access_mail(portal: Portal, email: str, n: int = 1) -> dict[str, Any]:
    """The n-th portal_access_granted email to `email` (waited for)."""

    async def found():
        mails = [m for m in await portal.infra.messages(to=email) if template(m) == ACCESS_GRANTED]
        return mails[n - 1] if len(mails) >= n else None

    return await eventually(found, what=f"portal access email {n} to {email}", timeout=WAIT, interval=0.3)


def link_token(mail: dict[str, Any]) -> str:
    return re.search(r"token=([A-Za-z0-9_.~-]+)", mail["text"]).group(1)


async def set_password(portal: Portal, token: str, password: str) -> httpx.Response:
    return await portal.http["orders"].post("/v1/auth/password", json={"token": token, "password": password})


async def sign_in(portal: Portal, login: str, password: str) -> httpx.Response:
    """The OAuth2 password grant: form-encoded."""
    return await portal.http["orders"].post(
        "/v1/auth/token", data={"grant_type": "password", "username": login, "password": password}
    )


async def signed_in(portal: Portal, user: User) -> str:
    answer = ok(await sign_in(portal, user.login, user.password))
    assert answer["token_type"] == "Bearer" and answer["expires_in"] > 0, answer
    user.token = answer["access_token"]
    return user.token


async def activated(portal: Portal, account: str, language: str, **invited: Any) -> User:
    """Invited, its password set through the emailed link, signed in: a user with a token."""
    user, _ = await invite(portal, account, language, **invited)
    ok(await set_password(portal, link_token(await access_mail(portal, user.email)), user.password))
    await signed_in(portal, user)
    return user


async def customer(portal: Portal, language: str) -> tuple[str, str, dict[str, str]]:
    """A customer account whose profile (email, language) is set and whose address is confirmed."""
    return await seller(portal, language)


# -- quotes -------------------------------------------------------------------------------------
async def quote(
    portal: Portal, account: str, lines: list[dict[str, Any]], valid_until: str, note: str = ""
) -> dict[str, Any]:
    """An admin prepares a quote (draft) for the account; asked again while orders has not heard of an item."""

    async def drafted():
        r = await portal.http["orders"].post(
            "/v1/admin/quotes",
            headers=ADMIN,
            json={"account_id": account, "lines": lines, "valid_until": valid_until, "note": note},
        )
        if r.status_code == 409 and r.headers.get("retry-after"):
            return None
        return ok(r, 201)

    return await eventually(drafted, what="orders to know the quote's items", timeout=WAIT)


async def sent_quote(
    portal: Portal, account: str, lines: list[dict[str, Any]], valid_until: str, note: str = ""
) -> dict[str, Any]:
    draft = await quote(portal, account, lines, valid_until, note)
    assert draft["status"] == "draft", draft
    sent = ok(await portal.http["orders"].post(f"/v1/admin/quotes/{quote_id(draft)}/send", headers=ADMIN))
    assert sent["status"] == "sent", sent
    return sent


def quote_id(q: dict[str, Any]) -> str:
    return str(q.get("quote_id") or q["id"])


def quote_line(item: dict[str, Any], quantity: int, unit_price: str | None = None) -> dict[str, Any]:
    line: dict[str, Any] = {"item_id": item["id"], "quantity": quantity}
    if unit_price is not None:
        line["unit_price"] = unit_price
    return line


async def accept(portal: Portal, headers: dict[str, str], q: dict[str, Any]) -> httpx.Response:
    return await portal.http["orders"].post(f"/v1/quotes/{quote_id(q)}/accept", headers=headers)


async def a_quote(portal: Portal, headers: dict[str, str], q: dict[str, Any]) -> dict[str, Any]:
    return ok(await portal.http["orders"].get(f"/v1/quotes/{quote_id(q)}", headers=headers))


# -- support requests ---------------------------------------------------------------------------
async def support_request(portal: Portal, headers: dict[str, str], subject: str, message: str, **more: Any) -> dict:
    body = {"subject": subject, "message": message, **more}
    return ok(await portal.http["orders"].post("/v1/support-requests", headers=headers, json=body), 201)


def request_id(r: dict[str, Any]) -> str:
    return str(r.get("request_id") or r["id"])


# -- emails and events --------------------------------------------------------------------------
async def mail_of(portal: Portal, email: str, kind: str, *phrases: str) -> dict[str, Any]:
    """Wait for an email of this template to `email` with each phrase in its text and HTML."""

    async def found():
        for m in await portal.infra.messages(to=email):
            if template(m) == kind and all(p in m["text"] and p in m["html"] for p in phrases):
                return m
        return None

    return await eventually(found, what=f"a {kind} email to {email} saying {phrases!r}", timeout=WAIT, interval=0.3)


async def kinds_to(portal: Portal, email: str) -> Counter:
    """Once the system is quiet: how many emails of each template `email` received."""
    await settled(portal)
    return Counter(template(m) for m in await portal.infra.messages(to=email))


async def events_of(portal: Portal, account: str) -> list[dict[str, Any]]:
    """Every envelope any service published about the account (its account_id, or an access group
    it is in), from their outboxes."""
    found = []
    for rt in portal.runtimes.values():
        async with rt.sessions() as session:
            for row in await session.scalars(select(OutboxRecord).order_by(OutboxRecord.id)):
                data = row.envelope["data"]
                if data.get("account_id") == account or account in (data.get("account_ids") or []):
                    found.append(row.envelope)
    return found


def today_plus(day: str, days: int) -> str:
    return date.fromordinal(date.fromisoformat(day).toordinal() + days).isoformat()


def databases(infra: Any):
    """`new_database` for a fixture wider than one test (the plugin's is per test): a factory of
    empty databases with unique names on the session's PostgreSQL."""
    import asyncpg

    admin = infra.postgres_admin_url
    base = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)

    async def make(prefix: str) -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}".replace("-", "_")
        conn = await asyncpg.connect(admin.replace("postgresql+asyncpg://", "postgresql://", 1))
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return f"{base}/{name}"

    return make


def delivering_twice(portal: Portal, on: bool) -> None:
    """From now on every event any service publishes goes on its topic twice (the second copy right
    after the first, as after a relay that crashed before marking its batch), or once again."""
    for rt in portal.runtimes.values():
        if on:

            async def again(row: OutboxRecord, rt=rt) -> None:
                await rt.relay.send(row)

            rt.relay.after_publish = again
        else:
            rt.relay.after_publish = None
