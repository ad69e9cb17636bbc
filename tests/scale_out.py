"""Scale-out: three workers per consuming service in one consumer group, one of them stopped and a
fresh one started mid-run (a rebalance), and every event applied once, in per-aggregate order.

    uv run python tests/scale_out.py --flows 30 --clients 4 --rebalance-after 8 --kill

(`tests/test_scale_out_short.py` runs a short one in the test command.)

Starts its own Kafka, PostgreSQL and mail sink like `tests/chaos.py` (whose helpers it uses), then
one api and one relay per service and three `worker` processes per consuming service (orders,
billing, notify: each service's workers are one consumer group, the service's name). It waits until
each group is stable with three members, each holding partitions (read from the broker), then
clients drive the seller flows of chaos.py. When `--rebalance-after` flows are done it stops one
worker of each consuming service gracefully (SIGTERM: it leaves the group) and starts a fresh one,
and waits until each group is stable again with three members, the stopped one gone and the fresh
one holding partitions. With `--kill` it then SIGKILLs a second worker of each (it does not leave:
the broker drops it when its session times out) and starts another fresh one, and waits the same
way. The flows go on until `--flows` are done and the rebalances are over.

When the system is quiet it prints its figures as JSON: flows, events consumed per service (inbox
rows), duplicates seen by the inbox (the workers' `portal_consumer_events{outcome="duplicate"}`,
read before each stop and at the end; a SIGKILLed worker's last moments are not counted), the
stops, kills and starts, rebalances observed per group, lost effects, doubled effects (chaos.py's
counts), order violations, dead letters and unpublished outbox rows.

Per-aggregate order: for each consuming service and each event key (topic and key: one aggregate
on one partition), the order in which its inbox recorded the events (`processed_at`, taken in the
transaction that applies the event; the next event of a partition is taken only after it commits)
must be the producer's outbox id order (the relay publishes a key's rows in id order). An event
applied before an earlier one of its aggregate is a violation; "order pairs checked" says how many
consecutive pairs were compared, so that a run that compares nothing is seen.

Exit code 1 when anything was lost, doubled, applied out of order or dead-lettered, an outbox row
was left unpublished, a flow failed or a process exited by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import re
import shutil
import signal
import sys
import time

import httpx
from chaos import (  # beside this script, which Python puts first on sys.path
    CONSUMING,
    MUST_BE_NONE,
    SERVICES,
    Cluster,
    count,
    flow,
    make_infra,
    query,
    quiet,
    sellable_item,
    start_servers,
)

from portal_stack.config import Ports

WORKERS = 3
# The figures of a run that pass only at 0: chaos.py's, and the order of each aggregate's events.
MUST_BE_ZERO = (*MUST_BE_NONE, "order violations")
LOST = ("lost activations", "lost emails")
DOUBLED = ("doubled invoices", "doubled payments", "doubled activations", "doubled deliveries")
DUPLICATES = re.compile(r'^portal_consumer_events_total\{[^}]*outcome="duplicate"[^}]*\} (\S+)$', re.M)


class Groups:
    """The consuming services' consumer groups as the broker describes them, looked at a few
    times a second: the members of each and whether each member holds partitions. Every change of
    a group's stable member set after the baseline is a rebalance observed."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.seen: dict[str, tuple[str, frozenset[str], bool]] = {}
        self.rebalances = collections.Counter()
        self.counting = False
        self.changed = asyncio.Condition()

    async def watch(self, every: float = 0.2) -> None:
        from aiokafka.admin import AIOKafkaAdminClient
        from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment as Assignment

        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        stable: dict[str, frozenset[str]] = {}
        try:
            while True:
                responses = []
                for group in CONSUMING:
                    # one group a request: aiokafka decodes a v3 answer with the v2 schema (no
                    # authorized_operations), which misreads every group after the first
                    with contextlib.suppress(Exception):  # the broker is busy: looked at again next time
                        responses += await admin.describe_consumer_groups([group])
                now = {}
                for response in responses:
                    for _, group, state, _, _, members, *_ in response.groups:
                        ids = frozenset(m[0] for m in members)
                        held = bool(members) and all(
                            m[-1] and any(parts for _, parts in Assignment.decode(m[-1]).assignment) for m in members
                        )
                        now[group] = (state, ids, held)
                        if state == "Stable" and held and stable.get(group) != ids:
                            if self.counting and group in stable:
                                self.rebalances[group] += 1
                            stable[group] = ids
                async with self.changed:
                    self.seen.update(now)
                    self.changed.notify_all()
                await asyncio.sleep(every)
        finally:
            await admin.close()

    async def wait(self, what: str, ready, timeout: float) -> dict[str, frozenset[str]]:
        """Until `ready(group, member ids)` holds for every stable group whose members all hold
        partitions; the member ids of each."""

        def met() -> bool:
            return all(
                g in self.seen and self.seen[g][0] == "Stable" and self.seen[g][2] and ready(g, self.seen[g][1])
                for g in CONSUMING
            )

        async with self.changed:
            try:
                await asyncio.wait_for(self.changed.wait_for(met), timeout)
            except TimeoutError:
                raise TimeoutError(f"{what}: groups seen {self.seen}") from None
            return {g: self.seen[g][1] for g in CONSUMING}


