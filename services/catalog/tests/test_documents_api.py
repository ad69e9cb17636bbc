"""Published documents over HTTP on real PostgreSQL: uploaded by admins (multipart), kept in
catalog's database, visible to every account when they name no access group, else only to the
accounts of the groups they name (another answers 404, as an unknown one); downloaded as they came."""

from __future__ import annotations

import uuid
from urllib.parse import unquote

from catalog.bootstrap import definition as catalog
from catalog.domain.documents import MAX_SIZE
from portal_runtime.testing import bearer, running_service

ADMIN = bearer("ops", "admin")


async def test_documents_are_visible_by_group_and_download_as_uploaded(new_database, kafka):
    async with running_service(catalog(), database_url=await new_database("catalog"), kafka=kafka, relay=False) as (
        _,
        http,
    ):

        async def group(name: str, accounts: list[str]) -> str:
            made = await http.post(
                "/v1/admin/access-groups", json={"name": name, "account_ids": accounts}, headers=ADMIN
            )
            assert made.status_code == 201, made.text
            return made.json()["id"]

        async def upload(title: str, name: str, content: bytes, kind: str, groups=()) -> dict:
            data = {"title": title, **({"group_ids": list(groups)} if groups else {})}
            made = await http.post(
                "/v1/admin/documents", data=data, files={"file": (name, content, kind)}, headers=ADMIN
            )
            assert made.status_code == 201, made.text
            return made.json()

        tools, machines = await group("Tools", ["acme"]), await group("Machines", ["initech"])
        pdf = b"%PDF-1.4\n% brochure\n" + bytes(range(256))
        brochure = await upload("Tools brochure", "Broşür ü.pdf", pdf, "application/pdf", [tools])
        both = await upload("Price list", "prices.csv", b"sku;price\n", "text/csv", [tools, machines])
        terms = await upload("Terms", "terms.txt", b"terms of sale", "text/plain")
        assert (brochure["size"], brochure["filename"], brochure["group_ids"]) == (len(pdf), "Broşür ü.pdf", [tools])

        async def seen(headers) -> set[str]:
            answer = await http.get("/v1/documents", headers=headers, params={"limit": 200})
            assert answer.status_code == 200, answer.text
            return {d["id"] for d in answer.json()["items"]}

        acme, initech, globex = bearer("acme"), bearer("initech"), bearer("globex")
        assert await seen(acme) == {brochure["id"], both["id"], terms["id"]}
        assert await seen(initech) == {both["id"], terms["id"]}
        assert await seen(globex) == {terms["id"]}, "in no group: only documents naming none"
        assert await seen(ADMIN) == {brochure["id"], both["id"], terms["id"]}
        listed = (await http.get("/v1/documents", headers=acme)).json()["items"]
        assert all(d["group_ids"] is None for d in listed), "customers are not shown the groups"

        got = await http.get(f"/v1/documents/{brochure['id']}/file", headers=acme)
        assert got.status_code == 200 and got.content == pdf, got.text
        assert got.headers["content-type"].startswith("application/pdf")
        disposition = got.headers["content-disposition"]
        assert disposition.startswith('attachment; filename="Brosur u.pdf"'), disposition
        assert unquote(disposition.split("filename*=UTF-8''")[1]) == "Broşür ü.pdf", disposition
        plain = await http.get(f"/v1/documents/{terms['id']}/file", headers=globex)
        assert (plain.content, plain.headers["content-disposition"]) == (
            b"terms of sale",
            'attachment; filename="terms.txt"',
        )
        for path in (f"/v1/documents/{brochure['id']}", f"/v1/documents/{brochure['id']}/file"):
            for headers in (initech, globex):
                hidden = await http.get(path, headers=headers)
                unknown = await http.get(path.replace(brochure["id"], str(uuid.uuid4())), headers=headers)
                assert hidden.status_code == unknown.status_code == 404, hidden.text
                assert hidden.json()["type"] == unknown.json()["type"]
        assert (await http.get(f"/v1/documents/{brochure['id']}", headers=acme)).json()["title"] == "Tools brochure"

        # a group documents name cannot be deleted (they would become everyone's)
        refused = await http.delete(f"/v1/admin/access-groups/{tools}", headers=ADMIN)
        assert refused.status_code == 409 and brochure["id"] in refused.text, refused.text
        # the admin changes the groups: the brochure is now everyone's
        changed = await http.put(
            f"/v1/admin/documents/{brochure['id']}", json={"title": "Brochure", "group_ids": []}, headers=ADMIN
        )
        assert changed.status_code == 200 and changed.json()["revision"] == 2, changed.text
        assert brochure["id"] in await seen(globex)
        moved = await http.put(
            f"/v1/admin/documents/{terms['id']}", json={"title": "Terms", "group_ids": [machines]}, headers=ADMIN
        )
        assert moved.status_code == 200, moved.text
        assert terms["id"] not in await seen(globex) and terms["id"] in await seen(initech)
        assert (await http.delete(f"/v1/admin/documents/{both['id']}", headers=ADMIN)).status_code == 204
        assert (await http.get(f"/v1/documents/{both['id']}", headers=ADMIN)).status_code == 404
        # customers cannot publish
        assert (
            await http.post("/v1/admin/documents", data={"title": "x"}, files={"file": ("a", b"a")}, headers=acme)
        ).status_code == 403


