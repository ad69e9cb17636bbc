"""Issue 14's proof, over HTTP and Kafka against the running catalog, orders, billing and notify on
real Kafka, PostgreSQL and the SMTP sink: the B2B customer portal. One test per line of the issue's
"What must show that it works" (the README's walkthrough is tests/test_b2b_walkthrough.py's). The
tests share one running portal (each makes its own accounts, items and users, so they do not see
each other's); its services have their test clocks and run the orders `quotes` job only when a test
asks, as of a date. Nothing sleeps: each step waits for the event or the email it causes."""

from __future__ import annotations

import asyncio
import re
import uuid
from decimal import Decimal
from typing import Any

import pytest
from b2b import (
    ACCESS_GRANTED,
    CARD,
    DECLINING_CARD,
    LANGUAGES,
    ORDER_RECEIVED,
    PASSWORD,
    QUOTE_EXPIRING,
    QUOTE_SENT,
    SUPPORT_ANSWERED,
    SUPPORT_RECEIVED,
    User,
    a_quote,
    accept,
    access_mail,
    account_orders,
    activated,
    an_order,
    bearer_of,
    card_payment,
    cart_of,
    catalog_items,
    channel_order,
    channel_ordered,
    customer,
    databases,
    delivering_twice,
    document,
    empty_cart,
    events_of,
    good,
    group,
    ids,
    invite,
    kinds_to,
    line_figures,
    link_token,
    mail_of,
    order_id,
    order_when,
    ordered,
    quote,
    quote_id,
    quote_line,
    regroup,
    reprice,
    request_id,
    retire,
    sent_quote,
    set_password,
    sign_in,
    signed_in,
    support_request,
    template,
    today_plus,
)
from client_area import WAIT, at, checkout, invoice_of, pay, ran, settled, written_date, written_money
from flow import ADMIN, Portal, money, ok, running_portal

from orders.settings import OrdersSettings
from portal_runtime.testing import eventually

DAY = "2027-06-01"  # the portal's business day (UTC) for every test of this module
UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
async def portal(infra):
    async with running_portal(infra, databases(infra), infra.kafka_bootstrap, test_clock=True) as running:
        await at(running, DAY)
        yield running


@pytest.fixture
def kafka(infra) -> str:
    return infra.kafka_bootstrap


def tag() -> str:
    return uuid.uuid4().hex[:8]


def same_refusal(refused, unknown) -> None:
    """An invisible item answers as an unknown one: the same status, problem type and field."""
    assert refused.status_code == unknown.status_code and refused.status_code >= 400, (refused.text, unknown.text)
    a, b = refused.json(), unknown.json()
    assert (a.get("type"), a.get("field")) == (b.get("type"), b.get("field")), (a, b)


