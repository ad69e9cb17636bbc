"""Delivery guarantees, proven on the real broker and database: nothing lost, nothing doubled,
poison goes to the dead-letter topic and the partition moves on."""

from __future__ import annotations

import asyncio
import collections
import json
import sys
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import probe_service
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.bootstrap import definition as catalog_definition
from portal_contracts import Envelope, Money
from portal_contracts.envelope import CONTENT_TYPE
from portal_contracts.events.catalog import CatalogItemPublished
from portal_runtime.db import OutboxRecord
from portal_runtime.testing import Seen, bearer, eventually, read_topic, running_service

PROBE = Path(probe_service.__file__)
ADMIN = bearer("ops", "admin")
CLOUDEVENT = [("content-type", CONTENT_TYPE.encode())]  # the header the relay sets


def item_body(name: str) -> dict:
    return {
        "sku": f"SKU-{uuid.uuid4().hex[:8]}",
        "name": name,
        "price": "19.90",
        "currency": "EUR",
        "billing": "recurring",
        "billing_period_months": 1,
    }


async def probe(new_database, kafka, **kw):
    group, url = await probe_service.prepare(new_database, kafka)
    return group, url, running_service(probe_service.definition(group), database_url=url, kafka=kafka, **kw)


async def test_event_committed_in_one_service_is_applied_in_another(new_database, kafka):
    group, _, probe_ctx = await probe(new_database, kafka)
    async with (
        running_service(catalog_definition(), database_url=await new_database("catalog"), kafka=kafka) as (_, http),
        probe_ctx as (rt, _),
    ):
        created = await http.post("/v1/admin/items", json=item_body("SEO boost"), headers=ADMIN)
        assert created.status_code == 201, created.text
        item_id = uuid.UUID(created.json()["id"])
        assert await eventually(lambda: probe_service.applied(rt, item_id), what="the probe to apply the item") == 1


async def outbox_event_id(rt, key: uuid.UUID) -> uuid.UUID:
    async with rt.sessions() as s:
        return await s.scalar(select(OutboxRecord.event_id).where(OutboxRecord.key == str(key)))


async def test_consumer_dying_before_offset_commit_rereads_and_changes_nothing(new_database, kafka):
    """The probe process applies the event, commits its transaction, waits past the auto-commit
    interval and dies before its handler returns: with the offset committed only after the handler
    (NACK_ON_ERROR) the event is read again; with ACK_FIRST (auto-commit) it would not be."""
    seen = Seen()
    group, url, _ = await probe(new_database, kafka)
    async with running_service(catalog_definition(), database_url=await new_database("catalog"), kafka=kafka) as (
        cat,
        http,
    ):
        item_id = uuid.UUID((await http.post("/v1/admin/items", json=item_body("Backup"), headers=ADMIN)).json()["id"])
        event_id = await eventually(lambda: outbox_event_id(cat, item_id), what="the item's event")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(PROBE), "consume", url, kafka, group, str(item_id)
        )
        assert await asyncio.wait_for(proc.wait(), 90) == 17, "the probe consumer should have died on cue"
        async with running_service(
            probe_service.definition(group), database_url=url, kafka=kafka, before_start=seen.watch
        ) as (rt, _):
            assert await probe_service.applied(rt, item_id) == 1, "the dead consumer's transaction committed"
            await seen.wait(event_id, "duplicate")
            assert await probe_service.applied(rt, item_id) == 1
            assert seen.count(event_id, "applied") == 0


