"""Issue 12's proof, over HTTP against the running catalog, orders, billing and notify on real
Kafka, PostgreSQL and the SMTP sink: a customer's client area (cart, checkout, invoice, payment,
its services), with time moved by the services' test clocks and the orders jobs (`renewals`,
`overdue`, `unpaid-orders`) run as of chosen dates, never by waiting. One test per line of the
issue's "What must show that it works" (and one for its decision that an add-on bought after its
parent's renewal invoice gets its own); the dates exercise the anchor rule (a monthly service
bought on 31 January is due 28 February, then 31 March). Emails are read from the sink in the
account's language (en, de, tr, pl across the tests) and checked by phrase: the subject's wording
in that language, and the service's name, dates and amounts as that language writes them. The
rendering of every email in all four languages is notify's test (services/notify/tests)."""

from __future__ import annotations

from decimal import Decimal

from client_area import (
    ACTIVATED,
    CANCELLATION_SCHEDULED,
    CANCELLED,
    ORDER_INVOICE,
    ORDER_RECEIVED,
    OVERDUE,
    PAYMENT,
    REACTIVATED,
    RENEWAL_INVOICE,
    RENEWED,
    SECOND_ORDERS,
    SUSPENDED,
    TERMINATED,
    add_line,
    added,
    at,
    bought,
    checkout,
    invoice_of,
    invoices,
    item,
    mail,
    order,
    orders_of,
    pay,
    ran,
    renewal_invoice,
    reprice,
    run_job,
    service,
    service_when,
    services,
    settled,
    templates_sent,
    together,
    written_date,
    written_money,
    written_period,
)
from flow import ADMIN, money, ok, record_transfer, running_portal, seller

from portal_runtime.testing import eventually

STATUSES = {"pending", "active", "suspended", "cancelled", "terminated", "completed"}