# -- visibility ---------------------------------------------------------------------------------
async def test_an_account_in_a_group_sees_and_orders_only_its_items_everywhere_and_another_sees_all(portal):
    catalog, orders = portal.http["catalog"], portal.http["orders"]
    t = tag()
    drill = await good(portal, f"Drill {t}", "120.00", {"power": "800 W", "warranty": "2 years"})
    saw = await good(portal, f"Saw {t}", "90.00", {"power": "1200 W", "blade": "190 mm"})
    lathe = await good(portal, f"Lathe {t}", "900.00", {"power": "2 kW"})
    limited, _, lh = await customer(portal, "en")
    everyone, _, eh = await customer(portal, "en")
    tools = await group(portal, f"Tools {t}", [drill["id"], saw["id"]], [limited])
    hidden = await group(portal, f"Machines {t}", [lathe["id"]], [])
    assert [
        g["id"] for g in ok(await catalog.get(f"/v1/admin/accounts/{limited}/access-groups", headers=ADMIN))["items"]
    ] == [tools["id"]]

    # list and search: only the group's items; the other account sees all three
    assert ids(await catalog_items(portal, lh)) == {drill["id"], saw["id"]}
    assert ids(await catalog_items(portal, eh)) >= {drill["id"], saw["id"], lathe["id"]}
    assert ids(await catalog_items(portal, lh, q=t)) == {drill["id"], saw["id"]}
    assert ids(await catalog_items(portal, lh, q=f"lathe {t}".upper())) == set()
    assert ids(await catalog_items(portal, eh, q=f"lathe {t}".upper())) == {lathe["id"]}
    # detail: the invisible item is 404, as an unknown one; its attributes are shown to who sees it
    assert (await catalog.get(f"/v1/items/{lathe['id']}", headers=lh)).status_code == 404
    assert (await catalog.get(f"/v1/items/{UNKNOWN}", headers=lh)).status_code == 404
    assert ok(await catalog.get(f"/v1/items/{lathe['id']}", headers=eh))["attributes"] == {"power": "2 kW"}
    # comparison: side by side by attribute; an invisible id is 404 naming it
    compared = ok(await catalog.get("/v1/items/compare", headers=lh, params={"ids": [drill["id"], saw["id"]]}))
    assert [i["id"] for i in compared["items"]] == [drill["id"], saw["id"]]
    assert {a["name"]: a["values"] for a in compared["attributes"]} == {
        "power": ["800 W", "1200 W"],
        "warranty": ["2 years", None],
        "blade": [None, "190 mm"],
    }, compared
    refused = await catalog.get("/v1/items/compare", headers=lh, params={"ids": [drill["id"], lathe["id"]]})
    assert refused.status_code == 404 and lathe["id"] in refused.text, refused.text
    ok(await catalog.get("/v1/items/compare", headers=eh, params={"ids": [drill["id"], lathe["id"]]}))

    # cart: orders (its own copy) refuses the invisible item as an unknown one; the other account may add it
    await cart_of(portal, eh, (lathe, 1))
    same_refusal(
        await orders.post("/v1/cart/lines", headers=lh, json={"kind": "good", "item_id": lathe["id"], "quantity": 1}),
        await orders.post("/v1/cart/lines", headers=lh, json={"kind": "good", "item_id": UNKNOWN, "quantity": 1}),
    )
    # a quote line the account may not see is refused for it, not for the other account
    body = {"lines": [{"item_id": lathe["id"], "quantity": 1}], "valid_until": "2027-12-31", "note": ""}
    same_refusal(
        await orders.post("/v1/admin/quotes", headers=ADMIN, json={**body, "account_id": limited}),
        await orders.post(
            "/v1/admin/quotes",
            headers=ADMIN,
            json={**body, "account_id": limited, "lines": [{"item_id": UNKNOWN, "quantity": 1}]},
        ),
    )
    assert (await quote(portal, everyone, body["lines"], "2027-12-31"))["status"] == "draft"
    # an order of its items
    past = await ordered(portal, lh, (drill, 2), (saw, 1))
    assert line_figures(past) == sorted([(drill["id"], 2, "120.00"), (saw["id"], 1, "90.00")]), past

    # documents: one with no groups for everyone, one for the group's accounts only
    pdf = b"%PDF-1.4\n% tools brochure\n"
    brochure = await document(portal, f"Tools brochure {t}", "tools.pdf", pdf, "application/pdf", [tools["id"]])
    machines = await document(portal, f"Machines {t}", "machines.txt", b"machines", "text/plain", [hidden["id"]])
    terms = await document(portal, f"Terms {t}", "terms.txt", b"terms of sale", "text/plain")
    seen = ids(ok(await catalog.get("/v1/documents", headers=lh, params={"limit": 200}))["items"])
    assert brochure["id"] in seen and terms["id"] in seen and machines["id"] not in seen, seen
    seen = ids(ok(await catalog.get("/v1/documents", headers=eh, params={"limit": 200}))["items"])
    assert terms["id"] in seen and brochure["id"] not in seen and machines["id"] not in seen, seen
    got = await catalog.get(f"/v1/documents/{brochure['id']}/file", headers=lh)
    assert got.status_code == 200 and got.content == pdf, got.text
    assert got.headers["content-type"].startswith("application/pdf"), got.headers
    assert "tools.pdf" in got.headers["content-disposition"], got.headers
    for path in (f"/v1/documents/{brochure['id']}", f"/v1/documents/{brochure['id']}/file"):
        assert (await catalog.get(path, headers=eh)).status_code == 404, path
    assert (await catalog.get(f"/v1/documents/{machines['id']}/file", headers=lh)).status_code == 404

    offered_drill = await sent_quote(portal, limited, [quote_line(drill, 3)], "2027-12-31")
    # The group changes: saw and lathe, no drill. It changes what the account can order next ...
    await cart_of(portal, lh, (drill, 1))  # in the cart before the change
    await regroup(portal, tools["id"], item_ids=[saw["id"], lathe["id"]])
    assert ids(await catalog_items(portal, lh)) == {saw["id"], lathe["id"]}
    assert (await catalog.get(f"/v1/items/{drill['id']}", headers=lh)).status_code == 404
    same_refusal(
        await orders.post("/v1/cart/lines", headers=lh, json={"kind": "good", "item_id": drill["id"], "quantity": 1}),
        await orders.post("/v1/cart/lines", headers=lh, json={"kind": "good", "item_id": UNKNOWN, "quantity": 1}),
    )
    # ... at checkout too: the drill in the cart from before is not ordered
    [stale] = ok(await orders.get("/v1/cart", headers=lh))["lines"]
    assert stale["item_id"] == drill["id"] and stale["problem"]["field"] == "item_id", stale
    checked = await orders.post("/v1/cart/checkout", headers={**lh, "Idempotency-Key": f"co-{t}"})
    assert checked.status_code == 409 and checked.json()["item_id"] == drill["id"], checked.text
    # ... and when it accepts a quote sent before the change
    late = await accept(portal, lh, offered_drill)
    assert late.status_code == 409 and late.json()["item_id"] == drill["id"], late.text
    await empty_cart(portal, lh)
    await cart_of(portal, lh, (lathe, 1))
    await empty_cart(portal, lh)
    # ... not its past orders: the order still has the drill; reordering it skips the drill as invisible
    assert line_figures(await an_order(portal, lh, past["order_id"])) == line_figures(past)
    again = ok(await orders.post(f"/v1/orders/{past['order_id']}/reorder", headers=lh))
    assert [(s["item_id"], s["reason"]) for s in again["skipped"]] == [(drill["id"], "invisible")], again
    cart = again.get("cart", again)
    assert [(x["item_id"], x["quantity"]) for x in cart["lines"]] == [(saw["id"], 1)], cart
    await empty_cart(portal, lh)
    # another account in no group still sees everything; put into the machines group it sees (and may
    # order) only the lathe; taken out again, everything
    assert ids(await catalog_items(portal, eh)) >= {drill["id"], saw["id"], lathe["id"]}
    member = f"/v1/admin/access-groups/{hidden['id']}/accounts/{everyone}"
    assert (await catalog.put(member, headers=ADMIN)).status_code in (200, 204)
    await settled(portal)
    assert ids(await catalog_items(portal, eh)) == {lathe["id"]}
    same_refusal(
        await orders.post("/v1/cart/lines", headers=eh, json={"kind": "good", "item_id": drill["id"], "quantity": 1}),
        await orders.post("/v1/cart/lines", headers=eh, json={"kind": "good", "item_id": UNKNOWN, "quantity": 1}),
    )
    assert (await catalog.delete(member, headers=ADMIN)).status_code in (200, 204)
    await settled(portal)
    assert ids(await catalog_items(portal, eh)) >= {drill["id"], saw["id"], lathe["id"]}
    await cart_of(portal, eh, (drill, 1))


