"""The whole local system: infrastructure (Infra) plus the five service processes.

A stack owns its data directory (a lock, so that a second stack on the same directory is told
so instead of breaking the first one's PostgreSQL and Kafka) and checks before it starts anything
that every port it will listen on is free and given once, naming the setting of a busy port.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import signal
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from portal_stack import SERVICES
from portal_stack._proc import port_is_free
from portal_stack.config import Ports, StackConfig, flag
from portal_stack.errors import InfraError
from portal_stack.infra import Infra
from portal_stack.postgres import redact
from portal_stack.progress import Progress
from portal_stack.services import ServiceRunner, ServiceSpec, default_specs, service_env

log = logging.getLogger(__name__)


def contract_topics(required: bool = True) -> dict[str, int]:
    """Topics declared by portal_contracts ({} when not installed and not `required`)."""
    from portal_stack import topics

    try:
        return topics()
    except InfraError:
        if required:
            raise
        log.warning("portal_contracts is not importable: no topics created")
        return {}


@dataclass(frozen=True)
class Exited:
    """A process of a running stack that ended: its name, exit code and logs."""

    name: str
    code: int
    logs: tuple[Path, ...]
    infrastructure: bool

    def describe(self) -> str:
        if self.code < 0:
            try:
                how = f"was killed by {signal.Signals(-self.code).name}"
            except ValueError:
                how = f"was killed by signal {-self.code}"
            return f"{self.name} {how} (exit code {self.code})"
        return f"{self.name} exited with code {self.code}"


class Stack:
    """`await start()` brings up infra, topics, databases, migrations and services; `stop()`
    stops services first, then the mail sink, Kafka and PostgreSQL; `await wait_for_exit()`
    answers the first of its processes that ends while it runs."""

    def __init__(
        self,
        config: StackConfig,
        *,
        specs: list[ServiceSpec] | None = None,
        topics: dict[str, int] | None = None,
        run_services: bool = True,
        base_env: Mapping[str, str] | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.config = config
        self.specs = specs if specs is not None else default_specs()
        self.topics = topics
        self.run_services = run_services
        self.base_env = base_env
        self.progress = progress or Progress()
        self.infra = Infra(config, progress=self.progress)
        self.runner = ServiceRunner(
            self.specs,
            config.data_dir / "logs",
            ready_timeout=config.timeouts.services,
            hint=config.timeouts.hint("services"),
            progress=self.progress,
        )
        self._lock: IO[str] | None = None

    def listens_on(self) -> list[tuple[int, str, str]]:
        """(port, what, the variable setting it) for each port the servers started here take."""
        config, ports = self.config, self.config.ports
        infra = []
        if not config.kafka_bootstrap:
            infra += ["kafka", "kafka_controller"]
        if config.needs_postgres:
            infra.append("postgres")
        if not config.smtp_host:
            infra += ["smtp", "mail_http"]
        taken = [(getattr(ports, name), *reversed(Ports.SETTINGS[name])) for name in infra]
        if self.run_services:
            taken += [(s.http_port, s.name, f"PORTAL_{s.name.upper()}_HTTP_PORT") for s in self.specs]
        return taken

    def check_ports(self) -> None:
        """Every port given once and free, else an error naming each clash and its setting."""
        problems, seen = [], {}
        for port, what, variable in self.listens_on():
            setting = f"{flag(variable)} / {variable}"
            if port in seen:
                problems.append(f"port {port} is given to both {seen[port]} and {what} ({setting})")
                continue
            seen[port] = what
            if not port_is_free(port):
                problems.append(f"port {port} for {what} on 127.0.0.1 is in use ({setting})")
        if problems:
            raise InfraError(
                "; ".join(problems) + ". Another `portal up`? Give this one other ports (e.g. PORTAL_PORT_OFFSET=100) "
                "and its own data directory (PORTAL_DATA_DIR), or stop what uses them"
            )

    def _lock_data_dir(self) -> None:
        data = self.config.data_dir
        data.mkdir(parents=True, exist_ok=True)
        lock = open(data / "portal.lock", "a+")  # noqa: SIM115 - held until stop()
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "?"
            lock.close()
            raise InfraError(
                f"{data} is in use by another portal (pid {holder}); give this one its own data directory "
                "(--data-dir or PORTAL_DATA_DIR) and other ports"
            ) from None
        lock.truncate(0)
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        self._lock = lock

    async def start(self) -> None:
        topics = self.topics if self.topics is not None else contract_topics()
        names = [s.name for s in self.specs] if self.run_services else list(SERVICES)
        self._lock_data_dir()
        try:
            self.check_ports()
            await self.infra.start(topics=topics, services=names)
            if self.run_services:
                envs = await self.service_envs()
                await self.runner.migrate_all(envs)
                await self.runner.start_all(envs)
        except BaseException:
            await self.stop()
            raise

    async def service_envs(self) -> dict[str, dict[str, str]]:
        secret = self.config.ensure_jwt_secret()
        return {
            spec.name: service_env(
                spec,
                database_url=await self.infra.database_url(spec.name),
                kafka_bootstrap=self.infra.kafka_bootstrap,
                smtp_host=self.infra.smtp_host,
                smtp_port=self.infra.smtp_port,
                jwt_secret=secret,
                base=self.base_env,
            )
            for spec in self.specs
        }

    async def stop(self) -> None:
        try:
            await self.runner.stop_all()
        finally:
            try:
                await self.infra.stop()
            finally:
                if self._lock is not None:
                    self._lock.close()
                    self._lock = None

    def _processes(self) -> list[tuple[str, subprocess.Popen, tuple[Path, ...], bool]]:
        running = [(name, proc, (self.runner.log_path(name),), False) for name, proc in self.runner.procs.items()]
        kafka, postgres = self.infra.kafka, self.infra.postgres
        if kafka is not None and kafka.proc is not None:
            running.append(("Kafka", kafka.proc, (kafka.server_log_path, kafka.log_path), True))
        if postgres is not None and postgres.proc is not None:
            running.append(("PostgreSQL", postgres.proc, (postgres.log_path,), True))
        return running

    async def wait_for_exit(self, interval: float = 0.5) -> Exited:
        """The first process of the started stack found ended (checked every `interval` seconds);
        a service found so is no longer one of the running ones."""
        while True:
            for name, proc, logs, infrastructure in self._processes():
                if proc.poll() is not None:
                    if not infrastructure:
                        del self.runner.procs[name]
                    return Exited(name, proc.returncode, logs, infrastructure)
            await asyncio.sleep(interval)

    def summary(self) -> tuple[list[tuple[str, str, str, str]], list[tuple[str, str]]]:
        """(service rows: name, API, OpenAPI, AsyncAPI) and (infrastructure rows: what, where)."""
        services = (
            [(s.name, s.base_url, f"{s.base_url}/schema/swagger", f"{s.base_url}/asyncapi") for s in self.specs]
            if self.run_services
            else []
        )
        infra = self.infra
        mail = infra.mailsink_url or "(external SMTP, no viewer configured)"
        rows = [
            ("Mail viewer", mail),
            ("SMTP", f"{infra.smtp_host}:{infra.smtp_port}"),
            ("Kafka bootstrap", infra.kafka_bootstrap),
            ("PostgreSQL", redact(infra.postgres_admin_url or "(per-service URLs)")),
            ("Data dir", str(self.config.data_dir)),
        ]
        if self.run_services:
            rows.append(("Service logs", str(self.runner.log_dir / "<service>.log")))
        return services, rows
