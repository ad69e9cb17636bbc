"""Catalog over HTTP on real PostgreSQL and Kafka: a change is published and reaches orders' copy;
one SKU created by several admins at once gives one item and 409s naming `sku`."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import select

from catalog.bootstrap import definition as catalog
from orders.adapters.tables import OfferedItemRow
from orders.bootstrap import definition as orders
from portal_runtime.db import OutboxRecord
from portal_runtime.testing import bearer, eventually, running_service

ADMIN = bearer("ops", "admin")


async def staged(cat, key: str | None = None) -> list[dict]:
    """The envelopes catalog staged in its outbox (what the relay publishes), oldest first; with
    `key`, one item's."""
    stmt = select(OutboxRecord.envelope).order_by(OutboxRecord.id)
    async with cat.sessions() as s:
        return list(await s.scalars(stmt if key is None else stmt.where(OutboxRecord.key == key)))


def body(sku: str) -> dict:
    return {
        "sku": sku,
        "name": "SEO boost",
        "price": "49.90",
        "currency": "EUR",
        "billing": "recurring",
        "billing_period_months": 1,
    }


async def test_a_patch_publishes_the_new_price_and_orders_copy_follows(new_database, kafka):
    async with (
        running_service(catalog(), database_url=await new_database("catalog"), kafka=kafka) as (cat, http),
        running_service(orders(), database_url=await new_database("orders"), kafka=kafka) as (ords, _),
    ):
        item = (await http.post("/v1/admin/items", json=body(f"SEO-{uuid.uuid4().hex[:6]}"), headers=ADMIN)).json()
        patched = await http.patch(
            f"/v1/admin/items/{item['id']}", json={"price": "59.90", "name": "SEO boost+"}, headers=ADMIN
        )
        assert patched.status_code == 200, patched.text
        assert (patched.json()["price"], patched.json()["revision"]) == ("59.90", 2)
        envelopes = await staged(cat, item["id"])
        assert [(e["data"]["revision"], e["data"]["price"]["amount"]) for e in envelopes] == [
            (1, "49.90"),
            (2, "59.90"),
        ]

        async def copied():
            async with ords.sessions() as s:
                row = await s.get(OfferedItemRow, uuid.UUID(item["id"]))
                return row if row and row.revision == 2 else None

        row = await eventually(copied, what="orders' copy to have revision 2")
        assert (str(row.price), row.name) == ("59.90", "SEO boost+")

        assert (await http.post(f"/v1/admin/items/{item['id']}/retire", headers=ADMIN)).status_code == 200
        refused = await http.patch(f"/v1/admin/items/{item['id']}", json={"price": "1.00"}, headers=ADMIN)
        assert refused.status_code == 409 and refused.json()["current_status"] == "retired", refused.text
        null = await http.patch(f"/v1/admin/items/{item['id']}", json={"name": None}, headers=ADMIN)
        assert null.status_code == 400 and null.json()["field"] == "name", null.text  # a name is never null


async def test_one_sku_created_at_once_gives_one_item_and_409s_naming_sku(new_database, kafka):
    sku = f"RACE-{uuid.uuid4().hex[:6]}"
    async with running_service(catalog(), database_url=await new_database("catalog"), kafka=kafka, relay=False) as (
        cat,
        http,
    ):
        answers = await asyncio.gather(*(http.post("/v1/admin/items", json=body(sku), headers=ADMIN) for _ in range(8)))
        codes = sorted(a.status_code for a in answers)
        assert codes == [201] + [409] * 7, [a.text for a in answers]
        assert all(a.json()["field"] == "sku" for a in answers if a.status_code == 409)
        assert len(await staged(cat)) == 1, "one item, one event"


def priced(sku: str, kind: str, prices: list[tuple[str, str]], **more) -> dict:
    return {
        "sku": sku,
        "name": sku.title(),
        "currency": "EUR",
        "kind": kind,
        "prices": [{"cycle": c, "price": p} for c, p in prices],
        **more,
    }