# -- users, passwords, tokens -------------------------------------------------------------------
def lock_after() -> int:
    """Failed sign-ins that lock a login (USERS_LOCK_AFTER_FAILURES, as the tests run orders)."""
    return OrdersSettings.model_fields["users_lock_after_failures"].default


async def test_a_user_invited_sets_its_password_signs_in_changes_it_is_disabled_and_locked_out(portal):
    orders, catalog, billing = portal.http["orders"], portal.http["catalog"], portal.http["billing"]
    account, _, _ = await customer(portal, "de")
    user, made = await invite(portal, account, "de", name="Jana Einkauf")
    assert made["status"] == "invited" and made["login"] == user.login, made
    assert user.id in ids(
        ok(await orders.get(f"/v1/admin/accounts/{account}/users", headers=ADMIN))["items"], "user_id"
    )

    # The invitation: in the user's language, naming its login, with the one-time link.
    invitation = await access_mail(portal, user.email)
    assert invitation["headers"]["Content-Language"] == "de" and user.login in invitation["text"], invitation
    token = link_token(invitation)
    assert f"/set-password?token={token}" in invitation["text"]
    refused = await sign_in(portal, user.login, PASSWORD)  # no password yet
    assert refused.status_code in (400, 401), refused.text
    weak = await set_password(portal, token, "short")
    assert weak.status_code in (400, 422) and weak.json().get("field") == "password", weak.text  # schema or rule
    ok(await set_password(portal, token, PASSWORD))
    assert (await set_password(portal, token, "another long password")).status_code in (400, 404, 409, 410, 422)

    # A token from POST /v1/auth/token (form-encoded), good at orders and at another service.
    first = await signed_in(portal, user)
    me = ok(await orders.get("/v1/me", headers=user.headers))
    assert (me["login"], me["language"]) == (user.login, "de"), me
    ok(await catalog.get("/v1/items", headers=user.headers))
    ok(await billing.get("/v1/invoices", headers=user.headers))
    as_json = await orders.post("/v1/auth/token", json={"grant_type": "password", "username": user.login})
    assert as_json.status_code in (400, 415, 422), as_json.text

    # The password changed: a new token; the old one is refused by orders at once, by catalog and
    # billing once UserAccessChanged reached them.
    changed = ok(
        await orders.post(
            "/v1/auth/password/change",
            headers=user.headers,
            json={"old_password": PASSWORD, "new_password": "a new and longer passphrase"},
        )
    )
    user.password, user.token = "a new and longer passphrase", changed["access_token"]
    assert (await orders.get("/v1/me", headers=bearer_of(first))).status_code == 401
    for service, path in ((catalog, "/v1/items"), (billing, "/v1/invoices")):

        async def refuses(service=service, path=path):
            return (await service.get(path, headers=bearer_of(first))).status_code == 401

        await eventually(refuses, what=f"{path} to refuse the old token", timeout=WAIT)
        ok(await service.get(path, headers=user.headers))
    assert (await sign_in(portal, user.login, PASSWORD)).status_code in (400, 401)
    ok(await orders.get("/v1/me", headers=bearer_of(await signed_in(portal, user))))

    # Disabled: refused on its next call (orders at once, catalog once it heard), and cannot sign in.
    ok(await orders.post(f"/v1/admin/users/{user.id}/disable", headers=ADMIN))
    assert (await orders.get("/v1/me", headers=user.headers)).status_code == 401

    async def catalog_refuses():
        return (await catalog.get("/v1/items", headers=user.headers)).status_code == 401

    await eventually(catalog_refuses, what="catalog to refuse the disabled user", timeout=WAIT)
    assert (await sign_in(portal, user.login, user.password)).status_code in (400, 401)
    detail = ok(await orders.get(f"/v1/admin/users/{user.id}", headers=ADMIN))
    assert detail["status"] == "disabled" and detail["history"], detail

    # Locked after repeated failures: then the right password is refused too; an unknown login
    # answers the same at every step (nothing tells whether the user exists).
    other = await activated(portal, account, "de")
    nobody = f"nobody.{tag()}"
    for _ in range(lock_after()):
        wrong = await sign_in(portal, other.login, "not the password")
        unknown = await sign_in(portal, nobody, "not the password")
        assert (wrong.status_code, wrong.json()) == (unknown.status_code, unknown.json()), (wrong.text, unknown.text)
    locked = await sign_in(portal, other.login, other.password)
    unknown = await sign_in(portal, nobody, other.password)
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0, locked.text
    assert (locked.status_code, locked.json()) == (unknown.status_code, unknown.json()), (locked.text, unknown.text)