async def send_items(kafka: str, key: uuid.UUID, names: list[str]) -> tuple[list[uuid.UUID], int, int]:
    """One CatalogItemPublished per name, all with one key (one partition): their item ids, the
    partition and the offset after the last of them."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka, enable_idempotence=True)
    await producer.start()
    try:
        ids = [uuid.uuid4() for _ in names]
        sent = [
            producer.send("catalog.items", envelope(n, i), key=str(key).encode(), headers=CLOUDEVENT)
            for n, i in zip(names, ids, strict=True)
        ]
        last = await (await sent[-1])
        for future in sent[:-1]:
            await future
    finally:
        await producer.stop()
    return ids, last.partition, last.offset + 1


async def committed_offset(kafka: str, group: str, partition: int) -> int | None:
    from aiokafka import TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    found = offsets.get(TopicPartition("catalog.items", partition))
    return None if found is None else found.offset


async def all_applied(rt, ids: list[uuid.UUID]) -> bool | None:
    async with rt.sessions() as s:
        found = await s.scalar(
            select(func.count()).select_from(probe_service.SeenItem).where(probe_service.SeenItem.item_id.in_(ids))
        )
    return found == len(ids) or None


async def test_handled_offsets_are_committed_together_not_one_commit_per_message(new_database, kafka, monkeypatch):
    """80 events on one partition: every one applied, and their offsets committed in a few
    OffsetCommits (a commit per message would be 80), up to the last one."""
    from aiokafka import AIOKafkaConsumer

    commits = []
    original = AIOKafkaConsumer.commit

    async def counted(self, offsets=None):
        commits.append(offsets)
        return await original(self, offsets)

    monkeypatch.setattr(AIOKafkaConsumer, "commit", counted)
    group, _, probe_ctx = await probe(new_database, kafka)
    async with probe_ctx as (rt, _):
        handled_before = sum(rt.consumer.stats.values())
        commits_before = len(commits)
        ids, partition, end = await send_items(kafka, uuid.uuid4(), [f"batch {n}" for n in range(80)])
        await eventually(lambda: all_applied(rt, ids), what="all 80 events applied")
        handled = sum(rt.consumer.stats.values()) - handled_before

        async def committed_to_the_end() -> bool | None:
            offset = await committed_offset(kafka, group, partition)
            return (offset is not None and offset >= end) or None

        await eventually(committed_to_the_end, what=f"the group's offset of partition {partition} to reach {end}")
        made = len(commits) - commits_before
    assert handled >= 80
    assert 1 <= made <= handled // 5, f"{made} offset commits for {handled} handled records"
    assert all(offsets is not None for offsets in commits), "only explicit offsets of handled records are committed"


async def test_what_was_handled_is_committed_as_the_service_stops(new_database, kafka):
    """With a commit window far longer than the test, nothing is committed while the 20 events
    are applied; stopping the service commits their offsets, so a restart does not read them again."""

    def slow_commits(rt) -> None:
        rt.consumer.commit_seconds = 600.0

    group, _, probe_ctx = await probe(new_database, kafka, before_start=slow_commits)
    async with probe_ctx as (rt, _):
        ids, partition, end = await send_items(kafka, uuid.uuid4(), [f"stop {n}" for n in range(20)])
        await eventually(lambda: all_applied(rt, ids), what="all 20 events applied")
        before = await committed_offset(kafka, group, partition)
        assert before is None or before < end, "nothing should be committed within the 600 s window"
    assert (await committed_offset(kafka, group, partition) or 0) >= end


async def test_relay_dying_before_marking_publishes_again_and_consumer_ignores_duplicate(new_database, kafka):
    catalog_url = await new_database("catalog")
    async with running_service(catalog_definition(), database_url=catalog_url, kafka=kafka, relay=False) as (cat, http):
        item_id = uuid.UUID((await http.post("/v1/admin/items", json=item_body("Mail"), headers=ADMIN)).json()["id"])
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(PROBE), "relay-catalog", catalog_url, kafka, "catalog"
        )
        assert await asyncio.wait_for(proc.wait(), 90) == 17, "the relay should have died on cue"
        async with cat.sessions() as s:
            row = await s.scalar(select(OutboxRecord))
        assert row.published_at is None, "the row must still be pending after the crash"
        await cat.relay.relay_once()  # a healthy relay publishes it again
    copies = await read_topic(
        kafka, "catalog.items", lambda r: dict(r.headers).get("event-id") == str(row.event_id).encode(), want=2
    )
    assert len(copies) == 2, "the event should be on the topic twice"
    seen = Seen()
    group, _, probe_ctx = await probe(new_database, kafka, before_start=seen.watch)
    async with probe_ctx as (rt, _):
        await seen.wait(row.event_id, "applied")
        await seen.wait(row.event_id, "duplicate")  # this event's second copy, not any duplicate
        assert await probe_service.applied(rt, item_id) == 1
        assert seen.count(row.event_id, "applied") == 1


def envelope(name: str, item_id: uuid.UUID) -> bytes:
    payload = CatalogItemPublished(
        item_id=item_id,
        sku="X",
        name=name,
        price=Money(amount=Decimal(1), currency="EUR"),
        billing="one_time",
        revision=1,
        published_at=datetime.now(UTC),
    )
    return Envelope.wrap(payload, producer="test", occurred_at=datetime.now(UTC)).model_dump_json().encode()


async def test_poison_and_garbage_go_to_dead_letter_and_partition_moves_on(new_database, kafka):
    key = uuid.uuid4()  # one key: one partition, so "moves on" is about the same partition
    poison, good = uuid.uuid4(), uuid.uuid4()
    producer = AIOKafkaProducer(bootstrap_servers=kafka, enable_idempotence=True)
    await producer.start()
    try:
        pill = envelope("poison pill", poison)
        await producer.send_and_wait("catalog.items", pill, key=str(key).encode(), headers=CLOUDEVENT)
        await producer.send_and_wait("catalog.items", b"{not json", key=str(key).encode())
        await producer.send_and_wait("catalog.items", envelope("good one", good), key=str(key).encode())
    finally:
        await producer.stop()
    group, _, probe_ctx = await probe(new_database, kafka, consumer_max_attempts=3)
    async with probe_ctx as (rt, _):
        assert await eventually(lambda: probe_service.applied(rt, good), what="the message after the poison") == 1
        assert await probe_service.applied(rt, poison) == 0
    dead = await read_topic(kafka, f"{group}.dlq", lambda r: r.key == str(key).encode(), want=2)
    assert len(dead) == 2, f"expected the poison and the garbage on {group}.dlq"
    headers = [dict((k, v.decode()) for k, v in r.headers) for r in dead]
    by_attempts = {h["x-attempts"]: h for h in headers}
    assert "cannot apply poison pill" in by_attempts["3"]["x-error"]
    assert by_attempts["0"]["x-error"].startswith("Unparseable")
    assert {h["x-original-topic"] for h in headers} == {"catalog.items"}
    assert all(h["x-original-offset"].isdigit() for h in headers)
    assert dead[[h["x-attempts"] for h in headers].index("0")].value == b"{not json"
    # the pill is still the message it was: its value, and its own headers beside the failure's
    assert dead[[h["x-attempts"] for h in headers].index("3")].value == pill
    assert by_attempts["3"]["content-type"] == CONTENT_TYPE


async def test_dead_letters_are_listed_and_replayed_once_the_cause_is_fixed(new_database, kafka):
    from typer.testing import CliRunner

    from portal_runtime.cli import make_cli

    key, poison = uuid.uuid4(), uuid.uuid4()
    pill = envelope("poison pill", poison)
    pill_id = json.loads(pill)["id"]
    producer = AIOKafkaProducer(bootstrap_servers=kafka, enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait("catalog.items", pill, key=str(key).encode(), headers=CLOUDEVENT)
        await producer.send_and_wait("catalog.items", b"{not json", key=str(key).encode())
    finally:
        await producer.stop()
    group, url, probe_ctx = await probe(new_database, kafka, consumer_max_attempts=2)
    async with probe_ctx:
        await read_topic(kafka, f"{group}.dlq", lambda r: r.key == str(key).encode(), want=2)

    cli = make_cli(lambda: probe_service.definition(group))

    async def sre(*args: str):
        result = await asyncio.to_thread(
            CliRunner().invoke, cli, ["dlq", *args], env={"KAFKA_BOOTSTRAP_SERVERS": kafka}
        )
        if result.exit_code == 1 and result.exception is not None:
            raise result.exception
        return result.exit_code, result.output

    # (the new group read catalog.items from the start: earlier tests' pills are there too)
    code, listing = await sre("list")
    assert code == 0, listing
    [line] = [entry for entry in listing.splitlines() if pill_id in entry]
    assert "catalog.items/" in line and "CatalogItemPublished" in line and str(poison) not in line
    assert "attempts=2" in line and "cannot apply poison pill" in line
    garbage = [entry.split()[0] for entry in listing.splitlines() if "attempts=0" in entry and "Unparseable" in entry]
    assert garbage, listing
    assert (await sre("replay"))[0] == 2  # neither --at nor --all: refused, nothing replayed
    code, out = await sre("replay", "--at", "0:999999")
    assert code == 2 and "no dead letter at 0:999999" in out

    # The bug is fixed: the probe now applies poison pills. Replaying puts the pill back on its
    # topic (the unparseable message is left out of --all); it is applied once.
    async with running_service(probe_service.definition(group, refuse_poison=False), database_url=url, kafka=kafka) as (
        rt,
        _,
    ):
        code, out = await sre("replay", "--all")
        assert code == 0 and f"CatalogItemPublished {pill_id}" in out, out
        assert not any(f"replayed {position} " in out for position in garbage), "unparseable ones replayed"
        assert await eventually(lambda: probe_service.applied(rt, poison), what="the replayed pill") == 1
        [replayed, *_] = await read_topic(
            kafka, "catalog.items", lambda r: r.value == pill and "x-replayed-from" in dict(r.headers), want=1
        )
        assert dict(replayed.headers)["content-type"] == CONTENT_TYPE.encode()  # its own headers came back
        assert not any(name.startswith("x-") and name != "x-replayed-from" for name, _ in replayed.headers)
        # a second replay (an SRE running it twice) changes nothing
        seen_twice = rt.consumer.stats["duplicates"]
        code, out = await sre("replay", "--at", line.split()[0])
        assert code == 0, out
        await eventually(lambda: rt.consumer.stats["duplicates"] > seen_twice, what="the second replay to arrive")
        assert await probe_service.applied(rt, poison) == 1


async def test_a_message_that_fails_once_is_applied_once_and_never_dead_lettered(new_database, kafka):
    key, flaky = uuid.uuid4(), uuid.uuid4()
    body = envelope("flaky one", flaky)
    event_id = json.loads(body)["id"]
    seen = Seen()
    group, _, probe_ctx = await probe(new_database, kafka, consumer_max_attempts=2, before_start=seen.watch)
    async with probe_ctx as (rt, _):
        await send(kafka, [(key, body)])
        await seen.wait(event_id, "applied")
        assert await probe_service.applied(rt, flaky) == 1
        assert seen.count(event_id, "dead_lettered") == 0
    assert await read_topic(kafka, f"{group}.dlq", lambda r: r.key == str(key).encode(), want=1, timeout=3) == []


async def test_a_dead_letter_publish_that_fails_leaves_the_message_to_be_redelivered(new_database, kafka):
    """The poison pill fails its attempts; publishing it to the DLQ fails too (the broker refuses
    that one publish): the offset is not committed, the pill comes again, fails again and is
    dead-lettered then; the message after it on the partition is applied."""
    from aiokafka.errors import KafkaTimeoutError

    key, poison, good = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    pill, after = envelope("poison pill", poison), envelope("good one", good)
    pill_id = json.loads(pill)["id"]
    handed = collections.Counter()

    def break_first_dead_letter(rt) -> None:
        publish, handle = rt.broker.publish, rt.consumer.handle
        failures = [KafkaTimeoutError("the DLQ publish timed out (injected)")]

        async def flaky_publish(message, topic="", **kw):
            if topic.endswith(".dlq") and message == pill and failures:  # this pill's first dead letter
                raise failures.pop()
            return await publish(message, topic=topic, **kw)

        async def counting(body, record):
            if body == pill:
                handed[pill_id] += 1
            await handle(body, record)

        rt.broker.publish, rt.consumer.handle = flaky_publish, counting

    group, _, probe_ctx = await probe(
        new_database, kafka, consumer_max_attempts=2, before_start=break_first_dead_letter
    )
    async with probe_ctx as (rt, _):
        await send(kafka, [(key, pill), (key, after)])
        assert await eventually(lambda: probe_service.applied(rt, good), what="the message after the pill") == 1
    dead = await read_topic(kafka, f"{group}.dlq", lambda r: r.key == str(key).encode(), want=1)
    assert len(dead) == 1 and dict(dead[0].headers)["x-attempts"] == b"2"
    assert handed[pill_id] >= 2, "the pill should have been delivered again after the failed DLQ publish"
    assert await probe_service.applied(rt, poison) == 0


async def send(kafka: str, messages: list[tuple[uuid.UUID, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka, enable_idempotence=True)
    await producer.start()
    try:
        for key, body in messages:
            await producer.send_and_wait("catalog.items", body, key=str(key).encode())
    finally:
        await producer.stop()


async def test_two_relays_of_one_service_publish_each_row_once_in_order(new_database, kafka, tmp_path):
    """Two relay processes on one outbox of 600 rows (20 aggregates × 30 changes): the advisory
    lock lets one publish at a time, so each row is on the topic once, in order per key."""
    from outage import Role
    from sqlalchemy.ext.asyncio import create_async_engine

    from catalog.bootstrap import definition as catalog
    from portal_runtime.migrations import upgrade
    from portal_runtime.outbox import Outbox
    from portal_runtime.testing import TEST_SECRET
    from portal_stack.kafka import create_topics

    url = await new_database("catalog")
    await asyncio.to_thread(upgrade, catalog().migrations, url)
    engine = create_async_engine(url)
    outbox, keys = Outbox("catalog"), [uuid.uuid4() for _ in range(20)]
    written: dict[str, list[str]] = collections.defaultdict(list)
    async with AsyncSession(engine) as s, s.begin():
        for revision in range(1, 31):
            for key in keys:
                payload = CatalogItemPublished(
                    item_id=key,
                    sku="R",
                    name=f"rev {revision}",
                    billing="one_time",
                    price=Money(amount=Decimal(1), currency="EUR"),
                    revision=revision,
                    published_at=datetime.now(UTC),
                )
                written[str(key)].append(str(outbox.stage(s, payload).event_id))
    # on a topic of this test's own, so that other tests' consumers are not handed 600 events
    topic = f"relaytest.{uuid.uuid4().hex[:8]}"
    await create_topics(kafka, {topic: 3})
    async with AsyncSession(engine) as s, s.begin():
        await s.execute(update(OutboxRecord).values(topic=topic))
    env = {"DATABASE_URL": url, "KAFKA_BOOTSTRAP_SERVERS": kafka, "JWT_SECRET": TEST_SECRET}
    relays = [Role("catalog", "relay", env, tmp_path / str(n)) for n in range(2)]
    try:

        async def pending():
            async with engine.connect() as conn:
                return await conn.scalar(
                    select(func.count()).select_from(OutboxRecord).where(OutboxRecord.published_at.is_(None))
                )

        await eventually(lambda: _all_done(pending, relays), timeout=120, what="every row to be published")
    finally:
        for relay in relays:
            relay.stop()
        await engine.dispose()
    ids = {i for chain in written.values() for i in chain}
    records = await read_topic(
        kafka, topic, lambda r: dict(r.headers).get("event-id", b"").decode() in ids, want=len(ids) + 1, timeout=5
    )  # one more than expected: wait for doubles too
    on_topic = collections.Counter(dict(r.headers)["event-id"].decode() for r in records)
    doubled = [i for i, n in on_topic.items() if n > 1]
    assert not doubled and len(on_topic) == len(ids), (
        f"{len(doubled)} rows published twice, {len(ids) - len(on_topic)} missing"
    )
    for key, chain in written.items():
        got = [
            dict(r.headers)["event-id"].decode()
            for r in sorted(records, key=lambda r: r.offset)
            if r.key == key.encode()
        ]
        assert got == chain, f"key {key} out of order"


async def _all_done(pending, relays) -> bool:
    assert all(r.alive() for r in relays), [r.why() for r in relays if not r.alive()]
    return await pending() == 0


async def test_an_envelope_with_a_field_this_reader_does_not_know_is_applied_not_dead_lettered(new_database, kafka):
    key, item = uuid.uuid4(), uuid.uuid4()
    body = json.loads(envelope("newer producer", item))
    body["partitionhint"] = "an extension attribute a newer producer adds to the envelope"
    raw = json.dumps(body).encode()
    seen = Seen()
    group, _, probe_ctx = await probe(new_database, kafka, consumer_max_attempts=2, before_start=seen.watch)
    async with probe_ctx as (rt, _):
        await send(kafka, [(key, raw)])
        await seen.wait(body["id"], "applied")
        assert await probe_service.applied(rt, item) == 1
    assert await read_topic(kafka, f"{group}.dlq", lambda r: r.key == str(key).encode(), want=1, timeout=3) == []


def sdk_message(record):
    """A Kafka record as the CloudEvents SDK's Kafka binding takes it."""
    from cloudevents.core.bindings import kafka as binding

    return binding.KafkaMessage(headers=dict(record.headers), key=record.key, value=record.value)