async def duplicates(cluster: Cluster, name: str) -> int:
    """The duplicates a running worker's inbox has found, from its /metrics."""
    async with httpx.AsyncClient(timeout=10) as client:
        try:
            text = (await client.get(cluster.roles[name].url + "/metrics")).text
        except httpx.HTTPError:
            return 0
    return sum(int(float(n)) for n in DUPLICATES.findall(text))


async def order_check(cluster: Cluster) -> dict:
    """Each consuming service's inbox order per event key against the producers' outbox order."""
    outbox = {}
    for service in SERVICES:
        for r in await query(cluster, service, "SELECT id, event_id, topic, key FROM outbox"):
            outbox[r["event_id"]] = (r["id"], r["topic"], r["key"])
    consumed, violations, pairs, unmatched = {}, 0, 0, 0
    examples = []
    for service in CONSUMING:
        rows = await query(
            cluster, service, "SELECT event_id, event_type, processed_at FROM inbox ORDER BY processed_at"
        )
        consumed[service] = len(rows)
        by_key = collections.defaultdict(list)
        for r in rows:
            if r["event_id"] not in outbox:
                unmatched += 1
                continue
            oid, topic, key = outbox[r["event_id"]]
            by_key[(topic, key)].append((oid, r["event_type"]))
        for (topic, key), seq in by_key.items():
            pairs += len(seq) - 1
            for (a, ta), (b, tb) in zip(seq, seq[1:], strict=False):
                if b < a:
                    violations += 1
                    if len(examples) < 5:
                        examples.append(f"{service}: {topic}/{key}: {tb} (outbox {b}) applied after {ta} ({a})")
    return {
        "events consumed": consumed,
        "order violations": violations,
        "order pairs checked": pairs,
        "inbox rows without an outbox row": unmatched,
        "order violation examples": examples,
    }


async def scale(cluster: Cluster, groups: Groups, args, log, dups: collections.Counter, acts: dict) -> None:
    """Stop one worker of each consuming service (SIGTERM) and start a fresh one; wait for the
    groups to settle; then, with --kill, the same with SIGKILL."""
    phases = [("stop", signal.SIGTERM)] + ([("kill", signal.SIGKILL)] if args.kill else [])
    fresh = iter(range(WORKERS + 1, 100))
    for phase, (what, sig) in enumerate(phases, start=1):
        before = await groups.wait("all three workers in", lambda g, ids: len(ids) == WORKERS, args.timeout)
        victims = {s: f"{s}-worker-{phase}" for s in CONSUMING}

        async def end(name: str, sig: signal.Signals = sig) -> int | None:
            dups[name.split("-")[0]] += await duplicates(cluster, name)
            role = cluster.roles.pop(name)
            if sig == signal.SIGTERM:
                return await asyncio.to_thread(role.stop)
            os.killpg(role.proc.pid, signal.SIGKILL)
            return await asyncio.to_thread(role.proc.wait)

        codes = await asyncio.gather(*(end(n) for n in victims.values()))
        n = next(fresh)
        for s in CONSUMING:
            cluster.start(f"{s}-worker-{n}")
        acts[what] += len(victims)
        acts["start"] += len(victims)
        log(f"  {what} ({sig.name}) {', '.join(victims.values())} (exit {codes}); started worker-{n} of each")
        t = time.monotonic()
        await groups.wait(
            f"each group rebalanced after the {what}",
            lambda g, ids, before=before: len(ids) == WORKERS and ids != before[g],  # the stopped one gone
            args.timeout,
        )
        log(f"  rebalanced: three workers in each group again, in {time.monotonic() - t:.1f} s")