# -- quotes -------------------------------------------------------------------------------------
async def test_a_quote_accepted_twice_is_one_order_at_its_prices_rejected_and_expired(portal):
    orders = portal.http["orders"]
    account, email, headers = await customer(portal, "en")
    pump = await good(portal, f"Pump {tag()}", "200.00")
    valve = await good(portal, f"Valve {tag()}", "15.00")
    offered = await sent_quote(
        portal, account, [quote_line(pump, 2, "180.00"), quote_line(valve, 10)], "2027-12-31", "Spring offer"
    )
    await mail_of(portal, email, QUOTE_SENT, offered["number"])
    mine = ok(await orders.get("/v1/quotes", headers=headers))["items"]
    assert [(quote_id(q), q["status"]) for q in mine] == [(quote_id(offered), "sent")], mine
    assert money((await a_quote(portal, headers, offered))["total"]) == Decimal("510.00")

    # The catalog's prices change; accepting (twice) answers one order at the quote's prices.
    await reprice(portal, pump["id"], "250.00")
    await reprice(portal, valve["id"], "17.00")
    await settled(portal)
    first, second = ok(await accept(portal, headers, offered)), ok(await accept(portal, headers, offered))
    assert order_id(first) == order_id(second)
    placed = await an_order(portal, headers, order_id(first))
    assert line_figures(placed) == sorted([(pump["id"], 2, "180.00"), (valve["id"], 10, "15.00")]), placed
    assert (placed["source"], str(placed["quote_id"]), money(placed["total"])) == (
        "quote",
        quote_id(offered),
        Decimal("510.00"),
    ), placed
    assert (await a_quote(portal, headers, offered))["status"] == "accepted"
    await settled(portal)
    assert [order_id(o) for o in await account_orders(portal, headers)] == [order_id(first)]
    await mail_of(portal, email, ORDER_RECEIVED, placed["number"])

    # Rejected: accepting it is a 409 naming its status.
    declined = await sent_quote(portal, account, [quote_line(pump, 1)], "2027-12-31")
    rejected = ok(await orders.post(f"/v1/quotes/{quote_id(declined)}/reject", headers=headers, json={"reason": "no"}))
    assert rejected["status"] == "rejected", rejected
    late = await accept(portal, headers, declined)
    assert late.status_code == 409 and late.json()["current_status"] == "rejected", late.text

    # Expired: the quotes job warns 3 days before its validity ends (once), expires it the day after.
    lapsing = await sent_quote(portal, account, [quote_line(valve, 3)], "2027-06-20")
    await at(portal, "2027-06-17")
    await ran(portal, "quotes", "2027-06-17")
    await mail_of(portal, email, QUOTE_EXPIRING, lapsing["number"])
    assert (await a_quote(portal, headers, lapsing))["status"] == "sent"
    await at(portal, "2027-06-21")
    await ran(portal, "quotes", "2027-06-21")
    await at(portal, DAY)
    assert (await a_quote(portal, headers, lapsing))["status"] == "expired"
    late = await accept(portal, headers, lapsing)
    assert late.status_code == 409 and late.json()["current_status"] == "expired", late.text
    assert len(await account_orders(portal, headers)) == 1
    assert (await kinds_to(portal, email))[QUOTE_EXPIRING] == 1


