"""The portal's service processes: `python -m <module> migrate`, then `python -m <module> run`."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from portal_stack import SERVICES
from portal_stack._proc import spawn, stop_process, tail
from portal_stack.config import http_port
from portal_stack.errors import InfraError
from portal_stack.progress import Progress


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    module: str
    http_port: int
    host: str = "127.0.0.1"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.http_port}"


def default_specs(
    names: list[str] | tuple[str, ...] = SERVICES, env: Mapping[str, str] | None = None
) -> list[ServiceSpec]:
    """Specs with the standard ports (moved by PORTAL_PORT_OFFSET); PORTAL_<SERVICE>_HTTP_PORT sets one."""
    env = os.environ if env is None else env
    return [ServiceSpec(name, name, http_port(env, name)) for name in names]


def service_env(
    spec: ServiceSpec,
    *,
    database_url: str,
    kafka_bootstrap: str,
    smtp_host: str,
    smtp_port: int,
    jwt_secret: str,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of one service: the parent's (so OTEL_* pass through) plus its settings."""
    env = dict(os.environ if base is None else base)
    env.setdefault("OTEL_SERVICE_NAME", spec.name)
    env.update(
        {
            "SERVICE_NAME": spec.name,
            "DATABASE_URL": database_url,
            "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "HTTP_HOST": spec.host,
            "HTTP_PORT": str(spec.http_port),
            "SMTP_HOST": smtp_host,
            "SMTP_PORT": str(smtp_port),
            "JWT_SECRET": jwt_secret,
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


class ServiceRunner:
    """Runs migrations, starts the services, waits for readiness, stops them. Migrations and
    readiness each have `ready_timeout` seconds (`hint` says how to give more, in the error)."""

    def __init__(
        self,
        specs: list[ServiceSpec],
        log_dir: Path,
        *,
        python: str = sys.executable,
        ready_timeout: float = 90.0,
        hint: str = "more time with ready_timeout",
        progress: Progress | None = None,
    ) -> None:
        self.specs = specs
        self.log_dir = Path(log_dir)
        self.python = python
        self.ready_timeout = ready_timeout
        self.hint = hint
        self.progress = progress or Progress()
        self.procs: dict[str, subprocess.Popen] = {}

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def _mark(self, name: str, text: str) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path(name), "a") as fh:
            fh.write(f"\n=== {datetime.now().isoformat(timespec='seconds')} {text} ===\n")

    async def migrate(self, spec: ServiceSpec, env: Mapping[str, str]) -> None:
        self._mark(spec.name, f"python -m {spec.module} migrate")
        proc = spawn([self.python, "-m", spec.module, "migrate"], log_path=self.log_path(spec.name), env=dict(env))
        with self.progress.step(f"the migrations of {spec.name}", timeout=self.ready_timeout):
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.ready_timeout
            try:
                while proc.poll() is None:
                    if loop.time() > deadline:
                        raise InfraError(
                            f"migrations of {spec.name} did not end within {self.ready_timeout:.0f}s ({self.hint}); "
                            f"log {self.log_path(spec.name)}:\n{tail(self.log_path(spec.name))}"
                        )
                    await asyncio.sleep(0.1)
            finally:
                await stop_process(proc, signal.SIGTERM, timeout=10)
        if proc.returncode != 0:
            raise InfraError(
                f"migrations of {spec.name} failed (exit {proc.returncode}); log "
                f"{self.log_path(spec.name)}:\n{tail(self.log_path(spec.name))}"
            )

    async def migrate_all(self, envs: Mapping[str, Mapping[str, str]]) -> None:
        await asyncio.gather(*(self.migrate(s, envs[s.name]) for s in self.specs))

    def start(self, spec: ServiceSpec, env: Mapping[str, str]) -> None:
        self._mark(spec.name, f"python -m {spec.module} run")
        self.procs[spec.name] = spawn(
            [self.python, "-m", spec.module, "run"], log_path=self.log_path(spec.name), env=dict(env)
        )

    async def start_all(self, envs: Mapping[str, Mapping[str, str]]) -> None:
        for spec in self.specs:
            self.start(spec, envs[spec.name])
        await asyncio.gather(*(self.wait_ready(s) for s in self.specs))

    async def wait_ready(self, spec: ServiceSpec) -> None:
        """Poll GET /health/ready until it answers 200."""
        url = f"{spec.base_url}/health/ready"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.ready_timeout
        proc = self.procs[spec.name]
        with self.progress.step(f"{spec.name} on {spec.base_url}", timeout=self.ready_timeout):
            while loop.time() < deadline:
                if proc.poll() is not None:
                    raise InfraError(
                        f"{spec.name} exited with code {proc.returncode} before it was "
                        f"ready; log {self.log_path(spec.name)}:\n{tail(self.log_path(spec.name))}"
                    )
                if await asyncio.to_thread(_http_status, url) == 200:
                    return
                await asyncio.sleep(0.3)
            raise InfraError(
                f"{spec.name} was not ready ({url} != 200) within {self.ready_timeout:.0f}s ({self.hint}); "
                f"log {self.log_path(spec.name)}:\n{tail(self.log_path(spec.name))}"
            )

    async def stop_all(self, timeout: float = 30.0) -> None:
        procs, self.procs = self.procs, {}
        await asyncio.gather(*(stop_process(p, signal.SIGTERM, timeout) for p in procs.values()))


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no proxies


def _http_status(url: str) -> int | None:
    try:
        with _OPENER.open(url, timeout=2) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, ValueError):
        return None
