"""Access groups, visibility, search, comparison and attributes over HTTP on real PostgreSQL (and
Kafka under the runtime): what a customer account sees on every read depends on its groups; each
change of a group is staged as its whole state with the next revision; bad input changes nothing."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from catalog.bootstrap import definition as catalog
from portal_runtime.db import OutboxRecord
from portal_runtime.testing import bearer, running_service

ADMIN = bearer("ops", "admin")
UNKNOWN = str(uuid.uuid4())
TEXTS = {"en": "New", "tr": "Yeni", "de": "Neu", "pl": "Nowy"}


async def staged(cat, topic: str) -> list[dict]:
    async with cat.sessions() as s:
        stmt = select(OutboxRecord.envelope).where(OutboxRecord.topic == topic).order_by(OutboxRecord.id)
        return list(await s.scalars(stmt))


def good(name: str, tag: str, attributes: dict[str, str] | None = None, **more) -> dict:
    return {
        "sku": f"{name[:4].upper()}-{tag}",
        "name": f"{name} {tag}",
        "description": more.pop("description", f"a {name.lower()}"),
        "kind": "good",
        "currency": "EUR",
        "prices": [{"cycle": "one_time", "price": "10.00"}],
        "attributes": attributes or {},
        **more,
    }


async def made(http, path: str, body: dict, status: int = 201) -> dict:
    answer = await http.post(path, json=body, headers=ADMIN)
    assert answer.status_code == status, answer.text
    return answer.json()


def ids(page: dict) -> set[str]:
    return {i["id"] for i in page["items"]}


async def test_visibility_on_every_read_follows_the_account_s_groups_and_admins_see_all(new_database, kafka):
    tag = uuid.uuid4().hex[:6]
    async with running_service(catalog(), database_url=await new_database("catalog"), kafka=kafka, relay=False) as (
        cat,
        http,
    ):
        drill = await made(http, "/v1/admin/items", good("Drill", tag, {"power": "800 W", "warranty": "2 years"}))
        saw = await made(http, "/v1/admin/items", good("Saw", tag, {"power": "1200 W", "blade": "190 mm"}))
        lathe = await made(http, "/v1/admin/items", good("Lathe", tag, {"power": "2 kW"}, description="big_one"))
        for item in (drill, lathe):
            featured = await http.put(f"/v1/admin/items/{item['id']}/featured", json={"texts": TEXTS}, headers=ADMIN)
            assert featured.status_code == 200, featured.text
        tools = await made(
            http,
            "/v1/admin/access-groups",
            {"name": "Tools", "item_ids": [drill["id"], saw["id"]], "account_ids": ["acme"]},
        )
        machines = await made(
            http, "/v1/admin/access-groups", {"name": "Machines", "item_ids": [lathe["id"]], "account_ids": []}
        )
        acme, globex, admin = bearer("acme"), bearer("globex"), ADMIN

        async def listed(headers, **params) -> set[str]:
            answer = await http.get("/v1/items", headers=headers, params={"limit": 200, **params})
            assert answer.status_code == 200, answer.text
            return ids(answer.json())

        everything = {drill["id"], saw["id"], lathe["id"]}
        # list, search, featured: the group's items for acme; everything for globex (in no group) and admins
        assert await listed(acme) == {drill["id"], saw["id"]}
        assert await listed(globex) == await listed(admin) == everything
        assert await listed(acme, q=tag) == {drill["id"], saw["id"]}
        assert await listed(acme, q=f"LATHE {tag}") == set()
        assert await listed(globex, q=f"LATHE {tag}") == {lathe["id"]}
        assert await listed(globex, q=f"saw-{tag}".upper()) == {saw["id"]}  # the SKU, any case
        assert await listed(globex, q="BIG_ONE") == {lathe["id"]}  # the description; `_` is no wildcard
        assert await listed(globex, q="big%one") == set()
        assert await listed(acme, featured="true") == {drill["id"]}
        assert await listed(globex, featured="true") == {drill["id"], lathe["id"]}
        # detail: invisible answers as unknown
        hidden, unknown = [await http.get(f"/v1/items/{i}", headers=acme) for i in (lathe["id"], UNKNOWN)]
        assert hidden.status_code == unknown.status_code == 404
        assert hidden.json()["type"] == unknown.json()["type"]
        for headers in (globex, admin):
            seen = await http.get(f"/v1/items/{lathe['id']}", headers=headers)
            assert seen.status_code == 200 and seen.json()["attributes"] == {"power": "2 kW"}, seen.text
        # comparison: side by side; invisible or unknown is 404 naming it
        compared = await http.get("/v1/items/compare", headers=acme, params={"ids": [drill["id"], saw["id"]]})
        assert compared.status_code == 200, compared.text
        assert [i["id"] for i in compared.json()["items"]] == [drill["id"], saw["id"]]
        assert compared.json()["attributes"] == [
            {"name": "power", "values": ["800 W", "1200 W"]},
            {"name": "warranty", "values": ["2 years", None]},
            {"name": "blade", "values": [None, "190 mm"]},
        ]
        for other in (lathe["id"], UNKNOWN):
            refused = await http.get("/v1/items/compare", headers=acme, params={"ids": [drill["id"], other]})
            assert refused.status_code == 404 and other in refused.json()["detail"], refused.text
            assert refused.json()["field"] == "ids"
        for headers in (globex, admin):
            seen = await http.get("/v1/items/compare", headers=headers, params={"ids": [lathe["id"], drill["id"]]})
            assert seen.status_code == 200, seen.text
        for wrong in ([drill["id"]], [drill["id"], drill["id"]], [str(uuid.uuid4()) for _ in range(5)]):
            refused = await http.get("/v1/items/compare", headers=globex, params={"ids": wrong})
            assert refused.status_code == 422 and refused.json()["field"] == "ids", refused.text
        none = await http.get("/v1/items/compare", headers=globex)  # the parameter is required
        assert none.status_code == 400 and none.json()["field"] == "ids", none.text

        # the union of two groups
        assigned = await http.put(f"/v1/admin/access-groups/{machines['id']}/accounts/acme", headers=ADMIN)
        assert assigned.status_code == 200 and assigned.json()["revision"] == 2, assigned.text
        assert await listed(acme) == everything
        again = await http.put(f"/v1/admin/access-groups/{machines['id']}/accounts/acme", headers=ADMIN)
        assert again.json()["revision"] == 2, "already in it: nothing changes"
        groups = await http.get("/v1/admin/accounts/acme/access-groups", headers=ADMIN)
        assert [g["name"] for g in groups.json()["items"]] == ["Machines", "Tools"], groups.text
        assert (await http.get("/v1/admin/accounts/globex/access-groups", headers=ADMIN)).json()["items"] == []
        # a group's whole state changes; out of it the account sees just the other group's items
        changed = await http.put(
            f"/v1/admin/access-groups/{tools['id']}",
            json={"name": "Tools+", "item_ids": [saw["id"]], "account_ids": ["acme", "initech"]},
            headers=ADMIN,
        )
        assert changed.status_code == 200 and changed.json()["revision"] == 2, changed.text
        assert await listed(acme) == {saw["id"], lathe["id"]}
        assert await listed(bearer("initech")) == {saw["id"]}
        out = await http.delete(f"/v1/admin/access-groups/{machines['id']}/accounts/acme", headers=ADMIN)
        assert out.status_code == 200 and out.json()["account_ids"] == [], out.text
        assert await listed(acme) == {saw["id"]}
        assert (await http.get(f"/v1/items/{drill['id']}", headers=acme)).status_code == 404
        # deleted: its accounts are no longer limited by it
        assert (await http.delete(f"/v1/admin/access-groups/{tools['id']}", headers=ADMIN)).status_code == 204
        assert (await http.get(f"/v1/admin/access-groups/{tools['id']}", headers=ADMIN)).status_code == 404
        assert await listed(acme) == everything

        # customers may not touch groups
        assert (await http.get("/v1/admin/access-groups", headers=acme)).status_code == 403
        # every change staged as the group's whole state, the revision growing by one
        events = [
            (e["type"], e["data"]["group_id"], e["data"]["revision"]) for e in await staged(cat, "catalog.access")
        ]
        assert [(t, r) for t, g, r in events if g == tools["id"]] == [
            ("AccessGroupChanged", 1),
            ("AccessGroupChanged", 2),
            ("AccessGroupDeleted", 3),
        ]
        assert [(t, r) for t, g, r in events if g == machines["id"]] == [
            ("AccessGroupChanged", 1),
            ("AccessGroupChanged", 2),
            ("AccessGroupChanged", 3),
        ]
        second = [e["data"] for e in await staged(cat, "catalog.access") if e["data"]["group_id"] == tools["id"]][1]
        assert (second["name"], second["item_ids"], second["account_ids"]) == (
            "Tools+",
            [saw["id"]],
            ["acme", "initech"],
        )


async def test_bad_input_changes_nothing(new_database, kafka):
    tag = uuid.uuid4().hex[:6]
    async with running_service(catalog(), database_url=await new_database("catalog"), kafka=kafka, relay=False) as (
        cat,
        http,
    ):
        drill = await made(http, "/v1/admin/items", good("Drill", tag))
        group = await made(
            http, "/v1/admin/access-groups", {"name": "G", "item_ids": [drill["id"]], "account_ids": ["a"]}
        )
        before = await staged(cat, "catalog.access")
        unknown = await http.post(
            "/v1/admin/access-groups", json={"name": "X", "item_ids": [drill["id"], UNKNOWN]}, headers=ADMIN
        )
        assert unknown.status_code == 422 and unknown.json()["field"] == "item_ids", unknown.text
        assert UNKNOWN in unknown.json()["detail"] and unknown.json()["unknown_ids"] == [UNKNOWN]
        put = await http.put(
            f"/v1/admin/access-groups/{group['id']}", json={"name": "G", "item_ids": [UNKNOWN]}, headers=ADMIN
        )
        assert put.status_code == 422 and put.json()["field"] == "item_ids", put.text
        for body, field in (
            ({"name": " ", "item_ids": []}, "name"),
            ({"name": "G", "account_ids": [""]}, "account_ids"),
            ({"name": "G", "account_ids": ["x" * 201]}, "account_ids"),
        ):
            refused = await http.post("/v1/admin/access-groups", json=body, headers=ADMIN)
            assert refused.status_code in (400, 422) and field in refused.json()["field"], refused.text
        long = await http.put(f"/v1/admin/access-groups/{group['id']}/accounts/{'x' * 201}", headers=ADMIN)
        assert long.status_code in (400, 422), long.text
        gone = await http.put(f"/v1/admin/access-groups/{UNKNOWN}/accounts/a", headers=ADMIN)
        assert gone.status_code == 404, gone.text
        now = (await http.get(f"/v1/admin/access-groups/{group['id']}", headers=ADMIN)).json()
        assert (now["item_ids"], now["account_ids"], now["revision"]) == ([drill["id"]], ["a"], 1)
        assert await staged(cat, "catalog.access") == before
        listed = await http.get("/v1/admin/access-groups", headers=ADMIN)
        assert [g["id"] for g in listed.json()["items"]] == [group["id"]]

        # attributes: bounds refused naming the field, the item unchanged
        for attributes, field in (
            ({f"a{n}": "v" for n in range(21)}, "attributes"),
            ({"x" * 41: "v"}, "attributes"),
            ({"size": ""}, "attributes.size"),
            ({"size": "v" * 201}, "attributes.size"),
        ):
            refused = await http.post(
                "/v1/admin/items", json=good("Saw", f"{tag}{len(field)}", attributes), headers=ADMIN
            )
            assert refused.status_code == 422 and refused.json()["field"] == field, refused.text
            patched = await http.patch(f"/v1/admin/items/{drill['id']}", json={"attributes": attributes}, headers=ADMIN)
            assert patched.status_code == 422 and patched.json()["field"] == field, patched.text
        kept = (await http.get(f"/v1/items/{drill['id']}", headers=ADMIN)).json()
        assert (kept["attributes"], kept["revision"]) == ({}, 1)
        patched = await http.patch(
            f"/v1/admin/items/{drill['id']}", json={"attributes": {"size": "M", "colour": "red"}}, headers=ADMIN
        )
        assert patched.json()["attributes"] == {"size": "M", "colour": "red"}, patched.text
        [*_, published] = [e["data"] for e in await staged(cat, "catalog.items") if e["data"]["item_id"] == drill["id"]]
        assert (published["attributes"], published["revision"]) == ({"size": "M", "colour": "red"}, 2)
        assert list((await http.get(f"/v1/items/{drill['id']}", headers=ADMIN)).json()["attributes"]) == [
            "size",
            "colour",
        ], "the admin's order is kept"