# -- reorder, channel orders --------------------------------------------------------------------
async def test_a_reorder_skips_a_line_and_a_channel_order_received_twice_is_one_order(portal, kafka):
    orders = portal.http["orders"]
    account, _, headers = await customer(portal, "en")
    gloves = await good(portal, f"Gloves {tag()}", "5.00")
    helmet = await good(portal, f"Helmet {tag()}", "30.00")
    goggles = await good(portal, f"Goggles {tag()}", "12.00")
    safety = await group(portal, f"Safety {tag()}", [gloves["id"], helmet["id"], goggles["id"]], [account])
    past = await ordered(portal, headers, (gloves, 4), (helmet, 1), (goggles, 2))

    # The helmet leaves the account's group, the goggles are retired, the gloves cost more now.
    await regroup(portal, safety["id"], item_ids=[gloves["id"], goggles["id"]])
    await retire(portal, goggles["id"])
    await reprice(portal, gloves["id"], "6.00")
    await settled(portal)
    again = ok(await orders.post(f"/v1/orders/{past['order_id']}/reorder", headers=headers))
    assert sorted((s["item_id"], s["reason"], s["name"]) for s in again["skipped"]) == sorted(
        [(helmet["id"], "invisible", helmet["name"]), (goggles["id"], "retired", goggles["name"])]
    ), again
    cart = again.get("cart", again)
    assert [(x["item_id"], x["quantity"], money(x["unit_price"])) for x in cart["lines"]] == [
        (gloves["id"], 4, Decimal("6.00"))
    ], cart
    reordered = await an_order(portal, headers, order_id(await checkout(portal, headers)))
    assert (reordered["source"], str(reordered["reordered_from"])) == ("reorder", past["order_id"]), reordered
    assert line_figures(reordered) == [(gloves["id"], 4, "6.00")]

    # A marketplace's order, on channels.orders twice (and once more later, as a new event of the
    # same channel order): one order, at the channel's prices.
    taken = channel_order(account, [(gloves, 10, "5.50")], customer_reference="PO-7781")
    await channel_ordered(kafka, taken, copies=2)

    async def from_the_channel():
        found = [o for o in await account_orders(portal, headers) if o["source"] == "channel"]
        return found or None

    [received] = await eventually(from_the_channel, what="the channel order to be placed", timeout=WAIT)
    await channel_ordered(kafka, taken, copies=1)
    await settled(portal)
    channel_orders = [o for o in await account_orders(portal, headers) if o["source"] == "channel"]
    assert [o["order_id"] for o in channel_orders] == [received["order_id"]], channel_orders
    detail = await an_order(portal, headers, order_id(received))
    assert (detail["channel"], detail["channel_order_id"], detail["customer_reference"]) == (
        "marketplace",
        taken.channel_order_id,
        "PO-7781",
    ), detail
    assert line_figures(detail) == [(gloves["id"], 10, "5.50")]
    assert len(await account_orders(portal, headers)) == 3

    # A channel order of an item the account may not see is refused (dead-lettered), never shortened.
    consumer = portal.runtimes["orders"].consumer
    before = consumer.stats["dead_lettered"]
    await channel_ordered(kafka, channel_order(account, [(gloves, 1, "5.50"), (helmet, 1, "30.00")]), copies=1)
    await eventually(lambda: consumer.stats["dead_lettered"] > before, what="the channel order refused", timeout=WAIT)
    await settled(portal)
    assert len(await account_orders(portal, headers)) == 3


