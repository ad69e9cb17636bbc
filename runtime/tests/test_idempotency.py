"""Idempotency-Keys on real PostgreSQL: a new key proceeds, the same request replays its first
answer, another request with the key is a 422, keys go after 24 h, two requests with one key at
once make one effect and one answer — in the runtime itself and through billing's payment
endpoint over real HTTP."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from billing_testkit import CARD_OK
from sqlalchemy import select

from billing.adapters.gateway import InMemorySandboxGateway
from billing.bootstrap import definition as billing
from billing.domain.invoices import Line
from billing.service.invoices import BillingService, IssueInvoice
from billing.settings import BillingSettings
from portal_runtime.clock import FrozenClock
from portal_runtime.db import RuntimeBase, make_engine, make_sessionmaker
from portal_runtime.errors import Conflict, InvalidInput
from portal_runtime.idempotency import (
    Answer,
    IdempotencyBase,
    IdempotencyKeys,
    IdempotencyRecord,
    KeyReused,
    MemoryIdempotencyKeys,
    fingerprint,
    purge_expired_keys,
    purge_idempotency,
)
from portal_runtime.outbox import Outbox
from portal_runtime.testing import bearer, running_service
from portal_runtime.uow import UnitOfWork, UnitsOfWork, repository

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


class KeyedUnitOfWork(UnitOfWork):
    idempotency = repository(IdempotencyKeys)


@pytest.fixture
async def units(new_database):
    """Units of work of a service whose database has the outbox, inbox and idempotency tables."""
    engine = make_engine(await new_database("idem"))
    async with engine.begin() as conn:
        await conn.run_sync(RuntimeBase.metadata.create_all)
        await conn.run_sync(IdempotencyBase.metadata.create_all)
    clock = FrozenClock(NOW - timedelta(hours=25))
    yield UnitsOfWork(make_sessionmaker(engine), Outbox("idem", clock), lambda _: None, KeyedUnitOfWork), clock, engine
    await engine.dispose()


async def rows(units: UnitsOfWork) -> list[tuple]:
    async with units.sessions() as s:
        found = await s.execute(select(IdempotencyRecord.caller, IdempotencyRecord.key, IdempotencyRecord.status_code))
        return sorted(tuple(r) for r in found)


FP = fingerprint({"op": "pay", "amount": "10"})
OTHER = fingerprint({"op": "pay", "amount": "11"})


async def test_a_new_key_proceeds_the_same_request_replays_and_another_request_is_422(units):
    units, _, _ = units
    body = {"payment": {"amount": "10.00"}, "b": 1, "a": [1, "x"]}  # its key order is kept
    async with units() as uow:
        assert await uow.idempotency.claim("acme", "k", FP) is None  # new: the effect proceeds
        await uow.idempotency.store("acme", "k", Answer(201, body))
        await uow.commit()
    async with units() as uow:
        again = await uow.idempotency.claim("acme", "k", FP)
    assert again == Answer(201, body) and list(again.body) == ["payment", "b", "a"]
    async with units() as uow:
        with pytest.raises(KeyReused) as reused:
            await uow.idempotency.claim("acme", "k", OTHER)
    assert isinstance(reused.value, InvalidInput)
    assert (reused.value.status_code, reused.value.field) == (422, "Idempotency-Key")
    async with units() as uow:  # a key is the caller's own
        assert await uow.idempotency.claim("globex", "k", OTHER) is None
        await uow.idempotency.store("globex", "k", Answer(402, {"reason": "card_declined"}))
        await uow.commit()
    async with units() as uow:
        assert await uow.idempotency.claim("globex", "k", OTHER) == Answer(402, {"reason": "card_declined"})
    assert await rows(units) == [("acme", "k", 201), ("globex", "k", 402)]


async def test_a_refused_request_leaves_its_key_free_and_an_answerless_claim_is_409(units):
    units, _, _ = units
    async with units() as uow:  # refused (raised, left without commit): the claim rolls back
        assert await uow.idempotency.claim("acme", "refused", FP) is None
    async with units() as uow:
        assert await uow.idempotency.claim("acme", "refused", OTHER) is None  # free for a corrected request
        await uow.commit()  # committed without storing an answer (a use case's bug)
    async with units() as uow:
        with pytest.raises(Conflict) as pending:
            await uow.idempotency.claim("acme", "refused", OTHER)
    assert (pending.value.status_code, pending.value.field) == (409, "Idempotency-Key")


async def test_two_claims_of_one_key_at_once_make_one_effect_and_one_answer(units):
    """The second claim waits on the first's uncommitted row (no other lock is held), then replays
    what the first committed; after a first that rolled back, the second proceeds."""
    units, _, _ = units
    effects: list[str] = []
    claimed = asyncio.Event()

    async def request(name: str, *, first: bool, fail: bool = False) -> Answer:
        if not first:
            await claimed.wait()  # the first holds the key now
        async with units() as uow:
            replayed = await uow.idempotency.claim("acme", f"k-{fail}", FP)
            if first:
                claimed.set()
                await asyncio.sleep(0.3)  # the effect takes a while; the second must wait meanwhile
                if fail:
                    return Answer(500, None)  # left without commit: rolled back
            if replayed is not None:
                return replayed
            effects.append(name)
            answer = await uow.idempotency.store("acme", f"k-{fail}", Answer(201, {"by": name}))
            await uow.commit()
            return answer

    answers = await asyncio.gather(request("a", first=True), request("b", first=False))
    assert answers == [Answer(201, {"by": "a"})] * 2 and effects == ["a"]

    claimed.clear()
    effects.clear()
    answers = await asyncio.gather(request("a", first=True, fail=True), request("b", first=False, fail=True))
    assert answers == [Answer(500, None), Answer(201, {"by": "b"})] and effects == ["b"]


async def test_keys_older_than_24_hours_are_purged(units):
    units, clock, _ = units
    for caller in ("old", "recent"):  # claimed 25 h and 23 h before NOW
        async with units() as uow:
            await uow.idempotency.claim(caller, "k", FP)
            await uow.idempotency.store(caller, "k", Answer(201, {}))
            await uow.commit()
        clock.advance(hours=2)
    async with units.sessions() as s, s.begin():
        assert await purge_expired_keys(s, NOW) == 1
    assert await rows(units) == [("recent", "k", 201)]
    async with units.sessions() as s, s.begin():
        assert await purge_expired_keys(s, NOW) == 0  # nothing more to do
        assert await purge_idempotency(s, older_than=NOW) == 1  # the function itself, with any cut-off
    assert await rows(units) == []


async def test_the_periodic_purge_skips_a_service_without_the_table(new_database):
    engine = make_engine(await new_database("noidem"))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(RuntimeBase.metadata.create_all)  # a service that takes no keys
        async with make_sessionmaker(engine)() as s, s.begin():
            assert await purge_expired_keys(s, NOW) == 0
    finally:
        await engine.dispose()


async def test_memory_keys_follow_the_same_rules():
    keys = MemoryIdempotencyKeys()
    assert await keys.claim("acme", "k", FP) is None
    await keys.store("acme", "k", Answer(201, {"ok": True}))
    assert await keys.claim("acme", "k", FP) == Answer(201, {"ok": True})
    with pytest.raises(KeyReused):
        await keys.claim("acme", "k", OTHER)


def test_a_fingerprint_is_the_canonical_json_of_the_request():
    assert fingerprint({"a": 1, "b": [1, 2]}) == fingerprint({"b": [1, 2], "a": 1})
    assert fingerprint({"a": 1}) != fingerprint({"a": 2}) and len(FP) == 64


async def test_billings_migration_makes_the_table_the_model_describes(migrated_database):
    engine = make_engine(await migrated_database(billing()))

    def diff(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, IdempotencyBase.metadata)
        return [
            d
            for d in differences
            if not (d[0] == "remove_table" or (d[0] == "remove_index" and d[1].table.name != "idempotency"))
        ]

    try:
        async with engine.connect() as conn:
            differences = await conn.run_sync(diff)
            old = await conn.scalar(select(IdempotencyRecord.key).limit(1))
            gone = await conn.exec_driver_sql("SELECT to_regclass('idempotency_keys')")
            assert gone.scalar() is None and old is None  # billing's own table is gone
    finally:
        await engine.dispose()
    assert differences == [], differences


async def test_billings_upgrade_carries_the_answers_given_over_and_downgrades(new_database):
    from alembic import command

    from portal_runtime.migrations import alembic_config, upgrade

    url = await new_database("billing")
    migrations = billing().migrations
    await asyncio.to_thread(upgrade, migrations, url, "0001")
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql(
                "INSERT INTO idempotency_keys VALUES ('acme', 'k', 'fp', gen_random_uuid(), 201, "
                "'{\"b\":1,\"a\":2}', now()), ('acme', 'half', 'fp', gen_random_uuid(), 0, '', now())"
            )
        await asyncio.to_thread(upgrade, migrations, url)
        async with make_sessionmaker(engine)() as s:
            found = (await s.execute(select(IdempotencyRecord.key, IdempotencyRecord.body))).all()
        assert [(key, list(body.items())) for key, body in found] == [("k", [("b", 1), ("a", 2)])]
        await asyncio.to_thread(command.downgrade, alembic_config(migrations, url), "0001")
        async with engine.connect() as conn:
            tables = await conn.exec_driver_sql("SELECT to_regclass('idempotency_keys'), to_regclass('idempotency')")
            assert tuple(tables.one()) == ("idempotency_keys", None)
    finally:
        await engine.dispose()


# -- through billing's payment endpoint, over real HTTP --------------------------------------
class SlowGateway(InMemorySandboxGateway):
    """Counts the calls and takes a moment to answer, so that concurrent requests overlap."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    async def charge_card(self, **kw):
        self.calls += 1
        await asyncio.sleep(0.3)
        return await super().charge_card(**kw)


