import asyncio
import shutil
import time
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from portal_stack import kafka as kafka_mod
from portal_stack._proc import free_port
from portal_stack.errors import InfraError
from portal_stack.kafka import KafkaServer, create_topics


async def partitions(bootstrap: str, topic: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [meta] = await admin.describe_topics([topic])
        assert meta["error_code"] == 0, meta
        return len(meta["partitions"])
    finally:
        await admin.close()


async def test_topic_has_requested_partitions_and_is_idempotent(infra):
    topic = f"test.partitions.{uuid.uuid4().hex[:6]}"
    await create_topics(infra.kafka_bootstrap, {topic: 5})
    await create_topics(infra.kafka_bootstrap, {topic: 5})  # already exists: no error
    assert await partitions(infra.kafka_bootstrap, topic) == 5


async def test_produce_and_consume(infra):
    topic = f"test.roundtrip.{uuid.uuid4().hex[:6]}"
    await create_topics(infra.kafka_bootstrap, {topic: 2})
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"hello", key=b"k1")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=infra.kafka_bootstrap, group_id="test-group", auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        msg = await asyncio.wait_for(consumer.getone(), 30)
    finally:
        await consumer.stop()
    assert (msg.key, msg.value) == (b"k1", b"hello")


def test_missing_java_or_maven_is_explained(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda tool: None if tool == "mvn" else "/usr/bin/" + tool)
    with pytest.raises(InfraError) as err:
        kafka_mod.ensure_jars(tmp_path)
    assert "mvn" in str(err.value) and "apt-get install maven openjdk-17-jre-headless" in str(err.value)


async def test_restart_keeps_topics(tmp_path):
    """A second start of the same data dir skips formatting and keeps the data."""
    port = free_port()
    server = KafkaServer(tmp_path / "kafka", port, free_port(avoid={port}))
    started = time.monotonic()
    await server.start()
    print(f"kafka start: {time.monotonic() - started:.1f}s")
    try:
        await create_topics(server.bootstrap, {"kept": 3})
    finally:
        await server.stop()
    cluster_id = (tmp_path / "kafka" / "cluster.id").read_text()
    await server.start()
    try:
        assert await partitions(server.bootstrap, "kept") == 3
        assert (tmp_path / "kafka" / "cluster.id").read_text() == cluster_id
    finally:
        await server.stop()
    assert server.proc is None


def test_a_cluster_id_starting_with_a_dash_formats(tmp_path, monkeypatch):
    """One generated id in 64 starts with `-`; the storage tool must not read it as an option."""
    monkeypatch.setattr(kafka_mod, "_cluster_id", lambda: "-" + "Q" * 21)  # a valid base64 UUID
    server = KafkaServer(tmp_path / "kafka", free_port(), free_port())
    libs = kafka_mod.ensure_jars(server.cache_dir)
    server.data_dir.mkdir(parents=True)
    server._format(libs, server._write_config())
    assert (tmp_path / "kafka" / "logs" / "meta.properties").is_file()
    assert "cluster.id=-" in (tmp_path / "kafka" / "logs" / "meta.properties").read_text()