# -- payment status -----------------------------------------------------------------------------
async def test_an_orders_payment_status_follows_billings_events(portal):
    account, _, headers = await customer(portal, "en")
    drum = await good(portal, f"Cable drum {tag()}", "100.00")
    placed = await ordered(portal, headers, (drum, 2))
    assert (placed["checkout_status"], placed["payment_status"], placed["shipping_status"]) == (
        "completed",
        "not_submitted",
        "unshipped",
    ), placed
    assert placed["status_label"] == "Completed" and placed["checkout_at"], placed
    oid = placed["order_id"]
    invoice = await invoice_of(portal, headers, oid)
    await pay(portal, invoice, "50.00")  # a partial payment: PaymentReceived with a balance due
    submitted = await order_when(
        portal, headers, oid, lambda o: o["payment_status"] == "submitted", "the partial payment to reach orders"
    )
    assert submitted["payment_at"] and submitted["status_label"] == "Completed", submitted
    await pay(portal, invoice)  # the rest: PaymentConfirmed
    cleared = await order_when(portal, headers, oid, lambda o: o["payment_status"] == "cleared", "cleared")
    assert cleared["status_label"] == "Cleared", cleared

    # A declined card: failed; a later card payment clears it.
    other = await ordered(portal, headers, (drum, 1))
    invoice = await invoice_of(portal, headers, other["order_id"])
    declined = await card_payment(portal, headers, invoice, invoice["balance_due"], DECLINING_CARD)
    assert declined.status_code == 402, declined.text
    await order_when(portal, headers, other["order_id"], lambda o: o["payment_status"] == "failed", "failed")
    ok(await card_payment(portal, headers, invoice, invoice["balance_due"], CARD), 201)
    await order_when(portal, headers, other["order_id"], lambda o: o["payment_status"] == "cleared", "cleared")


# -- support requests ---------------------------------------------------------------------------
async def test_support_requests_both_ways(portal):
    orders = portal.http["orders"]
    account, email, headers = await customer(portal, "en")
    user = await activated(portal, account, "tr", name="Ayşe Satın")
    sent = await support_request(portal, user.headers, "Damaged pallet", "Two boxes arrived damaged.")
    assert re.fullmatch(r"SR-\d{6}", sent["number"]) and sent["status"] == "open", sent
    received = await mail_of(portal, user.email, SUPPORT_RECEIVED, sent["number"])
    assert received["headers"]["Content-Language"] == "tr"

    waiting = ok(
        await orders.get("/v1/admin/support-requests", headers=ADMIN, params={"account_id": account, "status": "open"})
    )
    assert [request_id(r) for r in waiting["items"]] == [request_id(sent)] and waiting["total"] == 1, waiting
    rid = request_id(sent)
    answer = "We are sending two new boxes today."
    answered = ok(
        await orders.post(f"/v1/admin/support-requests/{rid}/answers", headers=ADMIN, json={"message": answer})
    )
    assert answered["status"] == "answered", answered
    got = await mail_of(portal, user.email, SUPPORT_ANSWERED, sent["number"], answer)
    assert got["headers"]["Content-Language"] == "tr"

    # The customer adds to it (it opens again); the admin closes it; the customer sees it all.
    replied = await orders.post(
        f"/v1/support-requests/{rid}/replies", headers=user.headers, json={"message": "Thanks!"}
    )
    assert replied.status_code in (200, 201) and replied.json()["status"] == "open", replied.text
    closed = ok(await orders.post(f"/v1/admin/support-requests/{rid}/close", headers=ADMIN))
    assert closed["status"] == "closed", closed
    seen = ok(await orders.get(f"/v1/support-requests/{rid}", headers=user.headers))
    assert seen["status"] == "closed" and seen["history"], seen
    assert answer in str(seen) and "Thanks!" in str(seen), seen
    # another account's request is not there for it
    _, _, stranger = await customer(portal, "en")
    assert (await orders.get(f"/v1/support-requests/{rid}", headers=stranger)).status_code == 404

    # Sent with a token that is no portal user's: from the account's profile address.
    direct = await support_request(portal, headers, "Invoice copy", "Please send a copy of the invoice.")
    await mail_of(portal, email, SUPPORT_RECEIVED, direct["number"])
    counts = await kinds_to(portal, user.email)
    assert (counts[ACCESS_GRANTED], counts[SUPPORT_RECEIVED], counts[SUPPORT_ANSWERED]) == (1, 1, 1), counts