async def test_what_the_relay_publishes_is_a_structured_cloudevent_the_sdk_reads(new_database, kafka):
    from cloudevents.core.bindings import kafka as binding

    async with running_service(catalog_definition(), database_url=await new_database("catalog"), kafka=kafka) as (
        cat,
        http,
    ):
        item_id = uuid.UUID(
            (await http.post("/v1/admin/items", json=item_body("Read by the SDK"), headers=ADMIN)).json()["id"]
        )
        event_id = await eventually(lambda: outbox_event_id(cat, item_id), what="the item's event")
        # Read while the service runs: its relay publishes after it connected to Kafka, which can
        # come after the first request is answered.
        [record] = await read_topic(kafka, "catalog.items", lambda r: r.key == str(item_id).encode(), want=1)
    headers = dict(record.headers)
    assert headers["content-type"] == CONTENT_TYPE.encode() and not any(h.startswith("ce_") for h in headers)
    assert (headers["event-type"], headers["event-id"]) == (b"CatalogItemPublished", str(event_id).encode())
    event = binding.from_kafka_event(sdk_message(record))
    assert (event.get_id(), event.get_source(), event.get_type()) == (
        str(event_id),
        "/portal/catalog",
        "CatalogItemPublished",
    )
    assert event.get_subject() == str(item_id) == event.get_extension("partitionkey")  # the SDK's name for the key
    assert event.get_extension("dataversion") == 1 and event.get_extension("correlationid")
    assert event.get_datacontenttype() == "application/json" and event.get_data()["price"]["amount"] == "19.90"


