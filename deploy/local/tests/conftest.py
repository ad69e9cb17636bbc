"""Fixtures for the portal_stack tests (the `infra` fixture comes from the plugin)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

FAKE_SERVICE = textwrap.dedent('''
    """A stand-in service: `migrate` creates a table, `run` serves /health/ready."""
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

    def run():
        if os.environ.get("FAKE_FAIL") == os.environ["SERVICE_NAME"]:
            print("fake failure on purpose", flush=True)
            sys.exit(3)
        out = Path(os.environ["FAKE_OUT"]) / (os.environ["SERVICE_NAME"] + ".json")
        out.write_text(json.dumps(dict(os.environ)))
        server = http.server.HTTPServer((os.environ["HTTP_HOST"], int(os.environ["HTTP_PORT"])), Handler)
        signal.signal(signal.SIGTERM, lambda *a: (out.with_suffix(".stopped").write_text("1"), sys.exit(0)))
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
