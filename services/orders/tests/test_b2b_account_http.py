"""On real PostgreSQL (and Kafka): orders' copy of catalog's access groups and the visibility rule
(no group: everything; groups: the union of their items; a deleted group frees its accounts; an
older revision changes nothing), support requests both ways over HTTP (a portal user's own contact
or the account profile's, numbers, scoping, replies re-open, closed takes nothing more, the events)
and the company's contact details (validated, with history, admins for any account)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select

from orders.bootstrap import definition
from orders.service.visibility import Visibility, apply_group
from portal_runtime.db import OutboxRecord
from portal_runtime.testing import bearer, running_service

OPS, ACME, OTHER = bearer("ops", "admin"), bearer("acme"), bearer("other")
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def events(rt, event_type: str) -> list[dict]:
    stmt = select(OutboxRecord).where(OutboxRecord.event_type == event_type).order_by(OutboxRecord.id)
    async with rt.sessions() as s:
        return [r.envelope["data"] for r in await s.scalars(stmt)]


async def test_visibility_follows_the_groups_union_deletion_and_revisions(new_database, kafka):
    url = await new_database("orders")
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    g1, g2 = uuid.uuid4(), uuid.uuid4()
    seen = Visibility()
    async with running_service(definition(), database_url=url, kafka=kafka) as (rt, _):
        async with rt.sessions() as s, s.begin():
            assert await seen.visible_items(s, "acme") is None  # in no group: everything
            assert await seen.check(s, "acme", [a, b]) == set()
            assert await apply_group(
                s, group_id=g1, revision=1, changed_at=T0, name="pumps", item_ids=[a], account_ids=["acme"]
            )
            assert await apply_group(
                s, group_id=g2, revision=1, changed_at=T0, name="valves", item_ids=[b], account_ids=["acme", "globex"]
            )
            assert await seen.visible_items(s, "acme") == {a, b}  # the union
            assert await seen.check(s, "acme", [a, b, c]) == {c}
            assert await seen.visible_items(s, "globex") == {b}
            assert await seen.visible_items(s, "initech") is None
            # an older revision arriving late changes nothing; the same one again neither
            assert not await apply_group(
                s, group_id=g1, revision=1, changed_at=T0, name="pumps", item_ids=[c], account_ids=["acme"]
            )
            assert await seen.check(s, "acme", [c]) == {c}
            # a newer one does: acme leaves g1
            assert await apply_group(
                s, group_id=g1, revision=2, changed_at=T0, name="pumps", item_ids=[a], account_ids=[]
            )
            assert await seen.visible_items(s, "acme") == {b}
            # deleted: globex and acme are free of g2; an older change after the deletion stays ignored
            assert await apply_group(s, group_id=g2, revision=2, changed_at=T0, deleted=True)
            assert not await apply_group(
                s, group_id=g2, revision=1, changed_at=T0, name="valves", item_ids=[b], account_ids=["acme"]
            )
            assert await seen.visible_items(s, "acme") is None
            assert await seen.visible_items(s, "globex") is None


async def test_support_requests_both_ways_with_numbers_scoping_and_events(new_database, kafka):
    url = await new_database("orders")
    async with running_service(definition(), database_url=url, kafka=kafka) as (rt, http):
        body = {"subject": "Pump leaks", "message": "The PX-200 we got leaks at the valve."}
        # no portal user and no account profile: nowhere to send the answer
        r = await http.post("/v1/support-requests", json=body, headers=ACME)
        assert r.status_code == 409 and "contact email" in r.json()["detail"], r.text
        assert await events(rt, "SupportRequestReceived") == []
        r = await http.put("/v1/account/profile", json={"email": "ops@acme.test", "language": "pl"}, headers=ACME)
        assert r.status_code == 200, r.text
        # bad input names the field and changes nothing
        for bad, name in [
            ({**body, "subject": ""}, "subject"),
            ({**body, "message": "x" * 5001}, "message"),
            ({**body, "extra": 1}, "extra"),
        ]:
            r = await http.post("/v1/support-requests", json=bad, headers=ACME)
            assert r.status_code in (400, 422) and name in r.text, r.text
        r = await http.post("/v1/support-requests", json={**body, "order_id": str(uuid.uuid4())}, headers=ACME)
        assert r.status_code == 404 and r.json()["field"] == "order_id", r.text
        r = await http.post("/v1/support-requests", json=body, headers=ACME)
        assert r.status_code == 201, r.text
        sent = r.json()
        assert sent["number"] == "SR-000001" and sent["status"] == "open", sent
        assert sent["sender"] == {"login": "customer", "name": "customer", "email": "ops@acme.test", "language": "pl"}
        rid = sent["request_id"]
        # another account sees nothing of it
        assert (await http.get(f"/v1/support-requests/{rid}", headers=OTHER)).status_code == 404
        assert (await http.get("/v1/support-requests", headers=OTHER)).json()["total"] == 0
        assert (
            await http.post(f"/v1/support-requests/{rid}/replies", json={"message": "hi"}, headers=OTHER)
        ).status_code == 404
        # only admins answer
        assert (
            await http.post(f"/v1/admin/support-requests/{rid}/answers", json={"message": "x"}, headers=ACME)
        ).status_code == 403
        r = await http.post(
            f"/v1/admin/support-requests/{rid}/answers", json={"message": "A new seal is on its way."}, headers=OPS
        )
        assert r.status_code == 200 and r.json()["status"] == "answered", r.text
        r = await http.post(f"/v1/support-requests/{rid}/replies", json={"message": "Still leaking."}, headers=ACME)
        assert r.json()["status"] == "open"
        r = await http.get("/v1/admin/support-requests", params={"status": "open", "account_id": "acme"}, headers=OPS)
        assert [x["number"] for x in r.json()["items"]] == ["SR-000001"]
        r = await http.post(f"/v1/admin/support-requests/{rid}/close", headers=OPS)
        assert r.status_code == 200 and r.json()["status"] == "closed", r.text
        r = await http.post(f"/v1/admin/support-requests/{rid}/answers", json={"message": "late"}, headers=OPS)
        assert r.status_code == 409 and r.json()["current_status"] == "closed", r.text
        full = (await http.get(f"/v1/support-requests/{rid}", headers=ACME)).json()
        assert [(m["side"], m["by"]) for m in full["messages"]] == [
            ("customer", "acme/customer"),
            ("business", "ops/admin"),
            ("customer", "acme/customer"),
        ]
        assert [(h["from_status"], h["to_status"], h["by"]) for h in full["history"]] == [
            (None, "open", "acme/customer"),
            ("open", "answered", "ops/admin"),
            ("answered", "open", "acme/customer"),
            ("open", "closed", "ops/admin"),
        ]
        (received,) = await events(rt, "SupportRequestReceived")
        assert (received["number"], received["sender"]["email"], received["subject"]) == (
            "SR-000001",
            "ops@acme.test",
            "Pump leaks",
        )
        (answered,) = await events(rt, "SupportRequestAnswered")
        assert (answered["answer"], answered["answered_by"]) == ("A new seal is on its way.", "ops/admin")
        (closed,) = await events(rt, "SupportRequestClosed")
        assert closed["closed_by"] == "ops/admin"
        r = await http.post("/v1/support-requests", json=body, headers=ACME)
        assert r.json()["number"] == "SR-000002"


async def test_company_details_are_validated_kept_with_history_and_scoped(new_database, kafka):
    url = await new_database("orders")
    details = {
        "name": "Acme Pumps GmbH",
        "address": {"line1": "Hauptstraße 5", "postal_code": "10115", "city": "Berlin", "country": "DE"},
        "phone": "+49 30 1234567",
        "vat_id": "DE123456789",
    }
    async with running_service(definition(), database_url=url, kafka=kafka) as (rt, http):
        assert (await http.get("/v1/account/company", headers=ACME)).status_code == 404
        bad = {**details, "address": {**details["address"], "country": "XX"}}
        r = await http.put("/v1/account/company", json=bad, headers=ACME)
        assert r.status_code in (400, 422) and "country" in r.text, r.text
        assert (await http.get("/v1/account/company", headers=ACME)).status_code == 404
        r = await http.put("/v1/account/company", json=details, headers=ACME)
        assert r.status_code == 200, r.text
        got = r.json()
        assert got["address"]["country"] == "DE" and got["changed_by"] == "acme/customer"
        again = await http.put("/v1/account/company", json=details, headers=ACME)  # the same: no new history
        assert len(again.json()["history"]) == 1
        r = await http.put(
            "/v1/account/company", params={"account_id": "acme"}, json={**details, "phone": None}, headers=OPS
        )
        assert [h["by"] for h in r.json()["history"]] == ["acme/customer", "ops/admin"]
        # a customer naming another account: as if it had none
        assert (await http.get("/v1/account/company", params={"account_id": "acme"}, headers=OTHER)).status_code == 404
        assert (
            await http.put("/v1/account/company", params={"account_id": "acme"}, json=details, headers=OTHER)
        ).status_code == 404
        assert (await http.get("/v1/account/company", headers=OTHER)).status_code == 404
