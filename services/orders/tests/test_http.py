"""Orders over HTTP with its real consumers, on the real Kafka and PostgreSQL: catalog's events
fill the copy, a customer drafts and submits, an admin reviews, billing's payment activates."""

from __future__ import annotations

import uuid

from aiokafka import AIOKafkaProducer
from orders_testkit import NOW, payment, published, retired
from sqlalchemy import func, select

from orders.adapters.events import offer_from_published
from orders.bootstrap import definition
from orders.service.catalog_copy import CatalogCopy
from portal_contracts import Envelope, Event
from portal_runtime.clock import FrozenClock
from portal_runtime.db import InboxRecord, OutboxRecord
from portal_runtime.testing import bearer, eventually, running_service

ACME, OTHER, OPS = bearer("acme"), bearer("other"), bearer("ops", "admin")


async def produce(kafka: str, *events: Event | bytes) -> list[Envelope]:
    """Put events on their topics as their producers would (keyed by the aggregate id)."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka, enable_idempotence=True)
    await producer.start()
    sent = []
    try:
        for e in events:
            env = e if isinstance(e, Envelope) else Envelope.wrap(e, producer="test", occurred_at=NOW)
            await producer.send_and_wait(env.payload().topic, env.model_dump_json().encode(), key=env.key.encode())
            sent.append(env)
    finally:
        await producer.stop()
    return sent


async def offered(rt, item_id: uuid.UUID, revision: int, status: str = "offered"):
    async with rt.uow() as uow:
        o = await uow.offers.get(item_id)
    return o if o and o.revision == revision and o.status == status else None


async def inboxed(rt, event_id: uuid.UUID) -> bool:
    async with rt.sessions() as s:
        return await s.get(InboxRecord, event_id) is not None


async def outbox_count(rt, event_type: str, *, published_only: bool = False) -> int:
    stmt = select(func.count()).select_from(OutboxRecord).where(OutboxRecord.event_type == event_type)
    if published_only:
        stmt = stmt.where(OutboxRecord.published_at.is_not(None))
    async with rt.sessions() as s:
        return await s.scalar(stmt)


async def test_from_catalog_events_to_active_subscriptions(new_database, kafka):
    seo, setup, old = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    url = await new_database("orders")
    async with running_service(definition(), database_url=url, kafka=kafka, clock=FrozenClock(NOW)) as (rt, http):
        await produce(
            kafka,
            published(seo, revision=2, price="49.90", name="SEO", months=1),
            published(seo, revision=1, price="1.00", name="stale"),  # late and older: ignored
            published(setup, price="100.00", name="Setup", billing="one_time"),
            published(old, name="Old"),
            retired(old, revision=2),
        )
        await eventually(lambda: offered(rt, seo, 2), what="SEO rev 2 in the copy")
        await eventually(lambda: offered(rt, setup, 1), what="Setup in the copy")
        await eventually(lambda: offered(rt, old, 2, "retired"), what="Old retired in the copy")
        assert (await offered(rt, seo, 2)).name == "SEO"

        r = await http.post("/v1/requests", json={"lines": [{"item_id": str(seo), "quantity": 2}]}, headers=ACME)
        assert r.status_code == 201, r.text
        rid = r.json()["id"]
        r = await http.put(f"/v1/requests/{rid}/lines/{setup}", json={"quantity": 1}, headers=ACME)
        assert r.status_code == 200, r.text
        r = await http.put(f"/v1/requests/{rid}/lines/{old}", json={"quantity": 1}, headers=ACME)
        assert r.status_code == 422 and r.json()["field"] == "item_id" and r.json()["item_id"] == str(old)
        assert "retry-after" not in r.headers  # retired: known, and not coming back
        # unknown to the copy (created a moment ago, its event not here yet): ask again later
        fresh = uuid.uuid4()
        r = await http.put(f"/v1/requests/{rid}/lines/{fresh}", json={"quantity": 1}, headers=ACME)
        assert r.status_code == 409 and r.headers["retry-after"] == "1", r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["type"] == "https://portal.example/problems/not-offered-yet"
        assert (r.json()["field"], r.json()["item_id"]) == ("item_id", str(fresh))
        await produce(kafka, published(fresh, price="5.00", name="Fresh", billing="one_time"))
        await eventually(lambda: offered(rt, fresh, 1), what="the fresh item in the copy")
        r = await http.put(f"/v1/requests/{rid}/lines/{fresh}", json={"quantity": 1}, headers=ACME)
        assert r.status_code == 200, r.text
        r = await http.delete(f"/v1/requests/{rid}/lines/{fresh}", headers=ACME)
        assert r.status_code == 200, r.text
        body = (await http.get(f"/v1/requests/{rid}", headers=ACME)).json()
        assert body["status"] == "draft" and body["total"] == "199.80" and body["currency"] == "EUR"
        assert [
            (line["name"], line["quantity"], line["unit_price"], line["line_total"], line["billing"])
            for line in body["lines"]
        ] == [("SEO", 2, "49.90", "99.80", "recurring"), ("Setup", 1, "100.00", "100.00", "one_time")]
        listed = (await http.get("/v1/requests", headers=ACME)).json()
        assert [(i["id"], i["status"]) for i in listed["items"]] == [(rid, "draft")] and listed["total"] == 1

        r = await http.post(f"/v1/requests/{rid}/submit", headers=ACME)
        assert r.status_code == 200 and r.json()["status"] == "submitted", r.text
        page = (
            await http.get("/v1/admin/requests", params={"status": "submitted", "account_id": "acme"}, headers=OPS)
        ).json()
        assert [i["id"] for i in page["items"]] == [rid] and page["items"][0]["total"] == "199.80"
        r = await http.post(f"/v1/admin/requests/{rid}/ask", json={"question": "Which domain?"}, headers=OPS)
        assert r.json()["status"] == "information_requested", r.text
        r = await http.post(f"/v1/requests/{rid}/answer", json={"answer": "acme.example"}, headers=ACME)
        assert r.json()["status"] == "submitted", r.text
        r = await http.post(f"/v1/admin/requests/{rid}/approve", headers=OPS)
        assert r.status_code == 200 and r.json()["status"] == "approved", r.text

        [paid] = await produce(kafka, payment(uuid.UUID(rid), "acme", "199.80"))
        await produce(kafka, paid)  # the same event delivered again
        [again] = await produce(kafka, payment(uuid.UUID(rid), "acme", "199.80"))  # another one, same request
        subs = await eventually(lambda: _items(http.get("/v1/subscriptions", headers=ACME)), what="subscriptions")
        assert [
            (s["name"], s["quantity"], s["unit_price"], s["billing"], s["status"], s["next_due_on"]) for s in subs
        ] == [
            ("SEO", 2, "49.90", "recurring", "active", "2026-02-28"),
            ("Setup", 1, "100.00", "one_time", "active", None),
        ]
        assert {s["activated_on"] for s in subs} == {"2026-01-31"}
        assert (await http.get(f"/v1/requests/{rid}", headers=ACME)).json()["status"] == "active"
        await eventually(lambda: rt.consumer.stats["duplicates"] >= 1, what="the redelivery to be seen")
        await eventually(lambda: inboxed(rt, again.event_id), what="the second confirmation to be applied")
        await eventually(lambda: outbox_count(rt, "ServicesActivated", published_only=True), what="activation relayed")
        assert await outbox_count(rt, "ServicesActivated") == 1
        assert (await http.get("/v1/subscriptions", headers=OTHER)).json()["items"] == []
        foreign = (await http.get("/v1/subscriptions", params={"account_id": "acme"}, headers=OTHER)).json()
        assert (foreign["items"], foreign["total"]) == ([], 0)  # another account's: an empty page
        first = (await http.get("/v1/subscriptions", params={"account_id": "acme", "limit": 1}, headers=OPS)).json()
        assert (first["total"], [s["name"] for s in first["items"]]) == (2, ["SEO"])
        history = (await http.get(f"/v1/requests/{rid}/history", headers=OPS)).json()
        assert history["total"] == 6 and (history["limit"], history["offset"]) == (50, 0)
        assert [h["to_status"] for h in history["items"]] == [
            "draft",
            "submitted",
            "information_requested",
            "submitted",
            "approved",
            "active",
        ]
        for kind in ("RequestSubmitted", "InformationRequested", "InformationProvided", "RequestApproved"):
            assert await outbox_count(rt, kind) == 1, kind


def fields(r) -> list[str]:
    """The fields a 400 names (Litestar lists them under `extra`)."""
    return [e.get("key") for e in r.json().get("extra", [])]


async def _items(pending):
    r = await pending
    return r.json()["items"] or None


async def test_who_may_do_what_and_errors_name_the_field(new_database, kafka):
    async with running_service(definition(), database_url=await new_database("orders"), kafka=kafka) as (rt, http):
        eur, usd = uuid.uuid4(), uuid.uuid4()
        copy = CatalogCopy(rt.uow)
        await copy.apply(offer_from_published(published(eur, price="10.00")))
        await copy.apply(offer_from_published(published(usd, currency="USD")))
        rid = (
            await http.post("/v1/requests", json={"lines": [{"item_id": str(eur), "quantity": 1}]}, headers=ACME)
        ).json()["id"]
        base = f"/v1/requests/{rid}"

        # 401 without a (valid) token
        assert (await http.get("/v1/requests")).status_code == 401
        assert (await http.get("/v1/requests", headers={"Authorization": "Bearer nope"})).status_code == 401
        # 403 for a customer on admin endpoints
        assert (await http.get("/v1/admin/requests", headers=ACME)).status_code == 403
        for action, body in (("approve", None), ("reject", {"reason": "x"}), ("ask", {"question": "x"})):
            assert (await http.post(f"/v1/admin/requests/{rid}/{action}", json=body, headers=ACME)).status_code == 403
        # 404 for another account's request, on every endpoint
        for method, path, body in (
            ("GET", base, None),
            ("GET", f"{base}/history", None),
            ("PUT", f"{base}/lines/{eur}", {"quantity": 2}),
            ("DELETE", f"{base}/lines/{eur}", None),
            ("DELETE", base, None),
            ("POST", f"{base}/submit", None),
            ("POST", f"{base}/answer", {"answer": "x"}),
        ):
            r = await http.request(method, path, json=body, headers=OTHER)
            assert r.status_code == 404, (method, path, r.text)
        assert (await http.post(f"/v1/admin/requests/{uuid.uuid4()}/approve", headers=OPS)).status_code == 404
        assert (await http.get(base, headers=OPS)).status_code == 200  # admins read any request

        # 400 naming the field: unknown field, wrong type, bad enum, bad query; malformed JSON
        r = await http.put(f"{base}/lines/{eur}", json={"quantity": 1, "colour": "red"}, headers=ACME)
        assert r.status_code == 400 and fields(r) == ["colour"], r.text
        r = await http.put(f"{base}/lines/{eur}", json={"quantity": "two"}, headers=ACME)
        assert r.status_code == 400 and fields(r) == ["quantity"], r.text
        r = await http.put(f"{base}/lines/{eur}", json={"quantity": 0}, headers=ACME)
        assert r.status_code == 400 and fields(r) == ["quantity"], r.text
        r = await http.post("/v1/requests", json={"lines": [{"item_id": "not-a-uuid", "quantity": 1}]}, headers=ACME)
        assert r.status_code == 400 and fields(r) == ["lines.0.item_id"], r.text
        r = await http.put(f"{base}/lines/{eur}", content=b'{"quantity": ', headers=ACME)
        assert r.status_code == 400, r.text
        r = await http.put("/v1/account/profile", json={"email": "a@b.de", "language": "fr"}, headers=ACME)
        assert r.status_code == 400 and fields(r) == ["language"], r.text
        r = await http.get("/v1/admin/requests", params={"status": "bogus"}, headers=OPS)
        assert r.status_code == 400 and fields(r) == ["status"], r.text
        r = await http.get("/v1/admin/requests", params={"submitted_from": "yesterday"}, headers=OPS)
        assert r.status_code == 400 and fields(r) == ["submitted_from"], r.text
        # 422 naming the field: rules the domain refuses
        r = await http.put(f"{base}/lines/{usd}", json={"quantity": 1}, headers=ACME)
        assert r.status_code == 422 and r.json()["field"] == "item_id", r.text
        r = await http.post(
            "/v1/requests",
            json={"lines": [{"item_id": str(eur), "quantity": 1}, {"item_id": str(usd), "quantity": 1}]},
            headers=ACME,
        )
        assert r.status_code == 422 and r.json()["field"] == "lines[1].item_id", r.text
        empty = (await http.post("/v1/requests", headers=ACME)).json()["id"]
        r = await http.post(f"/v1/requests/{empty}/submit", headers=ACME)
        assert r.status_code == 409 and r.json()["field"] == "lines", r.text
        r = await http.put("/v1/account/profile", json={"email": "not an email", "language": "en"}, headers=ACME)
        assert r.status_code == 400 and r.json()["field"] == "email", r.text  # the document's pattern

        # 409 with the current status, and nothing changes
        r = await http.post(f"/v1/admin/requests/{rid}/approve", headers=OPS)
        assert r.status_code == 409 and r.json()["current_status"] == "draft", r.text
        assert (await http.post(f"{base}/submit", headers=ACME)).status_code == 200
        r = await http.put(f"{base}/lines/{eur}", json={"quantity": 9}, headers=ACME)
        assert r.status_code == 409 and r.json()["current_status"] == "submitted", r.text
        assert (await http.delete(base, headers=ACME)).status_code == 409
        assert (
            await http.post(f"/v1/admin/requests/{rid}/reject", json={"reason": "No capacity"}, headers=OPS)
        ).json()["status"] == "rejected"
        r = await http.post(f"/v1/admin/requests/{rid}/approve", headers=OPS)
        assert r.status_code == 409 and r.json()["current_status"] == "rejected", r.text
        after = (await http.get(base, headers=ACME)).json()
        assert after["status"] == "rejected" and [line["quantity"] for line in after["lines"]] == [1]
        assert [h["to_status"] for h in (await http.get(f"{base}/history", headers=ACME)).json()["items"]] == [
            "draft",
            "submitted",
            "rejected",
        ]

        # the caller's own profile
        assert (await http.get("/v1/account/profile", headers=ACME)).status_code == 404
        r = await http.put("/v1/account/profile", json={"email": "ops@acme.example", "language": "pl"}, headers=ACME)
        assert r.status_code == 200 and r.json()["language"] == "pl", r.text
        assert (await http.get("/v1/account/profile", headers=ACME)).json()["email"] == "ops@acme.example"
        assert (await http.get("/v1/account/profile", headers=OTHER)).status_code == 404
        assert await outbox_count(rt, "AccountProfileChanged") == 1

        # discarding a draft; lines removed one by one
        other_draft = (
            await http.post("/v1/requests", json={"lines": [{"item_id": str(eur), "quantity": 3}]}, headers=ACME)
        ).json()["id"]
        r = await http.delete(f"/v1/requests/{other_draft}/lines/{eur}", headers=ACME)
        assert r.status_code == 200 and r.json()["lines"] == [] and r.json()["total"] is None, r.text
        r = await http.delete(f"/v1/requests/{other_draft}", headers=ACME)
        assert r.status_code == 200 and r.json()["status"] == "discarded", r.text
        page = (await http.get("/v1/admin/requests", params={"limit": 2, "offset": 0}, headers=OPS)).json()
        assert page["total"] == 3 and len(page["items"]) == 2


# Every action a customer or admin can take on a request over HTTP, and the status it needs.
HTTP_ACTIONS = {
    "submit": (ACME, "POST", "/v1/requests/{rid}/submit", None, {"draft"}),
    "discard": (ACME, "DELETE", "/v1/requests/{rid}", None, {"draft"}),
    "set_line": (ACME, "PUT", "/v1/requests/{rid}/lines/{item}", {"quantity": 3}, {"draft"}),
    "remove_line": (ACME, "DELETE", "/v1/requests/{rid}/lines/{item}", None, {"draft"}),
    "answer": (ACME, "POST", "/v1/requests/{rid}/answer", {"answer": "shop.example"}, {"information_requested"}),
    "ask": (OPS, "POST", "/v1/admin/requests/{rid}/ask", {"question": "Which shop?"}, {"submitted"}),
    "approve": (OPS, "POST", "/v1/admin/requests/{rid}/approve", None, {"submitted"}),
    "reject": (
        OPS,
        "POST",
        "/v1/admin/requests/{rid}/reject",
        {"reason": "No."},
        {"submitted", "information_requested"},
    ),
}
# How to bring a fresh draft into each status over HTTP (and billing's event for "active").
ROUTES = {
    "draft": [],
    "submitted": ["submit"],
    "discarded": ["discard"],
    "information_requested": ["submit", "ask"],
    "approved": ["submit", "approve"],
    "rejected": ["submit", "reject"],
    "active": ["submit", "approve"],
}


async def test_every_forbidden_transition_answers_409_and_changes_nothing(new_database, kafka):
    item = uuid.uuid4()
    url = await new_database("orders")
    async with running_service(definition(), database_url=url, kafka=kafka) as (rt, http):
        await produce(kafka, published(item, price="25.00", name="Banner"))
        await eventually(lambda: offered(rt, item, 1), what="the item in the copy")

        async def act(action: str, rid: str):
            who, method, path, body, _ = HTTP_ACTIONS[action]
            return await http.request(method, path.format(rid=rid, item=item), headers=who, json=body)

        async def snapshot(rid: str):
            request = (await http.get(f"/v1/requests/{rid}", headers=ACME)).json()
            history = (await http.get(f"/v1/requests/{rid}/history", headers=ACME)).json()
            async with rt.sessions() as s:
                outbox = await s.scalar(select(func.count()).select_from(OutboxRecord))
            return request, history, outbox

        refused = 0
        for status, route in ROUTES.items():
            for action, (_, _, _, _, allowed_from) in HTTP_ACTIONS.items():
                if status in allowed_from:
                    continue
                r = await http.post(
                    "/v1/requests", headers=ACME, json={"lines": [{"item_id": str(item), "quantity": 1}]}
                )
                rid = r.json()["id"]
                for step in route:
                    assert (await act(step, rid)).status_code == 200, (status, step)
                if status == "active":
                    await produce(kafka, payment(uuid.UUID(rid), "acme", "25.00"))

                    async def active(rid=rid):
                        return (await http.get(f"/v1/requests/{rid}", headers=ACME)).json()["status"] == "active"

                    await eventually(active, what="the request to be active")
                before = await snapshot(rid)
                assert before[0]["status"] == status
                r = await act(action, rid)
                assert r.status_code == 409, (status, action, r.status_code, r.text)
                assert r.json()["current_status"] == status, (status, action, r.text)
                assert await snapshot(rid) == before, f"{action} on a {status} request changed something"
                refused += 1
        assert refused == 7 * 8 - 9  # each action is allowed from one status, reject from two