# -- every event twice, every email in four languages -------------------------------------------
class Buyer:
    """One customer account's run through the portal's emailing flows, in one language: its user is
    invited and signs in, sends a support request that is answered, gets two quotes (one accepted,
    one left to expire), orders from its cart (paid in two parts) and from a marketplace."""

    def __init__(self, portal: Portal, kafka: str, language: str, items: list[dict[str, Any]], expires: str):
        self.portal, self.kafka, self.language, self.items, self.expires = portal, kafka, language, items, expires
        self.account, self.email, self.headers, self.user = "", "", {}, None

    async def opens(self) -> None:
        self.account, self.email, self.headers = await customer(self.portal, self.language)
        await group(self.portal, f"Group {self.account}", [i["id"] for i in self.items], [self.account])
        self.user: User = await activated(self.portal, self.account, self.language)

    async def asks(self) -> None:
        sent = await support_request(self.portal, self.user.headers, "Delivery date", "When will it arrive?")
        rid = request_id(sent)
        ok(
            await self.portal.http["orders"].post(
                f"/v1/admin/support-requests/{rid}/answers", headers=ADMIN, json={"message": "On Monday."}
            )
        )
        ok(await self.portal.http["orders"].post(f"/v1/admin/support-requests/{rid}/close", headers=ADMIN))

    async def quoted(self) -> None:
        first, second = self.items
        self.accepted = await sent_quote(self.portal, self.account, [quote_line(first, 3, "9.00")], "2027-12-31")
        self.lapsing = await sent_quote(self.portal, self.account, [quote_line(second, 1)], self.expires)
        ok(await accept(self.portal, self.user.headers, self.accepted))
        ok(await accept(self.portal, self.user.headers, self.accepted))

    async def orders(self) -> None:
        first, second = self.items
        placed = await ordered(self.portal, self.user.headers, (first, 1), (second, 2))
        invoice = await invoice_of(self.portal, self.headers, placed["order_id"])
        await pay(self.portal, invoice, "1.00")
        await pay(self.portal, invoice)
        await order_when(
            self.portal, self.headers, placed["order_id"], lambda o: o["payment_status"] == "cleared", "cleared"
        )
        await channel_ordered(
            self.kafka, channel_order(self.account, [(first, 5, "9.50")], channel_order_id=f"MP-{self.account}")
        )

        async def channel():
            return [o for o in await account_orders(self.portal, self.headers) if o["source"] == "channel"] or None

        await eventually(channel, what="the channel order", timeout=WAIT)

    async def figures(self) -> dict[str, Any]:
        await settled(self.portal)
        placed = await account_orders(self.portal, self.headers)
        quotes = ok(await self.portal.http["orders"].get("/v1/quotes", headers=self.headers))["items"]
        requests = ok(await self.portal.http["orders"].get("/v1/support-requests", headers=self.user.headers))["items"]
        to_user, to_account = await kinds_to(self.portal, self.user.email), await kinds_to(self.portal, self.email)
        return {
            "orders": sorted((o["source"], o["payment_status"], str(money(o["total"]))) for o in placed),
            "quotes": sorted(q["status"] for q in quotes),
            "requests": [r["status"] for r in requests],
            "to the user": {k: to_user[k] for k in (ACCESS_GRANTED, SUPPORT_RECEIVED, SUPPORT_ANSWERED)},
            "to the account": {k: to_account[k] for k in (QUOTE_SENT, QUOTE_EXPIRING, ORDER_RECEIVED)},
        }


EVERY_FIGURE = {
    "orders": sorted(
        [("quote", "not_submitted", "27.00"), ("cart", "cleared", "30.00"), ("channel", "not_submitted", "47.50")]
    ),
    "quotes": ["accepted", "sent"],
    "requests": ["closed"],
    "to the user": {ACCESS_GRANTED: 1, SUPPORT_RECEIVED: 1, SUPPORT_ANSWERED: 1},
    "to the account": {QUOTE_SENT: 2, QUOTE_EXPIRING: 1, ORDER_RECEIVED: 3},
}


async def every_b2b_email(portal: Portal, kafka: str, languages: list[str], expires: str) -> list[Buyer]:
    """The Buyer flow for one account per language, side by side; the quotes job warns of the
    quotes expiring on `expires`."""
    items = [await good(portal, f"Bolt {tag()}", "10.00"), await good(portal, f"Nut {tag()}", "10.00")]
    buyers = [Buyer(portal, kafka, language, items, expires) for language in languages]
    for step in (Buyer.opens, Buyer.asks, Buyer.quoted, Buyer.orders):
        await asyncio.gather(*(step(b) for b in buyers))
    await at(portal, today_plus(expires, -3))
    await ran(portal, "quotes", today_plus(expires, -3))
    await at(portal, DAY)
    return buyers


