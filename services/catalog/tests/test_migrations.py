"""Catalog's migrations: the tables they make are the models', revision 0003 turns an
existing item's one price into the cycle it means (and back), and revision 0004 lets an existing
add-on be added once per parent (other kinds have no such limit)."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from catalog.adapters.tables import Base
from catalog.bootstrap import definition
from portal_runtime.migrations import alembic_config, upgrade
from portal_runtime.testing import schema_drift


async def test_migrations_make_the_tables_the_models_describe(migrated_database):
    assert await schema_drift(await migrated_database(definition()), Base.metadata) == []


async def test_existing_items_become_services_with_the_cycle_of_their_one_price(new_database):
    from alembic import command

    migrations = definition().migrations
    url = await new_database("catalog")
    await asyncio.to_thread(upgrade, migrations, url, "0002")
    engine = create_async_engine(url)
    monthly, once, yearly = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    try:
        async with engine.begin() as conn:
            for item_id, sku, price, billing, months in (
                (monthly, "M", "49.90", "recurring", 1),
                (once, "O", "150.00", "one_time", None),
                (yearly, "Y", "400.00", "recurring", 12),
            ):
                await conn.execute(
                    text(
                        "INSERT INTO items (id, sku, name, description, price, currency, billing, "
                        "billing_period_months, status, revision, created_at, updated_at) VALUES "
                        "(:id, :sku, :sku, '', CAST(:price AS numeric), 'EUR', :billing, :months, 'active', 1, "
                        "now(), now())"
                    ),
                    {"id": item_id, "sku": sku, "price": price, "billing": billing, "months": months},
                )
        await asyncio.to_thread(upgrade, migrations, url)
        async with engine.connect() as conn:
            kinds = dict((await conn.execute(text("SELECT sku, kind FROM items"))).all())
            prices = (
                await conn.execute(text("SELECT item_id, cycle, position, price::text FROM item_prices ORDER BY 1"))
            ).all()
        assert kinds == {"M": "service", "O": "service", "Y": "service"}
        assert sorted((str(i), c, n, p) for i, c, n, p in prices) == sorted(
            [
                (str(monthly), "monthly", 0, "49.90"),
                (str(once), "one_time", 0, "150.00"),
                (str(yearly), "annual", 0, "400.00"),
            ]
        )
        await asyncio.to_thread(command.downgrade, alembic_config(migrations, url), "0002")
        async with engine.connect() as conn:
            back = (
                await conn.execute(
                    text("SELECT sku, price::text, billing, billing_period_months FROM items ORDER BY sku")
                )
            ).all()
        assert [tuple(r) for r in back] == [
            ("M", "49.90", "recurring", 1),
            ("O", "150.00", "one_time", None),
            ("Y", "400.00", "recurring", 12),
        ]
    finally:
        await engine.dispose()


async def test_existing_add_ons_may_be_added_once_per_parent_and_nothing_is_featured(new_database):
    migrations = definition().migrations
    url = await new_database("catalog")
    await asyncio.to_thread(upgrade, migrations, url, "0003")
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            for sku, kind in (("HOST", "service"), ("SSL", "add_on")):
                await conn.execute(
                    text(
                        "INSERT INTO items (id, sku, name, description, kind, currency, status, revision, "
                        "created_at, updated_at) VALUES (:id, :sku, :sku, '', :kind, 'EUR', 'active', 1, now(), now())"
                    ),
                    {"id": uuid.uuid4(), "sku": sku, "kind": kind},
                )
        await asyncio.to_thread(upgrade, migrations, url)
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT sku, max_per_parent, featured FROM items ORDER BY sku"))).all()
        assert [tuple(r) for r in rows] == [("HOST", None, None), ("SSL", 1, None)]
    finally:
        await engine.dispose()


async def test_revision_0006_gives_existing_items_no_attributes_and_goes_back_to_0005(new_database):
    from alembic import command

    migrations = definition().migrations
    url = await new_database("catalog")
    await asyncio.to_thread(upgrade, migrations, url, "0005")
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO items (id, sku, name, description, kind, currency, status, revision, "
                    "created_at, updated_at) VALUES (:id, 'MUG', 'Mug', '', 'good', 'EUR', 'active', 1, now(), now())"
                ),
                {"id": uuid.uuid4()},
            )
        await asyncio.to_thread(upgrade, migrations, url)
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT attributes FROM items"))).scalar_one() == []
            assert (await conn.execute(text("SELECT count(*) FROM access_groups"))).scalar_one() == 0
        await asyncio.to_thread(command.downgrade, alembic_config(migrations, url), "0005")
        async with engine.connect() as conn:
            tables = set(
                (await conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))).scalars()
            )
            assert "items" in tables and not tables & {"access_groups", "documents", "document_groups"}
    finally:
        await engine.dispose()