async def test_each_kind_is_created_published_and_copied_by_orders_and_the_old_input_still_works(new_database, kafka):
    tag = uuid.uuid4().hex[:6]
    async with (
        running_service(catalog(), database_url=await new_database("catalog"), kafka=kafka) as (cat, http),
        running_service(orders(), database_url=await new_database("orders"), kafka=kafka) as (ords, _),
    ):

        async def create(payload: dict) -> dict:
            answer = await http.post("/v1/admin/items", json=payload, headers=ADMIN)
            assert answer.status_code == 201, answer.text
            return answer.json()

        old = await create(body(f"OLD-{tag}"))
        once = await create(  # the README's one-time item, as written there
            {"sku": f"ONCE-{tag}", "name": "Store setup", "price": "150.00", "currency": "EUR", "billing": "one_time"}
        )
        host = await create(priced(f"HOST-{tag}", "service", [("annual", "499.00"), ("monthly", "49.00")]))
        ssl = await create(priced(f"SSL-{tag}", "add_on", [("annual", "20.00")], parents=[host["id"]]))
        sms = await create(priced(f"SMS-{tag}", "unit_package", [("one_time", "30.00")], units=1000))
        mug = await create(priced(f"MUG-{tag}", "good", [("one_time", "9.90")]))

        assert {k: old[k] for k in ("kind", "price", "billing", "billing_period_months", "prices", "units")} == {
            "kind": "service",
            "price": "49.90",
            "billing": "recurring",
            "billing_period_months": 1,
            "prices": [{"cycle": "monthly", "price": "49.90"}],
            "units": None,
        }
        assert (once["billing"], once["billing_period_months"], once["prices"]) == (
            "one_time",
            None,
            [{"cycle": "one_time", "price": "150.00"}],
        )
        assert (host["price"], host["billing"], host["billing_period_months"]) == ("499.00", "recurring", 12)
        assert (ssl["kind"], ssl["parents"], sms["units"], mug["kind"]) == ("add_on", [host["id"]], 1000, "good")
        read = (await http.get(f"/v1/items/{host['id']}", headers=ADMIN)).json()
        assert read["prices"] == [{"cycle": "annual", "price": "499.00"}, {"cycle": "monthly", "price": "49.00"}]
        listed = (await http.get("/v1/items", headers=bearer("acme", "customer"))).json()["items"]
        assert {i["sku"]: i["kind"] for i in listed}[f"SMS-{tag}"] == "unit_package"

        envelopes = {e["data"]["sku"]: e["data"] for e in await staged(cat)}
        assert envelopes[f"SSL-{tag}"]["kind"] == "add_on" and envelopes[f"SSL-{tag}"]["parents"] == [host["id"]]
        assert envelopes[f"SMS-{tag}"]["units"] == 1000
        assert envelopes[f"HOST-{tag}"]["prices"] == [
            {"cycle": "annual", "price": "499.00"},
            {"cycle": "monthly", "price": "49.00"},
        ]
        assert envelopes[f"HOST-{tag}"]["price"] == {"amount": "499.00", "currency": "EUR"}
        assert envelopes[f"OLD-{tag}"]["billing_period_months"] == 1 and envelopes[f"OLD-{tag}"]["kind"] == "service"

        async def copies():
            async with ords.sessions() as s:
                rows = {r.sku: r for r in await s.scalars(select(OfferedItemRow)) if r.sku and r.sku.endswith(tag)}
            return rows if len(rows) == 6 else None  # (the topic holds other tests' items too)

        rows = await eventually(copies, what="orders' copy of the six items")
        assert (rows[f"SSL-{tag}"].kind, rows[f"SSL-{tag}"].parents) == ("add_on", [host["id"]])
        assert (rows[f"SMS-{tag}"].kind, rows[f"SMS-{tag}"].units) == ("unit_package", 1000)
        assert rows[f"MUG-{tag}"].kind == "good"
        assert rows[f"HOST-{tag}"].prices == [
            {"cycle": "annual", "price": "499.00"},
            {"cycle": "monthly", "price": "49.00"},
        ]
        assert (str(rows[f"HOST-{tag}"].price), rows[f"HOST-{tag}"].billing_period_months) == ("499.00", 12)
        assert rows[f"OLD-{tag}"].prices == [{"cycle": "monthly", "price": "49.90"}]