async def test_every_new_email_in_all_four_languages(portal, kafka):
    buyers = await every_b2b_email(portal, kafka, list(LANGUAGES), "2027-07-20")
    subjects: dict[str, set[str]] = {}
    for b in buyers:
        assert await b.figures() == EVERY_FIGURE, b.language
        await told_in_its_language(portal, b)
        for to in (b.email, b.user.email):
            for m in await portal.infra.messages(to=to):
                if template(m) in EVERY_FIGURE["to the user"] or template(m) in EVERY_FIGURE["to the account"]:
                    assert m["headers"]["Content-Language"] == b.language, (b.language, template(m), m["subject"])
                    assert m["text"] and m["html"], m["subject"]
                    subjects.setdefault(f"{template(m)}:{b.language}", set()).add(_wording(m["subject"]))
    # each template reads differently in each language (a translation, not the English text)
    for kind in (ACCESS_GRANTED, SUPPORT_RECEIVED, SUPPORT_ANSWERED, QUOTE_SENT, QUOTE_EXPIRING, ORDER_RECEIVED):
        wordings = [subjects.get(f"{kind}:{language}", set()) for language in LANGUAGES]
        assert all(wordings), (kind, wordings)
        for i, a in enumerate(wordings):
            for b in wordings[i + 1 :]:
                assert not (a & b), (kind, a, b)


async def told_in_its_language(portal: Portal, b: Buyer) -> None:
    """The figures of each email as the buyer's language writes them (CLDR money and dates, as notify
    formats them), and what the user and the admin wrote, in its text and its HTML."""
    language = b.language

    async def saying(to: str, kind: str, *phrases: str) -> list[dict[str, Any]]:
        of_kind = [m for m in await portal.infra.messages(to=to) if template(m) == kind]
        found = [m for m in of_kind if all(p in m["text"] and p in m["html"] for p in phrases)]
        assert found, (language, kind, phrases, [(m["text"], m["html"]) for m in of_kind])
        return found

    assert await saying(b.user.email, ACCESS_GRANTED, b.user.login, "/set-password?token="), language
    assert await saying(b.user.email, SUPPORT_RECEIVED, "Delivery date"), language
    assert await saying(b.user.email, SUPPORT_ANSWERED, "On Monday."), language
    assert await saying(b.email, QUOTE_SENT, written_money("27.00", language), b.accepted["number"]), language
    assert await saying(b.email, QUOTE_EXPIRING, written_date(b.expires, language), b.lapsing["number"]), language
    assert await saying(b.email, ORDER_RECEIVED, written_money("30.00", language)), language
    assert await saying(b.email, ORDER_RECEIVED, written_money("47.50", language)), language


def _wording(subject: str) -> str:
    """A subject without its numbers and codes (what the template says, not its variables)."""
    return re.sub(r"[A-Z]{1,4}-?\d[\w-]*|\d[\d.,/-]*", "#", subject).strip()


async def test_every_event_of_these_flows_delivered_twice_changes_nothing(portal, kafka):
    dead_before = {name: rt.consumer.stats["dead_lettered"] for name, rt in portal.runtimes.items()}
    delivering_twice(portal, True)
    try:
        [buyer] = await every_b2b_email(portal, kafka, ["pl"], "2027-08-20")
        figures = await buyer.figures()
    finally:
        delivering_twice(portal, False)
    assert figures == EVERY_FIGURE
    await told_in_its_language(portal, buyer)
    events = await events_of(portal, buyer.account)
    types = {e["type"] for e in events}
    assert types >= {
        "AccessGroupChanged",
        "UserInvited",
        "UserActivated",
        "UserAccessChanged",
        "SupportRequestReceived",
        "SupportRequestAnswered",
        "SupportRequestClosed",
        "QuoteSent",
        "QuoteAccepted",
        "QuoteExpiring",
        "OrderPlaced",
        "PaymentReceived",
        "PaymentConfirmed",
    }, types
    await portal.handed_twice(events)
    stats = {name: rt.consumer.stats for name, rt in portal.runtimes.items()}
    assert all(stats[name]["duplicates"] > 0 for name in ("catalog", "orders", "billing", "notify")), stats
    assert {name: s["dead_lettered"] for name, s in stats.items()} == dead_before, stats
