"""Orders' migrations make the tables the models describe (the runtime's idempotency table
included: checkout takes Idempotency-Keys), and revision 0005 (the client area) goes down and up
again over a database holding a seller-flow subscription."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from orders.adapters.tables import Base
from orders.bootstrap import definition
from portal_runtime.idempotency import IdempotencyBase
from portal_runtime.migrations import alembic_config, upgrade
from portal_runtime.testing import schema_drift


async def test_migrations_make_the_tables_the_models_describe(migrated_database):
    assert await schema_drift(await migrated_database(definition()), Base.metadata, IdempotencyBase.metadata) == []


async def test_the_client_area_revision_keeps_a_requests_subscription_and_goes_down_and_up(new_database):
    from alembic import command

    migrations = definition().migrations
    url = await new_database("orders")
    await asyncio.to_thread(upgrade, migrations, url, "0004")
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO service_requests (id, account_id, status, created_at, updated_at) VALUES "
                    "('00000000-0000-0000-0000-000000000001', 'acme', 'active', now(), now());"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO subscriptions (id, account_id, request_id, item_id, name, quantity, unit_price, "
                    "currency, billing, billing_period_months, status, activated_on, anchor_on, next_due_on, "
                    "created_at) VALUES ('00000000-0000-0000-0000-000000000002', 'acme', "
                    "'00000000-0000-0000-0000-000000000001', '00000000-0000-0000-0000-000000000003', 'Listing', 1, "
                    "49.90, 'EUR', 'recurring', 12, 'suspended', '2026-01-31', '2026-01-31', '2027-01-31', now())"
                )
            )
        await asyncio.to_thread(upgrade, migrations, url)
        async with engine.connect() as conn:
            row = (
                await conn.execute(text("SELECT cycle, cancel_at_period_end, suspend_reason FROM subscriptions"))
            ).one()
        assert tuple(row) == ("annual", False, "admin")
        await asyncio.to_thread(command.downgrade, alembic_config(migrations, url), "0004")
        await asyncio.to_thread(upgrade, migrations, url)
        assert await schema_drift(url, Base.metadata, IdempotencyBase.metadata) == []
    finally:
        await engine.dispose()
