"""`<image> topics`: creates every topic of the portal with its partition count
(`portal_contracts.registry.all_topics()`, dead-letter topics included), for Kafka clusters whose
topics are not managed as Kubernetes resources (deploy/k8s has Strimzi KafkaTopics for those).

Waits for the brokers first (up to `--wait` seconds: it may start beside them), keeps existing
topics, adds partitions to a topic that has fewer than the registry names (never removes any),
and sets `min.insync.replicas` on the topics it creates. Connects as the services do
(KAFKA_BOOTSTRAP_SERVERS, KAFKA_SECURITY_PROTOCOL, ...). Exit code 0 when every topic is there."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys

from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.errors import KafkaError

from portal_contracts.registry import all_topics
from portal_runtime.faults import Backoff, describe
from portal_runtime.kafka import client_options
from portal_runtime.settings import KafkaSettings
from portal_runtime.telemetry import configure_logging


async def connected(bootstrap: str, wait: float) -> AIOKafkaAdminClient:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    backoff = Backoff(initial=0.5, cap=5.0)
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000, **client_options())
        try:
            await admin.start()
            await admin.describe_cluster()
            return admin
        except Exception as exc:  # away, or not yet: tried again until the deadline
            with contextlib.suppress(Exception):
                await admin.close()
            if loop.time() >= deadline:
                raise SystemExit(
                    f"topics: Kafka at {bootstrap} did not answer within {wait:.0f} s: {describe(exc)}"
                ) from None
            await asyncio.sleep(backoff.next())


# Kafka error codes of a request to try again (the broker is still settling: a busy controller
# answered late, a new partition has no leader yet); any other code is a configuration to fix.
RETRIABLE = {5: "LEADER_NOT_AVAILABLE", 7: "REQUEST_TIMED_OUT", 41: "NOT_CONTROLLER"}
ALREADY_THERE = 36  # TOPIC_ALREADY_EXISTS: another run (or our own timed-out request) made it


class Retry(Exception):
    """A request Kafka may well answer when asked again."""


async def ensure(bootstrap: str, *, replication: int, min_insync: int, wait: float) -> None:
    """Every topic there, asked again until `wait` runs out when Kafka answers late or not yet:
    on a busy machine a creation request timed out while the controller was still creating the
    first topics, and the one-shot failed although Kafka was fine."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    backoff = Backoff(initial=0.5, cap=5.0)
    while True:
        admin = await connected(bootstrap, max(deadline - loop.time(), 1.0))
        try:
            await _ensure_once(admin, replication=replication, min_insync=min_insync)
            return
        except (TimeoutError, Retry, KafkaError, OSError) as exc:
            if loop.time() >= deadline:
                raise SystemExit(f"topics: not all created within {wait:.0f} s: {describe(exc)}") from None
            print(f"topics: asking again ({describe(exc)})", flush=True)
            await asyncio.sleep(backoff.next())
        finally:
            await admin.close()


async def _ensure_once(admin: AIOKafkaAdminClient, *, replication: int, min_insync: int) -> None:
    wanted = all_topics()
    existing = {d["topic"]: len(d["partitions"]) for d in await admin.describe_topics() if not d["error_code"]}
    new = [
        NewTopic(name, partitions, replication, topic_configs={"min.insync.replicas": str(min_insync)})
        for name, partitions in wanted.items()
        if name not in existing
    ]
    if new:
        response = await admin.create_topics(new)
        failed = [(name, code) for name, code, *_ in response.topic_errors if code not in (0, ALREADY_THERE)]
        if any(code in RETRIABLE for _, code in failed):
            raise Retry(f"creating {failed} answered {sorted({RETRIABLE[c] for _, c in failed if c in RETRIABLE})}")
        if failed:
            raise SystemExit(f"topics: creating {failed} failed (Kafka error codes)")
    grow = {n: NewPartitions(p) for n, p in wanted.items() if n in existing and existing[n] < p}
    if grow:
        await admin.create_partitions(grow)
    for name, partitions in wanted.items():
        state = "created" if name not in existing else "grown" if name in grow else "exists"
        print(f"{name}: {partitions} partitions, {state}", flush=True)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="topics", description=__doc__.split("\n\n")[0])
    parser.add_argument("--replication-factor", type=int, default=int(os.environ.get("TOPIC_REPLICATION_FACTOR", 3)))
    parser.add_argument("--min-insync-replicas", type=int, default=int(os.environ.get("TOPIC_MIN_INSYNC_REPLICAS", 2)))
    parser.add_argument("--wait", type=float, default=float(os.environ.get("KAFKA_WAIT_SECONDS", 120)))
    args = parser.parse_args(argv)
    configure_logging(
        "portal", "topics", level=os.environ.get("LOG_LEVEL", "INFO"), fmt=os.environ.get("LOG_FORMAT", "console")
    )
    bootstrap = KafkaSettings().kafka_bootstrap_servers
    asyncio.run(
        ensure(bootstrap, replication=args.replication_factor, min_insync=args.min_insync_replicas, wait=args.wait)
    )


if __name__ == "__main__":
    main(sys.argv[1:])