async def test_an_event_the_sdk_makes_in_structured_mode_is_applied_by_our_consumer(new_database, kafka):
    from cloudevents.core.bindings import kafka as binding
    from cloudevents.core.v1.event import CloudEvent

    item = uuid.uuid4()
    data = CatalogItemPublished(
        item_id=item,
        sku="SDK-1",
        name="made by the SDK",
        price=Money(amount=Decimal("9.90"), currency="EUR"),
        billing="one_time",
        revision=1,
        published_at=datetime.now(UTC),
    ).model_dump(mode="json")
    event = CloudEvent(
        {
            "type": "CatalogItemPublished",
            "source": "/portal/catalog",
            "subject": str(item),
            "datacontenttype": "application/json",
            "dataversion": 1,
            "correlationid": str(uuid.uuid4()),
            "id": str(uuid.uuid4()),
        },
        data,
    )
    message = binding.to_structured_event(event, key_mapper=lambda e: e.get_subject())
    seen = Seen()
    group, _, probe_ctx = await probe(new_database, kafka, consumer_max_attempts=2, before_start=seen.watch)
    async with probe_ctx as (rt, _):
        producer = AIOKafkaProducer(bootstrap_servers=kafka, enable_idempotence=True)
        await producer.start()
        try:
            await producer.send_and_wait(
                "catalog.items", message.value, key=message.key.encode(), headers=list(message.headers.items())
            )
        finally:
            await producer.stop()
        await seen.wait(event.get_id(), "applied")
        assert await probe_service.applied(rt, item) == 1