async def main(args) -> int:
    ports = Ports(kafka=32092, kafka_controller=32093, postgres=32432, smtp=32025, mail_http=32026)
    infra, data = make_infra("scaleout_", ports)
    t0 = time.monotonic()

    def log(text: str) -> None:
        print(f"[{time.monotonic() - t0:6.1f}s] {text}", flush=True)

    urls = await start_servers(infra)
    log(f"servers up in {data}")
    cluster = Cluster(infra, urls, data / "logs")
    for service in SERVICES:
        cluster.start(f"{service}-api")
        cluster.start(f"{service}-relay")
    for service in CONSUMING:
        for n in range(1, WORKERS + 1):
            cluster.start(f"{service}-worker-{n}")
    groups = Groups(infra.kafka_bootstrap)
    watcher = asyncio.create_task(groups.watch())
    flows: list[dict] = []
    failures: list[str] = []
    dups = collections.Counter()
    acts = {"stop": 0, "kill": 0, "start": 0}
    try:
        async with httpx.AsyncClient(timeout=15) as client:
            deadline = time.monotonic() + args.timeout
            item = await sellable_item(cluster, client, deadline)
            await groups.wait("three workers in each group", lambda g, ids: len(ids) == WORKERS, args.timeout)
            groups.counting = True
            log(f"system ready, {WORKERS} workers in each group; {args.flows} flows on {args.clients} clients")
            counter = iter(range(10**9))
            rebalancing: asyncio.Task | None = None

            def more() -> int | None:
                """The next flow's number: `--flows` of them, and on until the rebalances are over."""
                n = next(counter)
                return n if n < args.flows or rebalancing is None or not rebalancing.done() else None

            async def client_loop() -> None:
                nonlocal rebalancing
                while (n := more()) is not None:
                    try:
                        flows.append(await flow(cluster, client, item["id"], n, deadline))
                    except Exception as exc:
                        failures.append(f"flow {n}: {type(exc).__name__}: {exc}")
                    if rebalancing is None and len(flows) + len(failures) >= args.rebalance_after:
                        log(f"{len(flows)} flows done: scaling")
                        rebalancing = asyncio.create_task(scale(cluster, groups, args, log, dups, acts))

            await asyncio.gather(*(client_loop() for _ in range(args.clients)))
            await rebalancing  # done (more() waits for it); raises what broke it
            log(f"flows done: {len(flows)} completed, {len(failures)} failed; waiting for quiet")
            await quiet(cluster, 180)
            cluster.restart_exited()
            for name in cluster.roles:
                if "-worker-" in name:
                    dups[name.split("-")[0]] += await duplicates(cluster, name)
            figures = await count(cluster, flows)
            figures.update(await order_check(cluster))
            exited = cluster.exits
    finally:
        watcher.cancel()
        cluster.stop()
        await infra.stop()
        if not args.keep:
            shutil.rmtree(data, ignore_errors=True)
    figures.update(
        {
            "flows failed": len(failures),
            "workers per group": WORKERS,
            "duplicates seen by the inbox": {s: dups[s] for s in CONSUMING},
            "stops (SIGTERM)": acts["stop"],
            "kills (SIGKILL)": acts["kill"],
            "starts": acts["start"],
            "rebalances observed": {s: groups.rebalances[s] for s in CONSUMING},
            "lost effects": sum(figures[k] for k in LOST),
            "doubled effects": sum(figures[k] for k in DOUBLED),
            "processes exited by themselves": len(exited),
            "seconds": round(time.monotonic() - t0),
        }
    )
    print(json.dumps(figures, indent=2))
    for f in failures[:10] + exited:
        print(f, file=sys.stderr)
    bad = [k for k in MUST_BE_ZERO if figures[k]]
    print("FAILED: " + ", ".join(bad) if bad else "OK: nothing lost, doubled, out of order or dead-lettered")
    return 1 if bad else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flows", type=int, default=30)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rebalance-after", type=int, default=8, help="flows done before a worker is stopped")
    parser.add_argument("--kill", action="store_true", help="then SIGKILL another worker of each and start one")
    parser.add_argument("--timeout", type=float, default=600, help="seconds for all flows")
    parser.add_argument("--keep", action="store_true", help="keep the data and logs directory")
    sys.exit(asyncio.run(main(parser.parse_args())))
