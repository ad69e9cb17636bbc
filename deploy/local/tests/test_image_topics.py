"""The image's `topics` one-shot (deploy/image/topics.py) against a real Kafka: every topic of the
registry there afterwards with its partition count, and a second run finds them all and changes
nothing (compose runs it on every `up`)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from portal_contracts.registry import all_topics

TOPICS = Path(__file__).parents[2] / "image" / "topics.py"


async def run_topics(bootstrap: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(TOPICS),
        "--replication-factor",
        "1",
        "--min-insync-replicas",
        "1",
        "--wait",
        "60",
        env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode, out.decode()


async def test_the_topics_one_shot_makes_every_topic_and_a_second_run_keeps_them(kafka):
    first, printed = await run_topics(kafka)
    assert first == 0, printed
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        found = {d["topic"]: len(d["partitions"]) for d in await admin.describe_topics() if not d["error_code"]}
    finally:
        await admin.close()
    assert {t: found.get(t) for t in all_topics()} == all_topics()
    again, printed = await run_topics(kafka)
    assert again == 0 and all(f"{t}: {n} partitions, exists" in printed for t, n in all_topics().items()), printed