async def test_the_same_key_sent_twice_at_once_pays_once_and_answers_alike(new_database, kafka):
    gateway = SlowGateway()
    clock = FrozenClock(datetime(2026, 3, 20, 9, 0, tzinfo=UTC))
    url = await new_database("billing")
    service = running_service(
        billing(gateway=gateway), database_url=url, kafka=kafka, clock=clock, consume=False, relay=False
    )
    async with service as (rt, http):
        use_cases = BillingService(rt.uow, rt.clock, gateway, BillingSettings().payee())
        invoice = await use_cases.issue_invoice(
            IssueInvoice(uuid.uuid4(), "acme", "EUR", [Line("Hosting", 1, Decimal("129.70"))], Decimal("129.70"))
        )
        pay = f"/v1/invoices/{invoice.id}/payments"
        body = {"method": "card", "amount": "50.00", "currency": "EUR", "payer_reference": "acme", "card": CARD_OK}
        headers = {**bearer("acme"), "Idempotency-Key": "at-once"}
        first, second = await asyncio.gather(
            http.post(pay, json=body, headers=headers), http.post(pay, json=body, headers=headers)
        )
        after = (await http.get(f"/v1/invoices/{invoice.id}", headers=bearer("acme"))).json()
        changed = await http.post(pay, json={**body, "amount": "51.00"}, headers=headers)
    assert first.status_code == second.status_code == 201, (first.text, second.text)
    assert first.content == second.content
    assert gateway.calls == 1 and len(after["payments"]) == 1 and after["amount_paid"] == "50.00"
    assert changed.status_code == 422 and changed.json()["field"] == "Idempotency-Key"
