"""Servers a test may kill: a private PostgreSQL or Kafka in a temporary directory, on free
ports, killed the hard way (SIGKILL of the whole process group: postmaster and backends, or the
broker) and started again on the same data, with crash recovery."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from portal_runtime.testing import eventually
from portal_stack._proc import free_port, spawn
from portal_stack.kafka import KafkaServer, create_topics
from portal_stack.postgres import PostgresServer, asyncpg_dsn


def _descendants(pid: int) -> list[int]:
    """Every process below `pid` (PostgreSQL's backends call setsid(), so a process group does
    not hold them)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_tree(proc) -> None:
    """SIGKILL a server and every process it started (postmaster and backends, all at once), and
    wait until they are gone, so that a restart finds its port and shared memory free."""
    import time

    pids = [proc.pid, *_descendants(proc.pid)]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{pid}").exists() for pid in pids[1:]) and time.monotonic() < deadline:
        time.sleep(0.05)


_kill = kill_tree


class Private:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="portal-outage-"))
        self.dir.chmod(0o755)  # PostgreSQL runs as another user when we are root

    def cleanup(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivatePostgres(Private):
    def __init__(self) -> None:
        super().__init__()
        self.server = PostgresServer(self.dir / "pg", port=free_port())

    async def start(self) -> None:
        await self.server.start()

    def kill(self) -> None:
        _kill(self.server.proc)
        self.server.proc = None

    async def database(self, name: str) -> str:
        import asyncpg

        conn = await asyncpg.connect(asyncpg_dsn(self.server.admin_url))
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return self.server.url(name)


class PrivateKafka(Private):
    def __init__(self) -> None:
        super().__init__()
        port = free_port()
        self.server = KafkaServer(self.dir / "kafka", port, free_port(avoid={port}), start_timeout=120)

    @property
    def bootstrap(self) -> str:
        return self.server.bootstrap

    async def start(self, topics: dict[str, int] | None = None) -> None:
        await self.server.start()
        if topics:
            await create_topics(self.bootstrap, topics)

    def kill(self) -> None:
        _kill(self.server.proc)
        self.server.proc = None


async def each_answers(roles: list[Role], path: str, *, timeout: float) -> None:
    """Wait until each of `roles` answers `path` with 200; one that exits meanwhile fails the test
    with its log."""
    for role in roles:
        await eventually(
            lambda r=role: not r.alive() or r.status(path) == 200, timeout=timeout, what=f"{role.name} to answer {path}"
        )
        assert role.alive(), role.why()


@contextlib.asynccontextmanager
async def private(kind: type[Private]) -> AsyncIterator:
    server = kind()
    try:
        yield server
    finally:
        if server.server.proc is not None:
            await server.server.stop()
        server.cleanup()


class Role:
    """`python -m <service> <role>` as its own process, with its log kept for the failure message."""

    def __init__(
        self,
        module: str,
        role: str,
        env: dict[str, str],
        log_dir: Path,
        *,
        port: int | None = None,
        name: str | None = None,
    ) -> None:
        self.name = name or f"{module}-{role}"
        self.port = port or free_port()
        self.log = log_dir / f"{self.name}.log"
        self.proc = spawn(
            [sys.executable, "-m", module, role],
            log_path=self.log,
            env={**os.environ, **env, "HTTP_PORT": str(self.port), "HTTP_HOST": "127.0.0.1"},
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def status(self, path: str) -> int | None:
        try:
            return httpx.get(self.url + path, timeout=2).status_code
        except httpx.HTTPError:
            return None

    def why(self) -> str:
        return f"{self.name} (exit {self.proc.poll()}), log:\n" + self.log.read_text()[-3000:]

    def stop(self) -> int | None:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except Exception:
                _kill(self.proc)
        return self.proc.returncode
