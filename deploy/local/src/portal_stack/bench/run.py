"""The benchmark's phases, in order, on one set of servers: warm-up (one unmeasured flow), idle,
then per repetition the seller flows at each client count, the relay, the consumer and the HTTP
rows, each project figure measured right beside its baseline. Between phases the system is let
become quiet (tests/chaos.py's `quiet`: outboxes published, consumers caught up, no email
pending), so one phase's tail does not load the next."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace

import asyncpg
import httpx

from portal_runtime.settings import ServiceSettings
from portal_runtime.testing import bearer
from portal_stack import SERVICES
from portal_stack.bench import consumer, http, relay
from portal_stack.bench.flows import Flows
from portal_stack.bench.measure import median_of, percentiles
from portal_stack.bench.system import RAW_CONSUMER_DB, RAW_RELAY_DB, RELAY_DB, System
from portal_stack.errors import InfraError


@dataclass(frozen=True)
class Options:
    clients: list[int] = field(default_factory=lambda: [1, 8, 32])
    flows_per_client: int = 3
    min_flows: int = 10  # at least this many flows at every client count
    relay_rows: int = 10_000
    consumer_events: int = 5_000
    http_seconds: float = 5.0
    http_connections: int = 16
    repetitions: int = 2
    idle_seconds: float = 10.0
    warm_up: bool = True  # one unmeasured flow first (first calls pay for imports, caches, pools)
    keep: bool = False

    @classmethod
    def quick(cls) -> Options:
        """A short run that shows every row works: few messages, one client, one repetition."""
        return cls(
            clients=[1],
            flows_per_client=3,
            min_flows=3,
            relay_rows=500,
            consumer_events=100,
            http_seconds=1.5,
            http_connections=8,
            repetitions=1,
            idle_seconds=3,
            warm_up=False,
        )

    def override(self, **given) -> Options:
        return replace(self, **{k: v for k, v in given.items() if v is not None})


async def run(options: Options, say) -> dict:
    """Every figure of every repetition, their medians, and the settings."""
    started = time.monotonic()
    load_before = os.getloadavg()
    system = System(say, keep=options.keep)
    try:
        await system.start()
        flows = Flows(system)
        async with flows.running():
            if options.warm_up:
                await flows.one()
            await _quiet(system, flows)
            say(f"idle for {options.idle_seconds:g} s")
            async with system.meter.window(subtract_idle=False) as idle:
                await asyncio.sleep(options.idle_seconds)
            system.meter.learn_idle(idle)
            figures_idle = {
                "cpu_percent": idle.cpu,
                "sql_per_second": {
                    s: sum(idle.sql.get(system.database(s), {}).values()) / idle.seconds for s in SERVICES
                },
            }
            rss_idle = system.procs.rss()
            runs = []
            for n in range(options.repetitions):
                say(f"repetition {n + 1} of {options.repetitions}")
                runs.append(await _repetition(system, flows, options, tag=f"r{n}"))
        figures = median_of(runs)
        figures["idle"] = figures_idle
        figures["rss_mb"] = {
            name: {"idle": rss_idle[name] / 2**20, "peak": peak / 2**20} for name, peak in system.procs.peak_rss.items()
        }
    except (OSError, httpx.HTTPError, asyncpg.PostgresError, TimeoutError) as exc:  # said in one message
        where = getattr(getattr(exc, "_request", None), "url", None)
        raise InfraError(f"{type(exc).__name__}: {exc}{f' ({where})' if where else ''}; {system.exited()}") from exc
    finally:
        await system.stop()
    return {
        "settings": asdict(options),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_before": load_before[0],
            "load_average_after": os.getloadavg()[0],
            "seconds": time.monotonic() - started,
        },
        "figures": figures,
        "repetitions": runs,
    }


async def _quiet(system: System, flows: Flows) -> None:
    urls = {s: system.dsn(s, bench=True) for s in SERVICES}
    await flows.chaos.quiet(SimpleNamespace(urls=urls, infra=system.infra), 300)


async def _repetition(system: System, flows: Flows, options: Options, tag: str) -> dict:
    meter = system.meter
    out: dict = {"flows": {}}
    for clients in options.clients:
        total = max(options.min_flows, clients * options.flows_per_client)
        async with meter.window() as spill:  # statements: the flows and every effect they cause
            async with meter.window() as busy:  # CPU: while the clients drive them
                done, seconds, calls = await flows.level(clients, total)
            await _quiet(system, flows)
        out["flows"][str(clients)] = {
            "flows": len(done),
            "seconds": seconds,
            "flows_per_second": len(done) / seconds,
            **await flows.latencies(done),
            "calls_ms": {call: percentiles(times) for call, times in sorted(calls.items())},
            "sql_per_flow": {s: spill.per(system.database(s), len(done))["total"] for s in SERVICES},
            "cpu_percent": busy.cpu,
        }
        system.say(f"  {len(done)} flows at {clients} client(s): {len(done) / seconds:.2f} flows/s")

    batch = ServiceSettings.model_fields["relay_batch_size"].default
    rows = max(options.relay_rows, options.consumer_events)
    await relay.clear(system)
    await relay.stage(system, rows, tag)
    mine, w_mine, records = await relay.project(system)
    pipelined, w_pipelined = await relay.raw(system, pipelined=True, batch_size=batch)
    awaited, w_awaited = await relay.raw(system, pipelined=False, batch_size=batch)
    out["relay"] = {
        "rows": rows,
        "project_per_second": mine,
        "raw_pipelined_per_second": pipelined,
        "raw_awaited_per_second": awaited,
        "sql_per_message": {
            "project": w_mine.per(system.database(RELAY_DB), rows),
            "raw_pipelined": w_pipelined.per(system.database(RAW_RELAY_DB), rows),
            "raw_awaited": w_awaited.per(system.database(RAW_RELAY_DB), rows),
        },
        "cpu_percent": {"project": w_mine.cpu, "raw pipelined": w_pipelined.cpu},
    }
    system.say(f"  relay: {mine:.0f} msg/s (raw pipelined {pipelined:.0f}, awaited {awaited:.0f})")

    events = records[: options.consumer_events]
    applied, w_applied, start, end = await consumer.project(system, events)
    await _quiet(system, flows)
    one, w_one = await consumer.raw(system, start, end, batched=False)
    out["consumer"] = {
        "events": len(events),
        "project_per_second": applied,
        "raw_per_event_per_second": one,
        "sql_per_event": {
            "project": w_applied.per(system.database("notify"), len(events)),
            "raw_per_event": w_one.per(system.database(RAW_CONSUMER_DB), len(events)),
        },
        "cpu_percent": {"project": w_applied.cpu, "raw per event": w_one.cpu},
    }
    system.say(f"  consumer, new addresses: {applied:.0f} events/s (raw per event {one:.0f})")

    await relay.clear(system)
    await relay.stage_changes(system, consumer.profiles_of(events), language="de")
    *_, changes = await relay.project(system, timed=False)
    applied, w_applied, c_start, c_end = await consumer.project(system, changes)
    await _quiet(system, flows)
    one, w_one = await consumer.raw(system, c_start, c_end, batched=False, warm=(start, end))
    batched, w_batched = await consumer.raw(system, c_start, c_end, batched=True, warm=(start, end))
    out["consumer_changes"] = {
        "events": len(changes),
        "project_per_second": applied,
        "raw_per_event_per_second": one,
        "raw_batch_per_second": batched,
        "sql_per_event": {
            "project": w_applied.per(system.database("notify"), len(changes)),
            "raw_per_event": w_one.per(system.database(RAW_CONSUMER_DB), len(changes)),
            "raw_batch": w_batched.per(system.database(RAW_CONSUMER_DB), len(changes)),
        },
        "cpu_percent": {"project": w_applied.cpu, "raw per event": w_one.cpu},
    }
    system.say(f"  consumer, languages: {applied:.0f} events/s (raw per event {one:.0f}, per batch {batched:.0f})")

    seller = bearer(f"bench-http-{tag}")  # drafts need a token, not a profile
    out["http"] = await http.post_and_get(system, seller, flows.item_id, options.http_seconds, options.http_connections)
    system.say(
        f"  orders GET {out['http']['get']['project']['per_second']:.0f} req/s"
        f" (baseline {out['http']['get']['baseline']['per_second']:.0f}),"
        f" POST {out['http']['post']['project']['per_second']:.0f}"
        f" (baseline {out['http']['post']['baseline']['per_second']:.0f})"
    )
    await _quiet(system, flows)
    return out


def write_json(result: dict, rows: dict, path: Path) -> None:
    import json

    path.write_text(json.dumps({**result, **rows}, indent=2, default=str) + "\n")
