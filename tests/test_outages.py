"""Outages are waited out, on the real broker and database: no valid event is dead-lettered
while PostgreSQL restarts, no role exits while Kafka is away, and the API keeps taking writes
while Kafka is away; what was written is delivered once, in order per aggregate, afterwards."""

from __future__ import annotations

import asyncio
import collections
import signal
import subprocess
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import probe_service
from aiokafka import AIOKafkaProducer
from outage import PrivateKafka, PrivatePostgres, Role, each_answers, private
from sqlalchemy import select, update

from portal_contracts import Envelope, Money
from portal_contracts.events.catalog import CatalogItemPublished
from portal_contracts.registry import all_topics
from portal_runtime.db import OutboxRecord
from portal_runtime.migrations import upgrade
from portal_runtime.testing import TEST_SECRET, bearer, eventually, read_topic, running_service
from portal_stack._proc import free_port

ADMIN = bearer("ops", "admin")


def item_event(name: str, item_id: uuid.UUID) -> bytes:
    payload = CatalogItemPublished(
        item_id=item_id,
        sku=f"SKU-{item_id.hex[:6]}",
        name=name,
        price=Money(amount=Decimal("1.00"), currency="EUR"),
        billing="one_time",
        revision=1,
        published_at=datetime.now(UTC),
    )
    return Envelope.wrap(payload, producer="test", occurred_at=datetime.now(UTC)).model_dump_json().encode()


