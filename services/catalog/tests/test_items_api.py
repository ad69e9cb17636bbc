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
        item = (await http.post("/v1/items", json=body(f"SEO-{uuid.uuid4().hex[:6]}"), headers=ADMIN)).json()
        patched = await http.patch(
            f"/v1/items/{item['id']}", json={"price": "59.90", "name": "SEO boost+"}, headers=ADMIN
        )
        assert patched.status_code == 200, patched.text
        assert (patched.json()["price"], patched.json()["revision"]) == ("59.90", 2)
        async with cat.sessions() as s:
            envelopes = (
                await s.scalars(
                    select(OutboxRecord.envelope).where(OutboxRecord.key == item["id"]).order_by(OutboxRecord.id)
                )
            ).all()
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

        assert (await http.post(f"/v1/items/{item['id']}/retire", headers=ADMIN)).status_code == 200
        refused = await http.patch(f"/v1/items/{item['id']}", json={"price": "1.00"}, headers=ADMIN)
        assert refused.status_code == 409 and refused.json()["current_status"] == "retired", refused.text
        null = await http.patch(f"/v1/items/{item['id']}", json={"name": None}, headers=ADMIN)
        assert null.status_code in (409, 422)


async def test_one_sku_created_at_once_gives_one_item_and_409s_naming_sku(new_database, kafka):
    sku = f"RACE-{uuid.uuid4().hex[:6]}"
    async with running_service(catalog(), database_url=await new_database("catalog"), kafka=kafka, relay=False) as (
        cat,
        http,
    ):
        answers = await asyncio.gather(*(http.post("/v1/items", json=body(sku), headers=ADMIN) for _ in range(8)))
        codes = sorted(a.status_code for a in answers)
        assert codes == [201] + [409] * 7, [a.text for a in answers]
        assert all(a.json()["field"] == "sku" for a in answers if a.status_code == 409)
        async with cat.sessions() as s:
            assert len((await s.scalars(select(OutboxRecord))).all()) == 1, "one item, one event"