async def test_bad_uploads_are_refused_naming_the_field_and_store_nothing(new_database, kafka):
    async with running_service(catalog(), database_url=await new_database("catalog"), kafka=kafka, relay=False) as (
        _,
        http,
    ):
        unknown = str(uuid.uuid4())
        for data, files, status, field in (
            ({"title": "Big"}, {"file": ("big.bin", b"x" * (MAX_SIZE + 1), "application/octet-stream")}, 413, "file"),
            ({"title": "Empty"}, {"file": ("e.txt", b"", "text/plain")}, 422, "file"),
            ({"title": "No file"}, {"other": ("x.txt", b"x", "text/plain")}, 422, "file"),
            ({"title": " "}, {"file": ("a.txt", b"a", "text/plain")}, 422, "title"),
            ({"title": "t" * 201}, {"file": ("a.txt", b"a", "text/plain")}, 422, "title"),
            ({"title": "G", "group_ids": [unknown]}, {"file": ("a.txt", b"a", "text/plain")}, 422, "group_ids"),
            ({"title": "G", "group_ids": ["nope"]}, {"file": ("a.txt", b"a", "text/plain")}, 422, "group_ids"),
        ):
            refused = await http.post("/v1/admin/documents", data=data, files=files, headers=ADMIN)
            assert refused.status_code == status and refused.json()["field"] == field, (data, refused.text)
        exactly = await http.post(
            "/v1/admin/documents",
            data={"title": "10 MiB"},
            files={"file": ("../../etc/max.bin", b"y" * MAX_SIZE, "bad type\r\nX: 1")},
            headers=ADMIN,
        )
        assert exactly.status_code == 201, exactly.text
        assert (exactly.json()["filename"], exactly.json()["content_type"]) == ("max.bin", "application/octet-stream")
        listed = (await http.get("/v1/documents", headers=ADMIN)).json()
        assert [d["title"] for d in listed["items"]] == ["10 MiB"], "nothing else was stored"
        missing = await http.put(f"/v1/admin/documents/{unknown}", json={"title": "x"}, headers=ADMIN)
        assert missing.status_code == 404, missing.text
        bad = await http.put(
            f"/v1/admin/documents/{exactly.json()['id']}", json={"title": "x", "group_ids": [unknown]}, headers=ADMIN
        )
        assert bad.status_code == 422 and bad.json()["field"] == "group_ids", bad.text
        assert (await http.get(f"/v1/documents/{exactly.json()['id']}", headers=ADMIN)).json()["revision"] == 1