async def test_kinds_and_cycles_refused_name_the_field(new_database, kafka):
    async with running_service(catalog(), database_url=await new_database("catalog"), kafka=kafka, relay=False) as (
        _,
        http,
    ):
        host = (
            await http.post("/v1/admin/items", json=priced("HOST", "service", [("monthly", "9.00")]), headers=ADMIN)
        ).json()
        mug = priced("MUG", "good", [("one_time", "9.00")])
        mug = (await http.post("/v1/admin/items", json=mug, headers=ADMIN)).json()
        refused = {  # rules across fields: 422
            "parents": priced("A1", "add_on", [("annual", "1.00")]),
            "units": priced("U1", "unit_package", [("one_time", "1.00")]),
            "prices": priced("G1", "good", [("monthly", "1.00")]),
        }
        for field, payload in refused.items():
            answer = await http.post("/v1/admin/items", json=payload, headers=ADMIN)
            assert (answer.status_code, answer.json().get("field")) == (422, field), answer.text
        invalid = {  # what the document's schema says of one field: 400
            "units": priced("U2", "unit_package", [("one_time", "1.00")], units=0),
            "billing_period_months": {**body("P2"), "billing_period_months": 2},
        }
        for field, payload in invalid.items():
            answer = await http.post("/v1/admin/items", json=payload, headers=ADMIN)
            assert (answer.status_code, answer.json().get("field")) == (400, field), answer.text
        twice = priced("D1", "service", [("annual", "1.00"), ("annual", "2.00")])
        not_a_service = priced("A2", "add_on", [("annual", "1.00")], parents=[mug["id"]])
        for field, payload in (("prices", twice), ("parents", not_a_service)):
            answer = await http.post("/v1/admin/items", json=payload, headers=ADMIN)
            assert (answer.status_code, answer.json().get("field")) == (422, field), answer.text
        ok = await http.post(
            "/v1/admin/items", json=priced("A3", "add_on", [("annual", "1.00")], parents=[host["id"]]), headers=ADMIN
        )
        assert ok.status_code == 201, ok.text
        kept = await http.patch(
            f"/v1/admin/items/{host['id']}",
            json={"kind": "good", "prices": [{"cycle": "one_time", "price": "1.00"}]},
            headers=ADMIN,
        )
        assert (kept.status_code, kept.json().get("field")) == (409, "kind"), kept.text
        patched = await http.patch(
            f"/v1/admin/items/{host['id']}", json={"price": "12.00", "billing_period_months": 3}, headers=ADMIN
        )
        assert patched.json()["prices"] == [{"cycle": "quarterly", "price": "12.00"}], patched.text


async def test_an_item_has_an_etag_and_a_change_with_a_stale_if_match_is_a_412_that_changes_nothing(
    new_database, kafka
):
    async with running_service(catalog(), database_url=await new_database("catalog"), kafka=kafka, relay=False) as (
        cat,
        http,
    ):
        created = (await http.post("/v1/admin/items", json=body(f"TAG-{uuid.uuid4().hex[:6]}"), headers=ADMIN)).json()
        read = await http.get(f"/v1/items/{created['id']}", headers=ADMIN)
        assert read.headers["ETag"] == '"1"'
        changed = await http.patch(
            f"/v1/admin/items/{created['id']}",
            json={"name": "New name"},
            headers={**ADMIN, "If-Match": read.headers["ETag"]},
        )
        assert changed.status_code == 200 and changed.headers["ETag"] == '"2"', changed.text
        stale = await http.patch(
            f"/v1/admin/items/{created['id']}", json={"name": "Lost update"}, headers={**ADMIN, "If-Match": '"1"'}
        )
        assert stale.status_code == 412 and stale.json()["current_revision"] == 2, stale.text
        assert stale.headers["content-type"].startswith("application/problem+json")
        retire = await http.post(f"/v1/admin/items/{created['id']}/retire", headers={**ADMIN, "If-Match": '"1"'})
        assert retire.status_code == 412
        after = (await http.get(f"/v1/items/{created['id']}", headers=ADMIN)).json()
        assert (after["name"], after["revision"], after["status"]) == ("New name", 2, "active")
        assert len(await staged(cat)) == 2, "nothing published for the 412s"
        without = await http.patch(f"/v1/admin/items/{created['id']}", json={"name": "No If-Match"}, headers=ADMIN)
        assert without.status_code == 200  # If-Match is optional


TEXTS = {"en": "New: SSL", "tr": "Yeni: SSL", "de": "Neu: SSL", "pl": "Nowość: SSL"}


async def test_an_add_on_s_max_per_parent_is_set_changed_answered_and_published(new_database, kafka):
    async with running_service(catalog(), database_url=await new_database("catalog"), kafka=kafka, relay=False) as (
        cat,
        http,
    ):
        host = await http.post("/v1/admin/items", json=priced("HOST", "service", [("monthly", "9.00")]), headers=ADMIN)
        parents = {"parents": [host.json()["id"]]}
        ssl = await http.post(
            "/v1/admin/items", json=priced("SSL", "add_on", [("annual", "20.00")], **parents), headers=ADMIN
        )
        ips = priced("IP", "add_on", [("monthly", "2.00")], **parents, max_per_parent=4)
        ips = await http.post("/v1/admin/items", json=ips, headers=ADMIN)
        assert [a.json()["max_per_parent"] for a in (host, ssl, ips)] == [None, 1, 4], ips.text
        unlimited = await http.patch(
            f"/v1/admin/items/{ips.json()['id']}", json={"max_per_parent": None}, headers=ADMIN
        )
        assert (unlimited.status_code, unlimited.json()["max_per_parent"]) == (200, None), unlimited.text
        vps = priced("VPS", "service", [("monthly", "9.00")], max_per_parent=2)
        for method, path, payload, status in (
            ("POST", "/v1/admin/items", vps, 422),  # only an add-on has one
            ("PATCH", f"/v1/admin/items/{host.json()['id']}", {"max_per_parent": None}, 422),
            ("PATCH", f"/v1/admin/items/{ssl.json()['id']}", {"max_per_parent": 0}, 400),
        ):
            answer = await http.request(method, path, json=payload, headers=ADMIN)
            assert (answer.status_code, answer.json().get("field")) == (status, "max_per_parent"), answer.text
        envelopes = await staged(cat)
        assert [(e["data"]["sku"], e["data"]["max_per_parent"]) for e in envelopes] == [
            ("HOST", None),
            ("SSL", 1),
            ("IP", 4),
            ("IP", None),
        ]