async def publish(kafka: str, events: list[tuple[uuid.UUID, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        await asyncio.gather(
            *[await producer.send("catalog.items", body, key=str(key).encode()) for key, body in events]
        )
    finally:
        await producer.stop()


def valid_dead_letters(records) -> list:
    """Dead letters of events (not of unparseable bytes that earlier tests left on the topic)."""
    return [r for r in records if dict(r.headers).get("x-attempts") != b"0"]


async def test_postgres_killed_under_a_backlog_dead_letters_nothing_and_applies_each_event_once(kafka):
    """kill -9 of the postmaster and its backends for about 10 s while the consumer works through
    300 events; the consumer would dead-letter after 3 tries (0.35 s) if it counted the outage."""
    async with private(PrivatePostgres) as pg:
        await pg.start()
        group = f"probe_{uuid.uuid4().hex[:8]}"
        url = await pg.database(group)
        await probe_service.create_tables(url)
        await probe_service.create_dlq(kafka, group)
        mine = [uuid.uuid4() for _ in range(300)]
        await publish(kafka, [(i, item_event(f"backlog {n}", i)) for n, i in enumerate(mine)])

        applied: set[uuid.UUID] = set()
        enough = asyncio.Event()

        def watch(rt) -> None:
            def observe(outcome: str, envelope) -> None:
                item = uuid.UUID(envelope.data["item_id"])
                if outcome == "applied" and item in set(mine):
                    applied.add(item)
                    if len(applied) >= 40:
                        enough.set()

            rt.consumer.observers.append(observe)

        async with running_service(
            probe_service.definition(group, refuse_poison=False),
            database_url=url,
            kafka=kafka,
            consumer_max_attempts=3,
            before_start=watch,
        ) as (rt, http):
            await asyncio.wait_for(enough.wait(), 60)
            pg.kill()
            at_kill = len(applied)
            assert at_kill < len(mine), "the backlog was gone before the kill: nothing was tested"
            statuses = collections.Counter()
            loop = asyncio.get_running_loop()
            down_until = loop.time() + 10
            while loop.time() < down_until:
                statuses[(await http.get("/health/ready")).status_code] += 1
                await asyncio.sleep(0.25)
            assert statuses[503] > 0 and statuses[200] == 0, statuses
            body = (await http.get("/health/ready")).json()
            assert body["checks"]["database"].startswith("failed"), body
            await pg.start()  # same data: crash recovery
            await eventually(
                lambda: len(applied) == len(mine),
                timeout=90,
                what=f"all {len(mine)} events to be applied after the restart",
            )
            await eventually(lambda: _ready(http), what="readiness to answer 200 again")
            assert rt.consumer.outage.waits > 0, "the consumer never met the outage"
            async with rt.sessions() as s:
                counts = dict(
                    (
                        await s.execute(
                            select(probe_service.SeenItem.item_id, probe_service.SeenItem.applied).where(
                                probe_service.SeenItem.item_id.in_(mine)
                            )
                        )
                    ).all()
                )
            assert len(counts) == len(mine) and set(counts.values()) == {1}, "each event applied exactly once"
        dead = valid_dead_letters(await read_topic(kafka, f"{group}.dlq", lambda r: True, want=1, timeout=3))
        assert dead == [], f"valid events were dead-lettered: {[dict(r.headers).get('x-error') for r in dead]}"


async def _ready(http) -> bool:
    return (await http.get("/health/ready")).status_code == 200


async def test_api_worker_and_relay_started_while_kafka_is_down_stay_up_and_become_ready(new_database, tmp_path):
    from catalog.bootstrap import definition as catalog
    from orders.bootstrap import definition as orders

    async with private(PrivateKafka) as broker:
        urls = {}
        for name, d in (("catalog", catalog()), ("orders", orders())):
            urls[name] = await new_database(name)
            await asyncio.to_thread(upgrade, d.migrations, urls[name])

        def env(name: str) -> dict[str, str]:
            return {"DATABASE_URL": urls[name], "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap, "JWT_SECRET": TEST_SECRET}

        roles = [
            Role("catalog", "api", env("catalog"), tmp_path),
            Role("catalog", "relay", env("catalog"), tmp_path),
            Role("orders", "worker", env("orders"), tmp_path),
        ]
        api, relay, worker = roles
        try:
            await each_answers(roles, "/health/live", timeout=60)
            # The api needs no Kafka: it is ready and takes writes into its outbox.
            assert api.status("/health/ready") == 200, api.why()
            assert relay.status("/health/ready") == 503 and worker.status("/health/ready") == 503
            created = await asyncio.to_thread(_post_item, api.url)
            assert created.status_code == 201, created.text

            await broker.start(all_topics())  # some seconds: every role must stay up meanwhile
            started = asyncio.get_running_loop().time()
            await each_answers([relay, worker], "/health/ready", timeout=60)
            became_ready = asyncio.get_running_loop().time() - started
            assert became_ready < 30, f"ready {became_ready:.1f}s after Kafka started"

            # And the write made while Kafka was away reaches orders' copy of the catalog.
            from orders.adapters.tables import OfferedItemRow

            async def copied():
                from sqlalchemy.ext.asyncio import create_async_engine

                engine = create_async_engine(urls["orders"])
                try:
                    async with engine.connect() as conn:
                        return await conn.scalar(
                            select(OfferedItemRow.name).where(OfferedItemRow.item_id == uuid.UUID(created.json()["id"]))
                        )
                finally:
                    await engine.dispose()

            assert await eventually(copied, timeout=60, what="orders to copy the item") == "Outage-proof listing"
            assert all(role.alive() for role in roles), [r.why() for r in roles if not r.alive()]
        finally:
            codes = {role.name: role.stop() for role in roles}
        # uvicorn shuts down cleanly on SIGTERM, then re-raises it: -15 is a clean stop
        assert set(codes.values()) <= {0, -15}, codes


def _post_item(base: str):
    import httpx

    return httpx.post(
        base + "/v1/admin/items",
        headers=ADMIN,
        timeout=10,
        json={
            "sku": f"OUT-{uuid.uuid4().hex[:6]}",
            "name": "Outage-proof listing",
            "price": "9.90",
            "currency": "EUR",
            "billing": "one_time",
        },
    )


async def test_a_wrong_configuration_stops_the_process_saying_what_is_wrong(new_database, kafka, tmp_path):
    missing_db = (await new_database("catalog")).rsplit("/", 1)[0] + "/no_such_database"
    role = Role(
        "catalog",
        "worker",
        {"DATABASE_URL": missing_db, "KAFKA_BOOTSTRAP_SERVERS": kafka, "JWT_SECRET": TEST_SECRET},
        tmp_path,
    )
    try:
        code = await asyncio.to_thread(role.proc.wait, 60)
    finally:
        role.stop()
    assert code == 2, role.why()
    assert 'database "no_such_database" does not exist' in role.log.read_text(), role.why()

    # A worker whose topic does not exist stops too, once its wait for the topic is over.
    group = f"probe_{uuid.uuid4().hex[:8]}"  # no {group}.dlq topic made
    async with running_service(
        probe_service.definition(group),
        database_url=await new_database(group),
        kafka=kafka,
        kafka_topic_wait_seconds=0.5,
    ) as (rt, _):
        await eventually(lambda: rt.fatal, what="the missing topic to stop the worker")
        assert f"{group}.dlq" in rt.fatal and "create the topics" in rt.fatal


async def test_kafka_away_while_clients_write_through_every_api_then_each_event_delivered_once_in_order(
    infra, new_database
):
    """Kafka killed (SIGKILL) while a client writes through catalog, orders, billing, returns and
    notify: every write answers 2xx. Kafka started again on its data: every event reaches every
    consumer once, and each aggregate's events are on the topic in the order they were written."""
    from flow import ADMIN as FLOW_ADMIN
    from flow import draft_with, offer, ok, record_transfer, running_portal, seller, the_invoice

    from notify.adapters.tables import DeliveryRow
    from orders.adapters.tables import OfferedItemRow
    from returns.bootstrap import definition as returns_definition

    async with private(PrivateKafka) as broker:
        await broker.start(all_topics())
        async with (
            running_portal(infra, new_database, broker.bootstrap) as portal,
            running_service(
                returns_definition(), database_url=await new_database("returns"), kafka=broker.bootstrap
            ) as returns,
        ):
            portal.runtimes["returns"], portal.http["returns"] = returns
            # Before the outage: an offer, a seller, an approved request with its invoice.
            listing = await offer(portal, "Premium listing", "49.90")
            account, email, headers = await seller(portal, "en")
            first = await draft_with(portal, headers, [{"item_id": listing["id"], "quantity": 2}])
            ok(await portal.http["orders"].post(f"/v1/requests/{first['id']}/submit", headers=headers))
            ok(await portal.http["orders"].post(f"/v1/admin/requests/{first['id']}/approve", headers=FLOW_ADMIN))
            invoice = await the_invoice(portal, headers)
            await eventually(portal.settled, timeout=60, what="the system to settle before the outage")
            async with portal.runtimes["notify"].sessions() as s, s.begin():
                failed = await s.scalar(select(DeliveryRow.id).where(DeliveryRow.account_id == account).limit(1))
                await s.execute(update(DeliveryRow).where(DeliveryRow.id == failed).values(status="failed"))

            broker.kill()
            catalog, orders, billing = portal.http["catalog"], portal.http["orders"], portal.http["billing"]
            answers = {}
            answers["catalog: create item"] = created = await catalog.post(
                "/v1/admin/items",
                headers=ADMIN,
                json={
                    "sku": f"BANNER-{uuid.uuid4().hex[:6]}",
                    "name": "Banner",
                    "price": "12.00",
                    "currency": "EUR",
                    "billing": "one_time",
                },
            )
            answers["catalog: change item"] = await catalog.patch(
                f"/v1/admin/items/{created.json()['id']}", headers=ADMIN, json={"price": "12.50"}
            )
            answers["orders: profile"] = await orders.put(
                "/v1/account/profile", headers=headers, json={"email": email, "language": "de"}
            )
            answers["orders: draft"] = second = await orders.post(
                "/v1/requests", headers=headers, json={"lines": [{"item_id": listing["id"], "quantity": 1}]}
            )
            answers["orders: submit"] = await orders.post(f"/v1/requests/{second.json()['id']}/submit", headers=headers)
            answers["orders: approve"] = await orders.post(
                f"/v1/admin/requests/{second.json()['id']}/approve", headers=FLOW_ADMIN
            )
            answers["billing: payment"] = await record_transfer(portal, invoice, "10.00", "part 1", key="k-1")
            answers["returns: request"] = await portal.http["returns"].post(
                "/v1/returns",
                headers=headers,
                json={
                    "invoice_number": invoice["number"],
                    "lines": [{"sku": "Premium listing", "quantity": 1, "reason": "not needed"}],
                },
            )
            answers["notify: retry"] = await portal.http["notify"].post(
                f"/v1/admin/deliveries/{failed}/retry", headers=FLOW_ADMIN
            )
            refused = {
                what: f"{r.status_code} {r.text}" for what, r in answers.items() if not 200 <= r.status_code < 300
            }
            assert not refused, f"writes refused while Kafka was away: {refused}"

            await broker.start()  # same data
            await eventually(
                portal.settled,
                timeout=120,
                interval=0.5,
                what="every event published and applied by every consumer after Kafka came back",
            )
            invoices = ok(await billing.get("/v1/invoices", headers=headers))["items"]
            assert len(invoices) == 2, invoices  # the second request's invoice, once
            async with portal.runtimes["orders"].sessions() as s:
                copy = await s.get(OfferedItemRow, uuid.UUID(created.json()["id"]))
            assert (copy.revision, str(copy.price)) == (2, "12.50"), "orders has the changed item"
            async with portal.runtimes["notify"].sessions() as s:
                causes = (
                    await s.scalars(select(DeliveryRow.cause_event_id).where(DeliveryRow.account_id == account))
                ).all()
            assert len(causes) == len(set(causes)) >= 5, causes
            await assert_in_order_per_aggregate(portal, broker.bootstrap)


async def assert_in_order_per_aggregate(portal, kafka: str) -> None:
    """On every topic, each key's events come (first copies) in the order of its outbox rows."""
    written: dict[tuple[str, str], list[str]] = collections.defaultdict(list)
    for rt in portal.runtimes.values():
        async with rt.sessions() as s:
            for topic, key, event_id in (
                await s.execute(
                    select(OutboxRecord.topic, OutboxRecord.key, OutboxRecord.event_id).order_by(OutboxRecord.id)
                )
            ).all():
                written[(topic, key)].append(str(event_id))
    for topic in {t for t, _ in written}:
        expected = sum(len(ids) for (t, _), ids in written.items() if t == topic)
        records = await read_topic(kafka, topic, lambda r: True, want=expected, timeout=30)
        seen: dict[str, list[str]] = collections.defaultdict(list)
        for r in sorted(records, key=lambda r: (r.partition, r.offset)):
            event_id = dict(r.headers)["event-id"].decode()
            if event_id not in seen[r.key.decode()]:
                seen[r.key.decode()].append(event_id)
        for (t, key), ids in written.items():
            if t == topic:
                assert seen[key] == ids, f"{topic} key {key}: on the topic {seen[key]}, written {ids}"


async def test_each_role_stops_promptly_on_sigterm_when_kafka_and_postgres_are_gone(tmp_path):
    """An orchestrator stops a process with SIGTERM and kills it after its grace period (30 s in
    deploy/k8s). When Kafka and PostgreSQL died first (a node lost, the local stack torn down at
    once), every role must still stop in time, not wait on a broker or database that never answers:
    what it did not commit is redelivered or published again, and the inbox keeps the effect single."""
    from notify.bootstrap import definition as notify

    async with private(PrivateKafka) as broker, private(PrivatePostgres) as pg:
        await pg.start()
        url = await pg.database("notify")
        await asyncio.to_thread(upgrade, notify().migrations, url)
        await broker.start(all_topics())
        env = {
            "DATABASE_URL": url,
            "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
            "JWT_SECRET": TEST_SECRET,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(free_port()),  # nothing listens: the sender waits it out
        }
        roles = [Role("notify", role, env, tmp_path) for role in ("run", "api", "worker", "relay")]
        try:
            await each_answers(roles, "/health/ready", timeout=90)
            broker.kill()
            pg.kill()
            for role in roles:
                role.proc.send_signal(signal.SIGTERM)
            sent = time.monotonic()
            took = {}
            for role in roles:
                code = await asyncio.to_thread(_wait, role.proc, sent + STOP_GRACE_SECONDS - time.monotonic())
                took[role.name] = (code, round(time.monotonic() - sent, 1))
            print("exit code and seconds after SIGTERM:", took)
            # uvicorn shuts down cleanly on SIGTERM, then re-raises it: -15 is a clean stop
            assert all(code in (0, -15) for code, _ in took.values()), (took, [r.why() for r in roles])
        finally:
            for role in roles:
                role.stop()


STOP_GRACE_SECONDS = 30  # deploy/k8s: terminationGracePeriodSeconds


def _wait(proc, timeout: float) -> int | None:
    """The exit code, or None when the process still runs after `timeout` seconds."""
    try:
        return proc.wait(max(timeout, 0))
    except subprocess.TimeoutExpired:
        return None