async def test_an_outbox_row_staged_before_cloudevents_is_published_as_one(new_database, kafka):
    """A row in the shape before the switch (contracts/schemas/Envelope.v1.json) still publishes."""
    from cloudevents.core.bindings import kafka as binding

    item, event_id, now = uuid.uuid4(), uuid.uuid4(), datetime.now(UTC)
    data = {"item_id": str(item), "revision": 2, "retired_at": now.isoformat()}
    first_shape = {
        "event_id": str(event_id),
        "type": "CatalogItemRetired",
        "version": 1,
        "occurred_at": now.isoformat(),
        "producer": "catalog",
        "key": str(item),
        "correlation_id": str(event_id),
        "causation_id": None,
        "trace": {},
        "data": data,
    }
    async with running_service(
        catalog_definition(), database_url=await new_database("catalog"), kafka=kafka, relay=False
    ) as (cat, _):
        async with cat.sessions() as s, s.begin():
            s.add(
                OutboxRecord(
                    event_id=event_id,
                    topic="catalog.items",
                    key=str(item),
                    event_type="CatalogItemRetired",
                    envelope=first_shape,
                    created_at=now,
                )
            )
        await eventually(lambda: cat.kafka_connected, what="catalog connected to Kafka")  # it connects after start
        assert await cat.relay.relay_once() == 1
    [record] = await read_topic(kafka, "catalog.items", lambda r: r.key == str(item).encode(), want=1)
    event = binding.from_kafka_event(sdk_message(record))
    assert (event.get_id(), event.get_source(), event.get_subject()) == (str(event_id), "/portal/catalog", str(item))
    assert event.get_specversion() == "1.0" and event.get_extension("dataversion") == 1 and event.get_data() == data
    assert Envelope.model_validate_json(record.value).payload().revision == 2