async def test_an_admin_features_an_active_item_customers_list_it_and_each_change_is_published(new_database, kafka):
    async with running_service(catalog(), database_url=await new_database("catalog"), kafka=kafka, relay=False) as (
        cat,
        http,
    ):
        item = (await http.post("/v1/admin/items", json=body("SSL"), headers=ADMIN)).json()
        await http.post("/v1/admin/items", json=body("DNS"), headers=ADMIN)
        featured = f"/v1/admin/items/{item['id']}/featured"
        put = await http.put(featured, json={"texts": TEXTS}, headers=ADMIN)
        assert (put.status_code, put.json()["featured"], put.json()["revision"], put.headers["ETag"]) == (
            200,
            TEXTS,
            2,
            '"2"',
        ), put.text
        again = await http.put(featured, json={"texts": TEXTS}, headers=ADMIN)
        assert (again.status_code, again.json()["revision"]) == (200, 2), "the same texts change nothing"
        customer = bearer("acme", "customer")
        listed = (await http.get("/v1/items", params={"featured": "true"}, headers=customer)).json()
        assert [(i["sku"], i["featured"]) for i in listed["items"]] == [("SSL", TEXTS)] and listed["total"] == 1
        every = (await http.get("/v1/items", params={"featured": "false"}, headers=customer)).json()["items"]
        assert sorted(i["sku"] for i in every) == ["DNS", "SSL"]
        deleted = await http.delete(featured, headers=ADMIN)
        assert (deleted.status_code, deleted.json()["featured"], deleted.json()["revision"]) == (200, None, 3)
        assert (await http.delete(featured, headers=ADMIN)).json()["revision"] == 3, "not featured: unchanged"
        envelopes = await staged(cat, item["id"])
        assert [(e["type"], e["data"]["revision"], e["data"]["featured"]) for e in envelopes] == [
            ("CatalogItemPublished", 1, None),
            ("CatalogItemPublished", 2, TEXTS),
            ("CatalogItemPublished", 3, None),
        ]


async def test_featuring_refusals_name_the_field_or_the_status(new_database, kafka):
    async with running_service(catalog(), database_url=await new_database("catalog"), kafka=kafka, relay=False) as (
        _,
        http,
    ):
        item = (await http.post("/v1/admin/items", json=body("SSL"), headers=ADMIN)).json()
        featured = f"/v1/admin/items/{item['id']}/featured"
        without_pl = {k: v for k, v in TEXTS.items() if k != "pl"}
        for texts, status, field in (
            ({**TEXTS, "fr": "Nouveau"}, 422, "texts.fr"),
            (without_pl, 400, "texts.pl"),
            ({**TEXTS, "en": "x" * 201}, 400, "texts.en"),
            ({**TEXTS, "de": ""}, 400, "texts.de"),
        ):
            answer = await http.put(featured, json={"texts": texts}, headers=ADMIN)
            assert (answer.status_code, answer.json().get("field")) == (status, field), answer.text
        assert (await http.put(featured, json={"texts": TEXTS}, headers=bearer("acme", "customer"))).status_code == 403
        unknown = await http.put(f"/v1/admin/items/{uuid.uuid4()}/featured", json={"texts": TEXTS}, headers=ADMIN)
        assert unknown.status_code == 404, unknown.text
        await http.put(featured, json={"texts": TEXTS}, headers=ADMIN)
        assert (await http.post(f"/v1/admin/items/{item['id']}/retire", headers=ADMIN)).status_code == 200
        read = (await http.get(f"/v1/items/{item['id']}", headers=ADMIN)).json()
        assert (read["status"], read["featured"]) == ("retired", None), "retiring clears it"
        refused = await http.put(featured, json={"texts": TEXTS}, headers=ADMIN)
        assert (refused.status_code, refused.json().get("current_status")) == (409, "retired"), refused.text
