"""Notify's migrations: the tables they make are the models', revision 0003 keeps the addresses
notify already held as confirmed (and back), and revision 0005 makes the deliveries held the
account's (a billing contact's are dropped going back)."""

from __future__ import annotations

import asyncio
import uuid

from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from notify.adapters.tables import Base
from notify.bootstrap import definition
from portal_runtime.migrations import alembic_config, upgrade
from portal_runtime.testing import schema_drift


async def test_migrations_make_the_tables_the_models_describe(migrated_database):
    assert await schema_drift(await migrated_database(definition()), Base.metadata) == []


async def test_an_address_held_before_confirmations_stays_the_one_emails_go_to(new_database):
    migrations = definition().migrations
    url = await new_database("notify")
    await asyncio.to_thread(upgrade, migrations, url, "0002")
    engine = create_async_engine(url)
    waiting = uuid.uuid4()
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO recipients (account_id, email, language, changed_at, updated_at) "
                    "VALUES ('acme', 'ops@acme.test', 'de', now(), now())"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO deliveries (id, account_id, template, cause_event_id, cause_type, cause_version, "
                    "cause_payload, correlation_id, status, attempts, created_at, updated_at) VALUES (:id, 'newco', "
                    "'request_received', :cause, 'RequestSubmitted', 1, '{}', :cause, 'waiting_for_recipient', 0, "
                    "now(), now())"
                ),
                {"id": waiting, "cause": uuid.uuid4()},
            )
        await asyncio.to_thread(upgrade, migrations, url)
        async with engine.begin() as conn:
            held = (await conn.execute(text("SELECT email, confirmed_at, confirmation_email FROM recipients"))).one()
            assert tuple(held) == ("ops@acme.test", None, None), "kept as confirmed, marked as taken before"
            # an account that only asked for an address since, and an email awaiting it
            await conn.execute(
                text(
                    "INSERT INTO recipients (account_id, language, changed_at, updated_at, confirmation_email, "
                    "confirmation_token_hash, confirmation_requested_at, confirmation_expires_at) VALUES ('newco', "
                    "'en', now(), now(), 'ops@newco.test', :hash, now(), now())"
                ),
                {"hash": "0" * 64},
            )
            await conn.execute(text("UPDATE deliveries SET status = 'awaiting_confirmation'"))
        await asyncio.to_thread(command.downgrade, alembic_config(migrations, url), "0002")
        async with engine.connect() as conn:
            back = (await conn.execute(text("SELECT account_id, email FROM recipients"))).all()
            status = await conn.scalar(text("SELECT status FROM deliveries"))
        assert [tuple(r) for r in back] == [("acme", "ops@acme.test")], "an account without an address is dropped"
        assert status == "waiting_for_recipient"
    finally:
        await engine.dispose()


# A delivery row as revision 0004 holds it; from 0005 on it may name its audience.
DELIVERY = (
    "INSERT INTO deliveries (id, account_id, template, cause_event_id, cause_type, cause_version, cause_payload, "
    "correlation_id, status, attempts, created_at, updated_at{columns}) VALUES (:id, 'acme', 'units_plan_paused', "
    ":cause, 'UnitsPlanPaused', 1, '{{}}', :cause, 'waiting_for_recipient', 0, now(), now(){values})"
)


async def test_deliveries_held_before_audiences_are_the_accounts_and_a_contacts_go_on_downgrade(new_database):
    migrations = definition().migrations
    url = await new_database("notify")
    await asyncio.to_thread(upgrade, migrations, url, "0004")
    engine = create_async_engine(url)
    cause = uuid.uuid4()
    try:
        async with engine.begin() as conn:
            await conn.execute(text(DELIVERY.format(columns="", values="")), {"id": uuid.uuid4(), "cause": cause})
        await asyncio.to_thread(upgrade, migrations, url)
        async with engine.begin() as conn:
            assert await conn.scalar(text("SELECT audience FROM deliveries")) == "account"
            contacts = text(DELIVERY.format(columns=", audience", values=", 'billing_contact'"))
            await conn.execute(contacts, {"id": uuid.uuid4(), "cause": cause})  # the same event's second email
        await asyncio.to_thread(command.downgrade, alembic_config(migrations, url), "0004")
        async with engine.connect() as conn:
            left = (await conn.execute(text("SELECT cause_event_id, template FROM deliveries"))).all()
        assert [tuple(r) for r in left] == [(cause, "units_plan_paused")], "the account's stays, the contact's goes"
    finally:
        await engine.dispose()