async def test_a_send_that_fails_holds_back_only_its_keys_later_rows_which_then_follow_in_order(new_database, kafka):
    """The relay sends a batch in waves of distinct keys: when one row's send fails, the rows the
    broker took are marked, its key's later rows are not sent at all, and the next round publishes
    that key's rows in order (without the wave rule the key's third row would leave before its
    second)."""
    from portal_runtime.outbox import Outbox
    from portal_stack.kafka import create_topics

    topic = f"relaytest.{uuid.uuid4().hex[:8]}"  # a topic of its own: no other test's consumer reads it
    await create_topics(kafka, {topic: 3})
    keys = [uuid.uuid4() for _ in range(3)]
    broken = keys[1]
    async with running_service(
        catalog_definition(), database_url=await new_database("catalog"), kafka=kafka, relay=False
    ) as (cat, _):
        written: dict[uuid.UUID, list[str]] = collections.defaultdict(list)
        async with cat.sessions() as s, s.begin():
            for revision in range(1, 4):
                for key in keys:
                    event = CatalogItemPublished(
                        item_id=key,
                        sku="W",
                        name=f"rev {revision}",
                        billing="one_time",
                        price=Money(amount=Decimal(1), currency="EUR"),
                        revision=revision,
                        published_at=datetime.now(UTC),
                    )
                    written[key].append(str(Outbox("catalog").stage(s, event).event_id))
            await s.execute(update(OutboxRecord).values(topic=topic))
        await eventually(lambda: cat.kafka_connected, what="catalog connected to Kafka")
        send, failed = cat.relay.send, []

        async def failing_once(row) -> None:
            if str(row.event_id) == written[broken][1] and not failed:
                failed.append(row.event_id)
                raise ConnectionError("the broker went away for this one")
            await send(row)

        cat.relay.send = failing_once
        try:
            await cat.relay.relay_once()
        except ConnectionError:
            pass
        else:
            raise AssertionError("the failed send was not raised")
        async with cat.sessions() as s:
            unpublished = set(
                map(str, await s.scalars(select(OutboxRecord.event_id).where(OutboxRecord.published_at.is_(None))))
            )
        assert unpublished == set(written[broken][1:]), "only the failed row and its key's later rows wait"
        assert await cat.relay.relay_once() == 2
    ids = {i for chain in written.values() for i in chain}
    records = await read_topic(
        kafka, topic, lambda r: dict(r.headers).get("event-id", b"").decode() in ids, want=len(ids) + 1, timeout=5
    )  # one more than expected: wait for doubles too
    on_topic = [dict(r.headers)["event-id"].decode() for r in sorted(records, key=lambda r: (r.partition, r.offset))]
    assert sorted(on_topic) == sorted(ids), "each row once"
    for key, chain in written.items():
        assert [i for i in on_topic if i in chain] == chain, f"key {key} out of order"


