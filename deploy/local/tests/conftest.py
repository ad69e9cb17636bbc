"""Fixtures for the portal_stack tests (the `infra` fixture comes from the plugin)."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

FAKE_SERVICE = textwrap.dedent('''
    """A stand-in service: `migrate` creates a table, `run` serves /health/ready (and exits with
    code 7 on SIGUSR1, as a service that dies)."""
    import asyncio, http.server, json, os, signal, sys
    from pathlib import Path

    import asyncpg

    def dsn():
        return os.environ["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")

    async def migrate():
        conn = await asyncpg.connect(dsn())
        await conn.execute("CREATE TABLE IF NOT EXISTS migrated (id serial primary key, at timestamptz default now())")
        await conn.execute("INSERT INTO migrated DEFAULT VALUES")
        await conn.close()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            ok = self.path == "/health/ready"
            self.send_response(200 if ok else 404)
            self.end_headers()
            self.wfile.write(b"ok" if ok else b"no")

    def die(*args):
        print("dying on purpose", flush=True)
        os._exit(7)

    def run():
        if os.environ.get("FAKE_FAIL") == os.environ["SERVICE_NAME"]:
            print("fake failure on purpose", flush=True)
            sys.exit(3)
        out = Path(os.environ["FAKE_OUT"]) / (os.environ["SERVICE_NAME"] + ".json")
        out.write_text(json.dumps({**os.environ, "PID": str(os.getpid())}))
        server = http.server.HTTPServer((os.environ["HTTP_HOST"], int(os.environ["HTTP_PORT"])), Handler)
        signal.signal(signal.SIGTERM, lambda *a: (out.with_suffix(".stopped").write_text("1"), sys.exit(0)))
        signal.signal(signal.SIGUSR1, die)
        print("serving", flush=True)
        server.serve_forever()

    if __name__ == "__main__":
        asyncio.run(migrate()) if sys.argv[1] == "migrate" else run()
''')


def write_fake_services(root: Path, names: list[str]) -> Path:
    """Packages `<name>/__main__.py` for each service name under `root`."""
    for name in names:
        pkg = root / name
        pkg.mkdir(parents=True, exist_ok=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "__main__.py").write_text(FAKE_SERVICE)
    return root


def configured_env(infra) -> dict[str, str]:
    """Environment naming the session's servers, so that nothing new is started."""
    return {
        "PORTAL_KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap,
        "PORTAL_POSTGRES_URL": infra.postgres_admin_url,
        "PORTAL_SMTP_HOST": infra.smtp_host,
        "PORTAL_SMTP_PORT": str(infra.smtp_port),
        "PORTAL_MAILSINK_URL": infra.mailsink_url or "",
    }


@pytest.fixture
def fake_services(tmp_path):
    """Function writing fake service packages into a temp dir; returns that dir."""
    return lambda names: write_fake_services(tmp_path / "fake_services", names)


@pytest.fixture
def configured(infra) -> dict[str, str]:
    return configured_env(infra)


@pytest.fixture
def server_dir():
    """A data directory PostgreSQL's own user can reach: not under pytest's tmp_path, whose root
    (/tmp/pytest-of-<user>) pytest resets to mode 0700 whenever another pytest session starts,
    which locked a restarting PostgreSQL out of its data mid-test."""
    import shutil
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="portal-pg-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


class PortalProcess:
    """`portal <args>` in a child process whose output is read as it comes: `expect(text)` waits
    for a line holding `text` (the start of the stack's topics is left out: `topics` is {})."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        code = (
            "import sys; from portal_stack import stack; stack.contract_topics = lambda *a: {}; "
            f"from portal_stack.cli import app; sys.argv = ['portal', *{args!r}]; app()"
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._queue.put(line)
        self._queue.put(None)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def expect(self, text: str, timeout: float = 120) -> str:
        """The first line from now on holding `text`; fails with the output when the process ends
        or `timeout` seconds pass first."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                self._queue.put(None)
                raise AssertionError(f"portal ended (exit {self.proc.wait()}) without {text!r}:\n{self.output}")
            self.lines.append(line)
            if text in line:
                return line
        raise AssertionError(f"no {text!r} within {timeout} s:\n{self.output}")

    def wait(self, timeout: float = 120) -> int:
        """The exit code, once the process has ended and all its output is read."""
        code = self.proc.wait(timeout)
        while (line := self._queue.get(timeout=timeout)) is not None:
            self.lines.append(line)
        self._queue.put(None)
        return code

    def interrupt(self, timeout: float = 120) -> int:
        self.proc.send_signal(signal.SIGINT)
        return self.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def portal(tmp_path):
    """Factory of PortalProcess (stopped at the end of the test); `env` is added to os.environ."""
    started: list[PortalProcess] = []

    def start(args: list[str], env: dict[str, str]) -> PortalProcess:
        process = PortalProcess(args, {**os.environ, "COLUMNS": "200", **env})
        started.append(process)
        return process

    yield start
    for process in started:
        if process.proc.poll() is None:
            try:
                process.interrupt(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
