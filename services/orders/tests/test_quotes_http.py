"""Quotes over HTTP on the real PostgreSQL (and Kafka): an admin prepares, revises and sends a quote;
the customer sees it (not the draft; another account gets 404), accepts it twice after the catalog's
prices changed (one order, at the quote's prices), rejects another (accepting it is a 409), and one
expires through the `quotes` job run as of dates while the test clock moves (expiring told once)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from orders.bootstrap import definition
from orders.domain.offers import Offer
from orders.service.catalog_copy import CatalogCopy
from portal_runtime.clock import FrozenClock
from portal_runtime.db import OutboxRecord
from portal_runtime.testing import bearer, running_service

OPS, ACME, OTHER = bearer("ops", "admin"), bearer("acme"), bearer("other")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TODAY = NOW.date()


def good(name: str, price: str, revision: int = 1, item_id: uuid.UUID | None = None) -> Offer:
    return Offer(
        item_id=item_id or uuid.uuid4(),
        revision=revision,
        sku=f"SKU-{name}",
        name=name,
        price=Decimal(price),
        currency="EUR",
        billing="one_time",
        kind="good",
        prices=(("one_time", Decimal(price)),),
    )


async def events(rt, event_type: str) -> list[dict]:
    stmt = select(OutboxRecord).where(OutboxRecord.event_type == event_type).order_by(OutboxRecord.id)
    async with rt.sessions() as s:
        return [r.envelope["data"] for r in await s.scalars(stmt)]


def body(*lines: dict, valid_until: date, account: str = "acme", note: str = "") -> dict:
    return {"account_id": account, "lines": list(lines), "valid_until": valid_until.isoformat(), "note": note}


async def sent(http, *lines: dict, valid_until: date) -> dict:
    r = await http.post("/v1/admin/quotes", json=body(*lines, valid_until=valid_until), headers=OPS)
    assert r.status_code == 201, r.text
    r = await http.post(f"/v1/admin/quotes/{r.json()['quote_id']}/send", headers=OPS)
    assert r.status_code == 200 and r.json()["status"] == "sent", r.text
    return r.json()


async def test_a_quote_prepared_sent_accepted_twice_is_one_order_at_its_prices_and_rejected(new_database, kafka):
    url = await new_database("orders")
    async with running_service(definition(), database_url=url, kafka=kafka, clock=FrozenClock(NOW)) as (rt, http):
        copy = CatalogCopy(rt.uow)
        pump, valve = good("Pump", "200.00"), good("Valve", "15.00")
        for item in (pump, valve):
            await copy.apply(item)
        lines = ({"item_id": str(pump.item_id), "quantity": 2, "unit_price": "180.00"},)
        until = TODAY + timedelta(days=30)

        past = await http.post(
            "/v1/admin/quotes", json=body(*lines, valid_until=TODAY - timedelta(days=1)), headers=OPS
        )
        assert past.status_code == 422 and past.json()["field"] == "valid_until", past.text
        price = await http.post(
            "/v1/admin/quotes",
            json=body({"item_id": str(pump.item_id), "quantity": 1, "unit_price": "-1"}, valid_until=until),
            headers=OPS,
        )
        # outside what the schema allows (decimal text, 0 or more, 2 places): 400 naming the field
        assert price.status_code == 400 and "unit_price" in price.json()["field"], price.text
        assert (
            await http.post("/v1/admin/quotes", json=body(*lines, valid_until=until), headers=ACME)
        ).status_code == 403

        r = await http.post("/v1/admin/quotes", json=body(*lines, valid_until=until, note="Spring"), headers=OPS)
        assert r.status_code == 201, r.text
        draft = r.json()
        assert (draft["status"], draft["number"], Decimal(draft["total"])) == ("draft", "Q-000001", Decimal("360.00"))
        quote_id = draft["quote_id"]
        assert (await http.get(f"/v1/quotes/{quote_id}", headers=ACME)).status_code == 404  # a draft: the admin's
        revised = await http.put(
            f"/v1/admin/quotes/{quote_id}",
            json=body(*lines, {"item_id": str(valve.item_id), "quantity": 10}, valid_until=until, note="Spring"),
            headers=OPS,
        )
        assert revised.status_code == 200 and Decimal(revised.json()["total"]) == Decimal("510.00"), revised.text
        r = await http.post(f"/v1/admin/quotes/{quote_id}/send", headers=OPS)
        assert r.status_code == 200 and r.json()["status"] == "sent", r.text
        again = await http.post(f"/v1/admin/quotes/{quote_id}/send", headers=OPS)
        assert again.status_code == 409 and again.json()["current_status"] == "sent", again.text

        mine = (await http.get("/v1/quotes", headers=ACME)).json()["items"]
        assert [(q["quote_id"], q["status"]) for q in mine] == [(quote_id, "sent")]
        assert (await http.get("/v1/quotes", headers=OTHER)).json()["items"] == []
        assert (await http.get(f"/v1/quotes/{quote_id}", headers=OTHER)).status_code == 404
        assert (await http.post(f"/v1/quotes/{quote_id}/accept", headers=OTHER)).status_code == 404
        (told,) = await events(rt, "QuoteSent")
        assert (told["number"], told["total"]["amount"], told["note"]) == ("Q-000001", "510.00", "Spring")

        # the catalog's prices change; accepting twice answers one order at the quote's prices
        await copy.apply(good("Pump", "250.00", revision=2, item_id=pump.item_id))
        await copy.apply(good("Valve", "17.00", revision=2, item_id=valve.item_id))
        accept = f"/v1/quotes/{quote_id}/accept"
        at_once = await asyncio.gather(*(http.post(accept, headers=ACME) for _ in range(3)))
        first, second = at_once[0], await http.post(accept, headers=ACME)
        assert [a.status_code for a in [*at_once, second]] == [200] * 4, [a.text for a in at_once]
        order = first.json()
        assert {a.json()["order_id"] for a in [*at_once, second]} == {order["order_id"]}
        assert order["quote_id"] == quote_id
        assert (order["source"], Decimal(order["total"])) == ("quote", Decimal("510.00")), order
        figures = sorted((line["item_id"], line["quantity"], Decimal(line["unit_price"])) for line in order["lines"])
        assert figures == sorted(
            [(str(pump.item_id), 2, Decimal("180.00")), (str(valve.item_id), 10, Decimal("15.00"))]
        )
        orders = (await http.get("/v1/orders", headers=ACME)).json()["items"]
        assert [o["order_id"] for o in orders] == [order["order_id"]]
        accepted = (await http.get(f"/v1/quotes/{quote_id}", headers=ACME)).json()
        assert (accepted["status"], accepted["order_id"]) == ("accepted", order["order_id"])
        assert [h["to_status"] for h in accepted["history"]] == ["draft", "sent", "accepted"]
        assert [e["order_id"] for e in await events(rt, "QuoteAccepted")] == [order["order_id"]]

        # rejected: accepting it is a 409 naming its status
        declined = await sent(http, {"item_id": str(pump.item_id), "quantity": 1}, valid_until=until)
        assert Decimal(declined["total"]) == Decimal("250.00")  # today's catalog price by default
        r = await http.post(f"/v1/quotes/{declined['quote_id']}/reject", json={"reason": "too dear"}, headers=ACME)
        assert r.status_code == 200 and (r.json()["status"], r.json()["reason"]) == ("rejected", "too dear"), r.text
        late = await http.post(f"/v1/quotes/{declined['quote_id']}/accept", headers=ACME)
        assert late.status_code == 409 and late.json()["current_status"] == "rejected", late.text
        assert [e["reason"] for e in await events(rt, "QuoteRejected")] == ["too dear"]
        admin_list = (await http.get("/v1/admin/quotes", params={"status": "rejected"}, headers=OPS)).json()
        assert [q["quote_id"] for q in admin_list["items"]] == [declined["quote_id"]]


async def test_the_quotes_job_tells_expiring_once_and_expires_it_as_the_clock_moves(new_database, kafka):
    url = await new_database("orders")
    clock = FrozenClock(NOW)
    async with running_service(definition(), database_url=url, kafka=kafka, clock=clock) as (rt, http):
        valve = good("Valve", "15.00")
        await CatalogCopy(rt.uow).apply(valve)
        until = TODAY + timedelta(days=10)
        lapsing = await sent(http, {"item_id": str(valve.item_id), "quantity": 3}, valid_until=until)

        async def run(day: date) -> dict:
            clock._at = datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)
            r = await http.post("/v1/admin/jobs/quotes/run", json={"as_of": day.isoformat()}, headers=OPS)
            assert r.status_code == 200, r.text
            return r.json()["result"]

        assert await run(until - timedelta(days=4)) == {"as_of": "2026-03-08", "expiring": [], "expired": []}
        assert (await run(until - timedelta(days=3)))["expiring"] == [lapsing["number"]]
        repeat = await http.post("/v1/admin/jobs/quotes/run", json={"as_of": "2026-03-09"}, headers=OPS)
        assert repeat.status_code == 409, repeat.text  # the same date runs once
        assert (await run(until))["expiring"] == []  # told once
        assert (await http.get(f"/v1/quotes/{lapsing['quote_id']}", headers=ACME)).json()["status"] == "sent"
        assert (await run(until + timedelta(days=1)))["expired"] == [lapsing["number"]]
        shown = (await http.get(f"/v1/quotes/{lapsing['quote_id']}", headers=ACME)).json()
        assert shown["status"] == "expired" and shown["history"][-1]["by"] == "quotes"
        late = await http.post(f"/v1/quotes/{lapsing['quote_id']}/accept", headers=ACME)
        assert late.status_code == 409 and late.json()["current_status"] == "expired", late.text
        assert [e["quote_id"] for e in await events(rt, "QuoteExpiring")] == [lapsing["quote_id"]]
        assert [e["quote_id"] for e in await events(rt, "QuoteExpired")] == [lapsing["quote_id"]]
        assert (await http.get("/v1/orders", headers=ACME)).json()["items"] == []