async def test_the_relay_wakes_on_the_commit_that_staged_a_row_not_at_its_next_poll(new_database, kafka):
    """With a poll of ten minutes, an item's event is published at once: the outbox's trigger
    notifies the relay when the transaction that staged the row commits. After the relay's
    listening connection is cut (its backend terminated) it listens again, and the next commit
    wakes it too."""

    async def published(cat, item_id) -> bool:
        async with cat.sessions() as s:
            return bool(
                await s.scalar(
                    select(func.count())
                    .select_from(OutboxRecord)
                    .where(OutboxRecord.key == str(item_id), OutboxRecord.published_at.is_not(None))
                )
            )

    url = await new_database("catalog")
    async with running_service(catalog_definition(), database_url=url, kafka=kafka, relay_poll_seconds=600) as (
        cat,
        http,
    ):
        await eventually(lambda: cat.relay.active and cat.relay.wakeup.listening, what="the relay to listen")
        first = (await http.post("/v1/admin/items", json=item_body("Wake"), headers=ADMIN)).json()["id"]
        await eventually(lambda: published(cat, first), what="the first item's event published, before any poll")
        async with cat.sessions() as s:
            [cut] = (
                (
                    await s.execute(
                        text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = current_database() AND query LIKE 'LISTEN%portal_outbox%'"
                        )
                    )
                )
                .scalars()
                .all()
            )
        assert cut, "the relay's listening connection was found and cut"
        second = (await http.post("/v1/admin/items", json=item_body("Again"), headers=ADMIN)).json()["id"]
        await eventually(lambda: published(cat, second), what="the next item's event after the listener was cut")