def refused(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, f"{response.request.url}: {response.status_code} {response.text}"
    body = response.json()
    if field is not None:
        assert body.get("field") == field, body
    return body


async def test_a_monthly_service_bought_through_the_cart_is_listed_active_and_private(infra, new_database, kafka):
    async with running_portal(infra, new_database, kafka, test_clock=True) as portal:
        orders = portal.http["orders"]
        await at(portal, "2027-01-31")
        hosting = await item(portal, "Web hosting", {"monthly": "10.00", "annual": "100.00"})
        account, email, headers = await seller(portal, "de")

        empty = ok(await orders.get("/v1/cart", headers=headers))
        assert empty["lines"] == [] and money(empty["total"]) == 0, empty
        refused(await orders.post("/v1/cart/checkout", headers={**headers, "Idempotency-Key": "empty"}), 422)

        new = {"kind": "new", "item_id": hosting["id"], "cycle": "monthly", "domain": "shop.example.test"}
        cart = await added(portal, headers, new)
        [line] = cart["lines"]
        assert (line["kind"], line["name"], line["cycle"], line["domain"]) == (
            "new",
            "Web hosting",
            "monthly",
            "shop.example.test",
        ), line
        assert money(line["unit_price"]) == money(line["amount"]) == money(cart["total"]) == Decimal("10.00"), cart
        assert (line["period_start"], line["period_end"]) == ("2027-01-31", "2027-02-28"), line
        assert cart["currency"] == "EUR" and cart["account_id"] == account

        # Checkout needs an Idempotency-Key; the same key again answers the same order.
        missing = await orders.post("/v1/cart/checkout", headers=headers)
        refused(missing, 400, "Idempotency-Key")
        placed = await checkout(portal, headers, key="buy-hosting")
        assert placed == await checkout(portal, headers, key="buy-hosting")
        assert (placed["status"], placed["source"], placed["due_on"]) == ("placed", "cart", None), placed
        assert money(placed["total"]) == Decimal("10.00") and placed["number"]
        [ordered] = placed["lines"]
        assert ordered["subscription_id"] == line["subscription_id"] and ordered["kind"] == "new"
        assert ok(await orders.get("/v1/cart", headers=headers))["lines"] == []
        assert [o["order_id"] for o in await orders_of(portal, headers)] == [placed["order_id"]]

        # Billing invoices it, due today; a bank transfer pays it; orders fulfils it.
        invoice = await invoice_of(portal, headers, placed["order_id"])
        assert (invoice["source_kind"], invoice["due_on"], invoice["status"]) == ("order", "2027-01-31", "issued")
        assert money(invoice["total"]) == Decimal("10.00")
        assert (await pay(portal, invoice))["status"] == "paid"
        sid = line["subscription_id"]
        active = await service_when(portal, headers, sid, lambda s: s["status"] == "active", "the service to activate")
        assert (active["name"], active["domain"], active["cycle"], active["currency"]) == (
            "Web hosting",
            "shop.example.test",
            "monthly",
            "EUR",
        ), active
        assert money(active["price"]) == Decimal("10.00") and active["item_id"] == hosting["id"]
        assert (active["anchor_on"], active["next_due_on"]) == ("2027-01-31", "2027-02-28"), active
        assert active["add_ons"] == [] and active["cancel_at_period_end"] is False and active["suspend_reason"] is None
        assert [h["to_status"] for h in active["history"]][-1] == "active", active["history"]
        assert active["order_ids"] == [placed["order_id"]]
        assert [(i["invoice_id"], i["status"], money(i["total"])) for i in active["invoices"]] == [
            (invoice["id"], "paid", Decimal("10.00"))
        ]
        assert active["renewal"]["renewable"] is True  # due in 28 days: inside the 30-day window
        paid_order = await eventually(
            lambda: _status(portal, headers, placed["order_id"], "paid"), what="the order to be paid"
        )
        assert paid_order["invoice_id"] == invoice["id"]

        # The list: price, cycle, next due date, status; filtered by status; counted per status.
        listed = await services(portal, headers)
        assert [s["subscription_id"] for s in listed["items"]] == [sid] and listed["total"] == 1
        [row] = listed["items"]
        assert (row["status"], row["cycle"], money(row["price"]), row["next_due_on"]) == (
            "active",
            "monthly",
            Decimal("10.00"),
            "2027-02-28",
        ), row
        assert [s["subscription_id"] for s in (await services(portal, headers, status="active"))["items"]] == [sid]
        assert (await services(portal, headers, status="suspended"))["items"] == []
        counts = ok(await orders.get("/v1/services/counts", headers=headers))
        assert set(counts["counts"]) == STATUSES and counts["total"] == 1, counts
        assert counts["counts"]["active"] == 1 and sum(counts["counts"].values()) == 1, counts
        admin_view = ok(await orders.get("/v1/services", headers=ADMIN, params={"account_id": account}))
        assert [s["subscription_id"] for s in admin_view["items"]] == [sid]

        # The banner: an item the admin features, with its text in the caller's language.
        texts = {
            "en": "Fast and safe",
            "tr": "Hızlı ve güvenli",
            "de": "Schnell und sicher",
            "pl": "Szybko i bezpiecznie",
        }
        featured = ok(
            await portal.http["catalog"].put(
                f"/v1/admin/items/{hosting['id']}/featured", headers=ADMIN, json={"texts": texts}
            )
        )
        assert featured["featured"] == texts, featured

        async def banner():
            return ok(await orders.get("/v1/featured-items", headers=headers))["items"]

        [shown] = await eventually(banner, what="orders to list the featured item", timeout=60)
        assert (shown["item_id"], shown["text"], shown["texts"]) == (hosting["id"], "Schnell und sicher", texts)
        assert {(p["cycle"], money(p["price"])) for p in shown["prices"]} == {
            ("monthly", Decimal("10.00")),
            ("annual", Decimal("100.00")),
        }, shown
        ok(await portal.http["catalog"].delete(f"/v1/admin/items/{hosting['id']}/featured", headers=ADMIN))
        await eventually(lambda: _none(banner), what="orders to take the item off the banner", timeout=60)

        # Another account sees none of it.
        _, _, other = await seller(portal, "en")
        refused(await orders.get(f"/v1/services/{sid}", headers=other), 404)
        refused(await orders.get(f"/v1/orders/{placed['order_id']}", headers=other), 404)
        refused(await orders.post(f"/v1/services/{sid}/cancellation", headers=other), 404)
        refused(await add_line(portal, other, {"kind": "renewal", "subscription_id": sid}), 404)
        assert (await services(portal, other))["items"] == [] and await orders_of(portal, other) == []

        # The emails, in German: order received, invoice, payment received, service active.
        await mail(portal, email, ORDER_RECEIVED, "de", "Web hosting", written_money("10.00", "de"))
        await mail(portal, email, ORDER_INVOICE, "de", invoice["number"], written_money("10.00", "de"))
        await mail(portal, email, PAYMENT, "de", invoice["number"])
        await mail(portal, email, ACTIVATED, "de", "Web hosting", "shop.example.test")


async def _none(listing) -> bool:
    return await listing() == []


async def _new_price(portal, headers, item_id: str, cycle: str, price: Decimal) -> bool:
    """Does a new purchase of the item cost `price` now? (The line is taken out again.)"""
    cart = await added(portal, headers, {"kind": "new", "item_id": item_id, "cycle": cycle, "domain": "price.test"})
    [line] = [x for x in cart["lines"] if x["domain"] == "price.test"]
    ok(await portal.http["orders"].delete(f"/v1/cart/lines/{line['line_id']}", headers=headers))
    return money(line["amount"]) == price


async def _status(portal, headers, order_id: str, status: str):
    found = await order(portal, headers, order_id)
    return found if found["status"] == status else None


async def test_the_renewal_job_makes_one_invoice_however_often_and_wherever_it_runs(infra, new_database, kafka):
    async with running_portal(infra, new_database, kafka, test_clock=True, second_orders=True) as portal:
        await at(portal, "2027-01-31")
        hosting = await item(portal, "Web hosting", {"monthly": "10.00"})
        _, email, headers = await seller(portal, "tr")
        _, _, active = await bought(portal, headers, hosting["id"], "monthly", "dukkan.example.test")
        sid = active["subscription_id"]
        assert active["next_due_on"] == "2027-02-28"

        # 14 days before the due date: two processes run the job at once, then it runs again.
        await at(portal, "2027-02-14")
        first, second = await together(
            run_job(portal, "renewals", "2027-02-14"), run_job(portal, "renewals", "2027-02-14", process=SECOND_ORDERS)
        )
        assert sorted([first.status_code, second.status_code])[0] == 200, (first.text, second.text)
        assert {first.status_code, second.status_code} <= {200, 409}, (first.text, second.text)
        refused(await run_job(portal, "renewals", "2027-02-14"), 409)
        await at(portal, "2027-02-16")
        # the day after, asked twice at once of one process, and the day after that of the other
        same_day, same_day_again, next_day = await together(
            run_job(portal, "renewals", "2027-02-15"),
            run_job(portal, "renewals", "2027-02-15"),
            run_job(portal, "renewals", "2027-02-16", process=SECOND_ORDERS),
        )
        assert sorted([same_day.status_code, same_day_again.status_code]) == [200, 409], (
            same_day.text,
            same_day_again.text,
        )
        assert next_day.status_code == 200, next_day.text
        await settled(portal)

        [renewal] = await orders_of(portal, headers, status="placed")
        assert (renewal["source"], renewal["due_on"], money(renewal["total"])) == ("renewal", "2027-02-28", 10), renewal
        [line] = renewal["lines"]
        assert (line["kind"], line["subscription_id"]) == ("renewal", sid), line
        assert (line["period_start"], line["period_end"]) == ("2027-02-28", "2027-03-31"), line
        invoice = await renewal_invoice(portal, headers, "2027-02-28")
        assert len(await invoices(portal, headers, "renewal")) == 1
        assert invoice["source_id"] == renewal["order_id"] and money(invoice["total"]) == Decimal("10.00")
        [billed] = invoice["lines"]
        assert (billed["subscription_id"], billed["period_start"], billed["period_end"]) == (
            sid,
            "2027-02-28",
            "2027-03-31",
        ), billed
        # the renewal invoice's email says which service and which period
        await mail(
            portal,
            email,
            RENEWAL_INVOICE,
            "tr",
            invoice["number"],
            "Web hosting",
            written_period("2027-02-28", "2027-03-31", "tr"),
        )

        # Paid late, in two parts: the first is emailed with the balance due and renews nothing.
        await at(portal, "2027-03-01")
        assert (await pay(portal, invoice, "4.00"))["status"] == "partially_paid"
        await mail(portal, email, PAYMENT, "tr", invoice["number"], written_money("6.00", "tr"))
        await settled(portal)
        assert (await service(portal, headers, sid))["next_due_on"] == "2027-02-28"
        # Paid in full two days after the due date: the due date advances once, keeping the anchor.
        await at(portal, "2027-03-02")
        assert (await pay(portal, invoice))["status"] == "paid"
        renewed = await service_when(
            portal, headers, sid, lambda s: s["next_due_on"] != "2027-02-28", "the renewal to be fulfilled"
        )
        assert (renewed["next_due_on"], renewed["anchor_on"], renewed["status"]) == (
            "2027-03-31",
            "2027-01-31",
            "active",
        ), renewed
        again = await record_transfer(portal, invoice, "10.00", "paid twice", key="second-attempt")
        assert refused(again, 409)["current_status"] == "paid"
        await mail(portal, email, RENEWED, "tr", "Web hosting", written_date("2027-03-31", "tr"))
        await settled(portal)
        assert (await service(portal, headers, sid))["next_due_on"] == "2027-03-31"
        assert (await templates_sent(portal, email)).count(RENEWED) == 1

        # The catalog's price rises (orders' copy has it once a new purchase is priced at it) ...
        await reprice(portal, hosting["id"], {"monthly": "12.00"})
        await eventually(
            lambda: _new_price(portal, headers, hosting["id"], "monthly", Decimal("12.00")),
            what="orders to price new purchases at the new catalog price",
        )
        # ... and the next renewal, from 31 March to 30 April (the anchor's day, as the month allows),
        # is at the service's own price.
        await at(portal, "2027-03-17")
        await ran(portal, "renewals", "2027-03-17")
        nxt = await renewal_invoice(portal, headers, "2027-03-31")
        assert [(x["period_start"], x["period_end"], money(x["line_total"])) for x in nxt["lines"]] == [
            ("2027-03-31", "2027-04-30", Decimal("10.00"))
        ], nxt["lines"]


async def test_a_service_and_its_prorated_add_on_due_the_same_day_renew_on_one_invoice(infra, new_database, kafka):
    async with running_portal(infra, new_database, kafka, test_clock=True) as portal:
        await at(portal, "2027-01-31")
        hosting = await item(portal, "Web hosting", {"monthly": "10.00"})
        ssl = await item(
            portal, "SSL certificate", {"monthly": "2.25", "annual": "24.00"}, kind="add_on", parents=[hosting["id"]]
        )
        _, email, headers = await seller(portal, "pl")
        _, _, parent = await bought(portal, headers, hosting["id"], "monthly", "sklep.example.test")
        sid = parent["subscription_id"]

        # Half-way through the parent's 28-day period, an add-on in its cycle is prorated to its due
        # date: 2.25 × 14 ÷ 28 = 1.125, half-up 1.13.
        await at(portal, "2027-02-14")
        offered = ok(await portal.http["orders"].get(f"/v1/services/{sid}/add-ons", headers=headers))["items"]
        assert [(a["item_id"], a["max_per_parent"]) for a in offered] == [(ssl["id"], 1)], offered
        cart = await added(
            portal, headers, {"kind": "add_on", "item_id": ssl["id"], "cycle": "monthly", "parent_subscription_id": sid}
        )
        [line] = cart["lines"]
        assert money(line["unit_price"]) == Decimal("2.25") and money(line["amount"]) == Decimal("1.13"), line
        assert (line["period_start"], line["period_end"], line["parent_subscription_id"]) == (
            "2027-02-14",
            "2027-02-28",
            sid,
        ), line
        placed = await checkout(portal, headers)
        assert money(placed["total"]) == Decimal("1.13")
        invoice = await invoice_of(portal, headers, placed["order_id"])
        assert money(invoice["total"]) == Decimal("1.13")
        await pay(portal, invoice)
        with_add_on = await service_when(portal, headers, sid, lambda s: s["add_ons"], "the add-on to attach")
        [add_on] = with_add_on["add_ons"]
        assert (add_on["subscription_id"], add_on["status"], add_on["next_due_on"]) == (
            line["subscription_id"],
            "active",
            "2027-02-28",
        ), add_on
        listed = await services(portal, headers)
        assert [s["subscription_id"] for s in listed["items"]] == [sid] and listed["total"] == 1  # parents only
        await settled(portal)

        # Both fall due on 28 February: one renewal invoice holds them, at their recurring prices.
        await ran(portal, "renewals", "2027-02-14")
        renewal = await renewal_invoice(portal, headers, "2027-02-28")
        assert sorted((x["subscription_id"], money(x["line_total"])) for x in renewal["lines"]) == sorted(
            [(sid, Decimal("10.00")), (add_on["subscription_id"], Decimal("2.25"))]
        ), renewal["lines"]
        assert {(x["period_start"], x["period_end"]) for x in renewal["lines"]} == {("2027-02-28", "2027-03-31")}
        assert money(renewal["total"]) == Decimal("12.25")
        await mail(
            portal,
            email,
            RENEWAL_INVOICE,
            "pl",
            renewal["number"],
            "Web hosting",
            "SSL certificate",
            written_money("12.25", "pl"),
        )
        await pay(portal, renewal)
        renewed = await service_when(
            portal, headers, sid, lambda s: s["next_due_on"] == "2027-03-31", "the renewal to be fulfilled"
        )
        assert [a["next_due_on"] for a in renewed["add_ons"]] == ["2027-03-31"], renewed
        await mail(portal, email, RENEWED, "pl", "Web hosting", "SSL certificate", written_date("2027-03-31", "pl"))
        assert (await templates_sent(portal, email)).count(RENEWED) == 1  # one email per parent service


async def test_unpaid_renewals_suspend_then_terminate_and_payment_reactivates(infra, new_database, kafka):
    async with running_portal(infra, new_database, kafka, test_clock=True) as portal:
        orders = portal.http["orders"]
        await at(portal, "2027-01-31")
        hosting = await item(portal, "Web hosting", {"monthly": "10.00"})
        ssl = await item(portal, "SSL certificate", {"monthly": "2.00"}, kind="add_on", parents=[hosting["id"]])
        # late (en): pays after the suspension; gone (de): never pays; held (en): suspended by an admin
        _, late_email, late = await seller(portal, "en")
        _, gone_email, gone = await seller(portal, "de")
        _, held_email, held = await seller(portal, "en")
        late_sid = (await bought(portal, late, hosting["id"], "monthly", "late.example.test"))[2]["subscription_id"]
        gone_sid = (await bought(portal, gone, hosting["id"], "monthly", "gone.example.test"))[2]["subscription_id"]
        held_sid = (await bought(portal, held, hosting["id"], "monthly", "held.example.test"))[2]["subscription_id"]
        await added(
            portal,
            gone,
            {"kind": "add_on", "item_id": ssl["id"], "cycle": "monthly", "parent_subscription_id": gone_sid},
        )
        add_on_order = await checkout(portal, gone)
        await pay(portal, await invoice_of(portal, gone, add_on_order["order_id"]))
        gone_add_on = (await service_when(portal, gone, gone_sid, lambda s: s["add_ons"], "the add-on"))["add_ons"][0]

        await at(portal, "2027-02-14")
        await ran(portal, "renewals", "2027-02-14")
        late_invoice = await renewal_invoice(portal, late, "2027-02-28")
        gone_invoice = await renewal_invoice(portal, gone, "2027-02-28")
        held_invoice = await renewal_invoice(portal, held, "2027-02-28")
        await at(portal, "2027-02-20")
        reason = "abuse report under review"
        refused(
            await orders.post(f"/v1/admin/services/{held_sid}/suspend", headers=ADMIN, json={"reason": "overdue"}), 422
        )
        suspended = ok(
            await orders.post(f"/v1/admin/services/{held_sid}/suspend", headers=ADMIN, json={"reason": reason})
        )
        assert (suspended["status"], suspended["suspend_reason"]) == ("suspended", reason), suspended
        await mail(portal, held_email, SUSPENDED, "en", "held.example.test")

        # One day after the due date: a reminder naming the day it will be suspended (not to the held one).
        await at(portal, "2027-03-01")
        await ran(portal, "overdue", "2027-03-01")
        await mail(portal, late_email, OVERDUE, "en", "late.example.test", written_date("2027-03-07", "en"))
        await mail(portal, gone_email, OVERDUE, "de", "gone.example.test", written_date("2027-03-07", "de"))
        assert (await service(portal, late, late_sid))["status"] == "active"

        # Seven days after: suspended for `overdue`, with an email.
        await at(portal, "2027-03-07")
        await ran(portal, "overdue", "2027-03-07")
        for headers, sid in ((late, late_sid), (gone, gone_sid)):
            now = await service(portal, headers, sid)
            assert (now["status"], now["suspend_reason"]) == ("suspended", "overdue"), now
        assert [s["subscription_id"] for s in (await services(portal, late, status="suspended"))["items"]] == [late_sid]
        assert ok(await orders.get("/v1/services/counts", headers=late))["counts"]["suspended"] == 1
        await mail(portal, late_email, SUSPENDED, "en", "late.example.test")
        await mail(portal, gone_email, SUSPENDED, "de", "gone.example.test", "SSL certificate")
        assert (await templates_sent(portal, held_email)).count(OVERDUE) == 0  # the admin's suspension stays as it is

        # Paid the day after: reactivated, renewed from the old due date. The admin's suspension stays.
        await at(portal, "2027-03-08")
        await pay(portal, late_invoice)
        await pay(portal, held_invoice)
        back = await service_when(portal, late, late_sid, lambda s: s["status"] == "active", "payment to reactivate")
        assert (back["suspend_reason"], back["next_due_on"]) == (None, "2027-03-31"), back
        await mail(portal, late_email, REACTIVATED, "en", "late.example.test")
        still = await service_when(
            portal, held, held_sid, lambda s: s["next_due_on"] == "2027-03-31", "the held service's renewal"
        )
        assert (still["status"], still["suspend_reason"]) == ("suspended", reason), still
        await settled(portal)
        assert (await templates_sent(portal, held_email)).count(REACTIVATED) == 0

        # Thirty days after the due date: terminated, its add-on with it, the invoice voided.
        await at(portal, "2027-03-30")
        await ran(portal, "overdue", "2027-03-30")
        ended = await service(portal, gone, gone_sid)
        assert ended["status"] == "terminated" and [a["status"] for a in ended["add_ons"]] == ["terminated"], ended
        assert gone_add_on["subscription_id"] == ended["add_ons"][0]["subscription_id"]
        voided = ok(await portal.http["billing"].get(f"/v1/invoices/{gone_invoice['id']}", headers=gone))
        assert voided["status"] == "voided", voided
        [cancelled] = await orders_of(portal, gone, status="cancelled")
        assert cancelled["order_id"] == gone_invoice["source_id"]
        assert [i["status"] for i in ended["invoices"] if i["invoice_id"] == gone_invoice["id"]] == ["voided"]
        late_pay = await record_transfer(portal, gone_invoice, gone_invoice["balance_due"], "too late", key="too-late")
        assert refused(late_pay, 409)["current_status"] == "voided"
        await mail(portal, gone_email, TERMINATED, "de", "gone.example.test", "SSL certificate")
        assert (await service(portal, late, late_sid))["status"] == "active"
        assert (await service(portal, held, held_sid))["status"] == "suspended"


async def test_early_renewal_only_inside_its_window_and_at_the_services_own_price(infra, new_database, kafka):
    async with running_portal(infra, new_database, kafka, test_clock=True) as portal:
        orders = portal.http["orders"]
        await at(portal, "2027-01-31")
        plan = await item(portal, "Business plan", {"monthly": "10.00", "annual": "100.00"})
        setup = await item(portal, "Store setup", {"one_time": "50.00"})
        _, email, headers = await seller(portal, "tr")
        sid = (await bought(portal, headers, plan["id"], "annual", "plan.example.test"))[2]["subscription_id"]
        once = (await bought(portal, headers, setup["id"], "one_time", "setup.example.test"))[2]
        assert once["status"] == "completed" and once["next_due_on"] is None, once

        # Outside the window (30 days before 31 January 2028): 422 naming the day it opens.
        await at(portal, "2027-06-01")
        outside = refused(
            await add_line(portal, headers, {"kind": "renewal", "subscription_id": sid}), 422, "subscription_id"
        )
        assert outside["window_opens_on"] == "2028-01-01" and "2028-01-01" in outside["detail"], outside
        page = await service(portal, headers, sid)
        assert page["renewal"] == {"renewable": False, "window_opens_on": "2028-01-01"}, page["renewal"]
        assert ok(await orders.get("/v1/services/renewable", headers=headers))["items"] == []
        one_time = await add_line(portal, headers, {"kind": "renewal", "subscription_id": once["subscription_id"]})
        refused(one_time, 422, "subscription_id")
        assert ok(await orders.get("/v1/cart", headers=headers))["lines"] == []

        # The catalog's price rises; a new purchase pays it (once orders' copy has it) ...
        await reprice(portal, plan["id"], {"monthly": "15.00", "annual": "150.00"})
        await eventually(
            lambda: _new_price(portal, headers, plan["id"], "annual", Decimal("150.00")),
            what="orders to price new purchases at the new catalog price",
        )

        # ... inside the window, the renewal keeps the service's own price, one period from its due date.
        await at(portal, "2028-01-05")
        renewable = ok(await orders.get("/v1/services/renewable", headers=headers))["items"]
        assert [s["subscription_id"] for s in renewable] == [sid], renewable
        cart = await added(portal, headers, {"kind": "renewal", "subscription_id": sid})
        [line] = cart["lines"]
        assert line["kind"] == "renewal" and money(line["amount"]) == Decimal("100.00"), line
        assert (line["period_start"], line["period_end"]) == ("2028-01-31", "2029-01-31"), line
        placed = await checkout(portal, headers)
        assert (placed["source"], money(placed["total"])) == ("cart", Decimal("100.00"))
        early = await invoice_of(portal, headers, placed["order_id"])

        # The renewal job, 14 days before the due date, finds the period ordered already: no renewal order.
        await at(portal, "2028-01-17")
        await ran(portal, "renewals", "2028-01-17")
        assert await invoices(portal, headers, "renewal") == []
        assert [o["order_id"] for o in await orders_of(portal, headers, status="placed")] == [placed["order_id"]]

        await pay(portal, early)
        renewed = await service_when(
            portal, headers, sid, lambda s: s["next_due_on"] == "2029-01-31", "the early renewal to be fulfilled"
        )
        assert renewed["anchor_on"] == "2027-01-31" and money(renewed["price"]) == Decimal("100.00"), renewed
        await mail(portal, email, RENEWED, "tr", "Business plan", written_date("2029-01-31", "tr"))
        await settled(portal)
        assert await invoices(portal, headers, "renewal") == []


async def test_each_add_on_refusal_names_its_field_and_changes_nothing(infra, new_database, kafka):
    async with running_portal(infra, new_database, kafka, test_clock=True) as portal:
        orders = portal.http["orders"]
        await at(portal, "2027-01-31")
        hosting = await item(portal, "Web hosting", {"monthly": "10.00", "annual": "100.00"})
        vps = await item(portal, "Virtual server", {"monthly": "20.00"})
        ssl = await item(portal, "SSL certificate", {"monthly": "2.50"}, kind="add_on", parents=[hosting["id"]])
        backup = await item(portal, "Server backup", {"monthly": "3.00"}, kind="add_on", parents=[vps["id"]])
        _, email, headers = await seller(portal, "en")
        sid = (await bought(portal, headers, hosting["id"], "monthly", "site.example.test"))[2]["subscription_id"]

        def add_on(item_id: str, cycle: str, parent: str) -> dict:
            return {"kind": "add_on", "item_id": item_id, "cycle": cycle, "parent_subscription_id": parent}

        offered = ok(await orders.get(f"/v1/services/{sid}/add-ons", headers=headers))["items"]
        assert [a["item_id"] for a in offered] == [ssl["id"]], offered  # not the server backup
        # an inactive parent: suspended by an admin, no add-ons until it is reactivated
        held = ok(await orders.post(f"/v1/admin/services/{sid}/suspend", headers=ADMIN, json={"reason": "maintenance"}))
        assert (held["status"], held["suspend_reason"]) == ("suspended", "maintenance"), held
        inactive = await add_line(portal, headers, add_on(ssl["id"], "monthly", sid))
        assert refused(inactive, 422, "parent_subscription_id")["current_status"] == "suspended"
        back = ok(await orders.post(f"/v1/admin/services/{sid}/reactivate", headers=ADMIN))
        assert (back["status"], back["suspend_reason"]) == ("active", None), back
        # a product it is not offered for
        not_for = refused(await add_line(portal, headers, add_on(backup["id"], "monthly", sid)), 422)
        assert not_for["field"] in ("parent_subscription_id", "item_id"), not_for
        # a cycle it is not offered in
        refused(await add_line(portal, headers, add_on(ssl["id"], "annual", sid)), 422, "cycle")
        # another account's parent
        _, _, other = await seller(portal, "en")
        refused(await add_line(portal, other, add_on(ssl["id"], "monthly", sid)), 404)
        assert ok(await orders.get("/v1/cart", headers=other))["lines"] == []
        assert ok(await orders.get("/v1/cart", headers=headers))["lines"] == []  # the refusals added nothing

        # A week before the parent's due date: 2.50 × 7 days left ÷ 28 = 0.625, half-up 0.63 (not 0.62).
        await at(portal, "2027-02-21")
        cart = await added(portal, headers, add_on(ssl["id"], "monthly", sid))
        [line] = cart["lines"]
        assert (money(line["unit_price"]), money(line["amount"]), money(cart["total"])) == (
            Decimal("2.50"),
            Decimal("0.63"),
            Decimal("0.63"),
        ), cart
        assert (line["period_start"], line["period_end"]) == ("2027-02-21", "2027-02-28"), line
        # once per parent (max_per_parent 1)
        refused(await add_line(portal, headers, add_on(ssl["id"], "monthly", sid)), 422, "parent_subscription_id")
        assert len(ok(await orders.get("/v1/cart", headers=headers))["lines"]) == 1
        # checkout checks the lines again: the parent suspended meanwhile, the add-on is refused
        ok(await orders.post(f"/v1/admin/services/{sid}/suspend", headers=ADMIN, json={"reason": "maintenance"}))
        refused(await orders.post("/v1/cart/checkout", headers={**headers, "Idempotency-Key": "held"}), 422)
        ok(await orders.post(f"/v1/admin/services/{sid}/reactivate", headers=ADMIN))
        placed = await checkout(portal, headers)
        assert [x["kind"] for x in placed["lines"]] == ["add_on"] and money(placed["total"]) == Decimal("0.63")
        invoice = await invoice_of(portal, headers, placed["order_id"])
        assert money(invoice["total"]) == Decimal("0.63")
        await pay(portal, invoice)
        attached = await service_when(portal, headers, sid, lambda s: s["add_ons"], "the add-on to attach")
        assert [(a["name"], a["status"], a["next_due_on"]) for a in attached["add_ons"]] == [
            ("SSL certificate", "active", "2027-02-28")
        ], attached
        # bought, it counts against the limit too
        refused(await add_line(portal, headers, add_on(ssl["id"], "monthly", sid)), 422, "parent_subscription_id")
        await mail(portal, email, ORDER_RECEIVED, "en", "SSL certificate", written_money("0.63", "en"))


async def test_cancelled_at_period_end_gets_no_renewal_and_ends_on_its_due_date(infra, new_database, kafka):
    async with running_portal(infra, new_database, kafka, test_clock=True) as portal:
        orders = portal.http["orders"]
        await at(portal, "2027-01-31")
        hosting = await item(portal, "Web hosting", {"monthly": "10.00"})
        setup = await item(portal, "Store setup", {"one_time": "50.00"})
        _, email, headers = await seller(portal, "de")
        sid = (await bought(portal, headers, hosting["id"], "monthly", "ende.example.test"))[2]["subscription_id"]
        # a second service and a one-time one, on one order
        await added(
            portal,
            headers,
            {"kind": "new", "item_id": hosting["id"], "cycle": "monthly", "domain": "zwei.example.test"},
        )
        cart = await added(
            portal,
            headers,
            {"kind": "new", "item_id": setup["id"], "cycle": "one_time", "domain": "setup.example.test"},
        )
        second, once = (x["subscription_id"] for x in cart["lines"])
        both = await checkout(portal, headers)
        await pay(portal, await invoice_of(portal, headers, both["order_id"]))
        await service_when(portal, headers, once, lambda s: s["status"] == "completed", "the one-time service")
        # and an order left unpaid
        await added(
            portal, headers, {"kind": "new", "item_id": hosting["id"], "cycle": "monthly", "domain": "nie.example.test"}
        )
        unpaid = await checkout(portal, headers)
        unpaid_invoice = await invoice_of(portal, headers, unpaid["order_id"])

        await at(portal, "2027-02-05")
        scheduled = ok(await orders.post(f"/v1/services/{sid}/cancellation", headers=headers))
        assert (scheduled["status"], scheduled["cancel_at_period_end"], scheduled["ends_on"]) == (
            "active",
            True,
            "2027-02-28",
        ), scheduled
        await mail(portal, email, CANCELLATION_SCHEDULED, "de", "ende.example.test", written_date("2027-02-28", "de"))
        refused(await add_line(portal, headers, {"kind": "renewal", "subscription_id": sid}), 422, "subscription_id")
        one_time = refused(await orders.post(f"/v1/services/{once}/cancellation", headers=headers), 409)
        assert one_time["current_status"] == "completed", one_time
        now = ok(await orders.post(f"/v1/admin/services/{second}/cancel", headers=ADMIN))
        assert now["status"] == "cancelled", now
        await mail(portal, email, CANCELLED, "de", "zwei.example.test")

        # No renewal is made; the unpaid order is cancelled after 14 days, its invoice voided.
        await at(portal, "2027-02-14")
        await ran(portal, "renewals", "2027-02-14")
        await ran(portal, "unpaid-orders", "2027-02-13")
        assert (await order(portal, headers, unpaid["order_id"]))["status"] == "placed"
        await ran(portal, "unpaid-orders", "2027-02-14")
        assert (await order(portal, headers, unpaid["order_id"]))["status"] == "cancelled"
        voided = ok(await portal.http["billing"].get(f"/v1/invoices/{unpaid_invoice['id']}", headers=headers))
        assert voided["status"] == "voided", voided
        # the service it would have made is not made (nor listed as live)
        never = await orders.get(f"/v1/services/{unpaid['lines'][0]['subscription_id']}", headers=headers)
        assert never.status_code == 404 or never.json()["status"] == "cancelled", never.text
        await at(portal, "2027-02-27")
        await ran(portal, "renewals", "2027-02-27")
        assert (await service(portal, headers, sid))["status"] == "active"
        assert await invoices(portal, headers, "renewal") == []

        # Its due date: it ends.
        await at(portal, "2027-02-28")
        await ran(portal, "renewals", "2027-02-28")
        ended = await service(portal, headers, sid)
        assert ended["status"] == "cancelled", ended
        assert ended["history"][-1]["to_status"] == "cancelled", ended["history"]
        await mail(portal, email, CANCELLED, "de", "ende.example.test")
        assert await invoices(portal, headers, "renewal") == []
        counts = ok(await orders.get("/v1/services/counts", headers=headers))["counts"]
        assert (counts["completed"], counts["active"], counts["suspended"], counts["pending"]) == (1, 0, 0, 0), counts
        assert counts["cancelled"] in (2, 3), counts  # two services, and the unpaid order's if it was made pending


async def test_every_event_of_the_client_area_delivered_twice_has_its_effect_once(infra, new_database, kafka):
    async with running_portal(infra, new_database, kafka, deliver_twice=True, test_clock=True) as portal:
        await at(portal, "2027-01-31")
        hosting = await item(portal, "Web hosting", {"monthly": "10.00"})
        ssl = await item(portal, "SSL certificate", {"monthly": "2.00"}, kind="add_on", parents=[hosting["id"]])
        account, email, headers = await seller(portal, "pl")
        sid = (await bought(portal, headers, hosting["id"], "monthly", "dwa.example.test"))[2]["subscription_id"]
        await added(
            portal, headers, {"kind": "add_on", "item_id": ssl["id"], "cycle": "monthly", "parent_subscription_id": sid}
        )
        add_on_order = await checkout(portal, headers)
        await pay(portal, await invoice_of(portal, headers, add_on_order["order_id"]))
        await service_when(portal, headers, sid, lambda s: s["add_ons"], "the add-on to attach")

        await at(portal, "2027-02-14")
        await ran(portal, "renewals", "2027-02-14")
        renewal = await renewal_invoice(portal, headers, "2027-02-28")
        await at(portal, "2027-03-01")
        await ran(portal, "overdue", "2027-03-01")
        await at(portal, "2027-03-07")
        await ran(portal, "overdue", "2027-03-07")
        await at(portal, "2027-03-08")
        await pay(portal, renewal)
        await service_when(
            portal, headers, sid, lambda s: s["status"] == "active" and s["next_due_on"] == "2027-03-31", "reactivation"
        )

        async def all_handed_twice():
            events = await portal.flow_events(account, {hosting["id"], ssl["id"]})
            short = [
                (name, e["type"])
                for e in events
                for name in portal.consumers_of(e)
                if portal.handed[(name, e["id"])] < 2
            ]
            return events if not short else None

        events = await eventually(all_handed_twice, what="every event handed to its consumers twice", timeout=60)
        await settled(portal)
        types = [e["type"] for e in events]
        for expected in (
            "OrderPlaced",
            "InvoiceIssued",
            "PaymentConfirmed",
            "ServiceActivated",
            "ServiceOverdue",
            "ServiceSuspended",
            "ServiceReactivated",
            "ServiceRenewed",
        ):
            assert expected in types, f"{expected} not published in the flow: {types}"
        stats = {name: rt.consumer.stats for name, rt in portal.runtimes.items()}
        assert all(stats[name]["duplicates"] > 0 for name in ("orders", "billing", "notify")), stats
        assert all(s["dead_lettered"] == 0 for s in stats.values()), stats

        # one invoice per order (two cart orders, one renewal), one renewal, once per event
        assert (
            len(await invoices(portal, headers, "order")) == 2 and len(await invoices(portal, headers, "renewal")) == 1
        )
        assert types.count("OrderPlaced") == 3 and types.count("ServiceRenewed") == 1, types
        now = await service(portal, headers, sid)
        assert (now["next_due_on"], [a["next_due_on"] for a in now["add_ons"]]) == ("2027-03-31", ["2027-03-31"])
        moves = [(h["from_status"], h["to_status"], h["by"], h["note"]) for h in now["history"]]
        assert [(a, b) for a, b, _, _ in moves if a != b].count(("active", "suspended")) == 1, moves
        assert sum(1 for a, b, _, _ in moves if a == b) == 1, moves  # the one renewal, recorded once

        # one email per event: every delivery's cause is another event, and the sink has each once
        deliveries = ok(
            await portal.http["notify"].get(
                "/v1/deliveries", headers=ADMIN, params={"account_id": account, "limit": 100}
            )
        )["items"]
        assert len({d["cause_event_id"] for d in deliveries}) == len(deliveries)
        sent = await templates_sent(portal, email)
        assert sorted(sent) == sorted(d["template"] for d in deliveries), (sent, deliveries)
        for template, event in (
            (OVERDUE, "ServiceOverdue"),
            (SUSPENDED, "ServiceSuspended"),
            (REACTIVATED, "ServiceReactivated"),
            (RENEWED, "ServiceRenewed"),
            (ACTIVATED, "ServiceActivated"),
        ):
            assert sent.count(template) == types.count(event) >= 1, (template, sent, types)
        assert types.count("ServiceSuspended") == types.count("ServiceReactivated") == 1, types
        # three invoices (the renewal's email is its invoice), a payment email for each payment
        assert sent.count(ORDER_INVOICE) == 3 and sent.count(ORDER_RECEIVED) == 2, sent
        assert sent.count(PAYMENT) == types.count("PaymentReceived") == 3, (sent, types)


async def test_an_add_on_bought_after_its_parents_renewal_invoice_gets_its_own_for_that_due_date(
    infra, new_database, kafka
):
    async with running_portal(infra, new_database, kafka, test_clock=True) as portal:
        await at(portal, "2027-01-31")
        hosting = await item(portal, "Web hosting", {"monthly": "10.00"})
        backup = await item(portal, "Daily backup", {"monthly": "2.80"}, kind="add_on", parents=[hosting["id"]])
        _, email, headers = await seller(portal, "de")
        sid = (await bought(portal, headers, hosting["id"], "monthly", "spaet.example.test"))[2]["subscription_id"]
        await at(portal, "2027-02-14")
        await ran(portal, "renewals", "2027-02-14")
        first = await renewal_invoice(portal, headers, "2027-02-28")

        # The next day, an add-on (2.80 × 13 ÷ 28 = 1.30); the issued invoice does not change.
        await at(portal, "2027-02-15")
        cart = await added(
            portal,
            headers,
            {"kind": "add_on", "item_id": backup["id"], "cycle": "monthly", "parent_subscription_id": sid},
        )
        assert money(cart["total"]) == Decimal("1.30"), cart
        placed = await checkout(portal, headers)
        await pay(portal, await invoice_of(portal, headers, placed["order_id"]))
        add_on = (await service_when(portal, headers, sid, lambda s: s["add_ons"], "the add-on"))["add_ons"][0]
        await ran(portal, "renewals", "2027-02-15")
        due = [i for i in await invoices(portal, headers, "renewal") if i["due_on"] == "2027-02-28"]
        assert len(due) == 2, due
        [second] = [i for i in due if i["id"] != first["id"]]
        second = ok(await portal.http["billing"].get(f"/v1/invoices/{second['id']}", headers=headers))
        assert [
            (x["subscription_id"], money(x["line_total"]), x["period_start"], x["period_end"]) for x in second["lines"]
        ] == [(add_on["subscription_id"], Decimal("2.80"), "2027-02-28", "2027-03-31")], second["lines"]
        unchanged = ok(await portal.http["billing"].get(f"/v1/invoices/{first['id']}", headers=headers))
        assert [x["subscription_id"] for x in unchanged["lines"]] == [sid] and money(unchanged["total"]) == 10
        await mail(portal, email, RENEWAL_INVOICE, "de", second["number"], "Daily backup")

        # Both paid: each renews once; the job the day after makes nothing more.
        await pay(portal, first)
        await pay(portal, second)
        renewed = await service_when(
            portal,
            headers,
            sid,
            lambda s: s["next_due_on"] == "2027-03-31" and [a["next_due_on"] for a in s["add_ons"]] == ["2027-03-31"],
            "both renewals to be fulfilled",
        )
        assert renewed["status"] == "active", renewed
        await at(portal, "2027-02-16")
        await ran(portal, "renewals", "2027-02-16")
        assert len(await invoices(portal, headers, "renewal")) == 2
