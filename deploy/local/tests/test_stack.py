import asyncio
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time

import asyncpg
import pytest

from portal_stack._proc import free_port
from portal_stack.config import StackConfig
from portal_stack.errors import InfraError
from portal_stack.postgres import asyncpg_dsn
from portal_stack.services import ServiceSpec
from portal_stack.stack import Stack
from portal_stack.testing import TestInfra

NAMES = ["catalog", "orders"]


def specs(names=NAMES):
    taken: set[int] = set()
    out = []
    for name in names:
        port = free_port(avoid=taken)
        taken.add(port)
        out.append(ServiceSpec(name, name, port))
    return out


def test_configured_servers_are_used_and_nothing_starts(infra, configured):
    other = TestInfra(env=configured)
    try:
        assert other.started == []
        assert other.kafka_bootstrap == infra.kafka_bootstrap
        assert (other.smtp_host, other.smtp_port) == (infra.smtp_host, infra.smtp_port)
        assert other.database_url("returns").endswith(
            infra.postgres_admin_url.rsplit(":", 1)[1].split("/")[0] + "/test_returns"
        )
    finally:
        other.close()


def test_unreachable_configured_server_fails_with_explanation():
    env = {
        "PORTAL_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
        "PORTAL_POSTGRES_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/postgres",
        "PORTAL_SMTP_HOST": "127.0.0.1",
        "PORTAL_SMTP_PORT": str(free_port()),
    }
    with pytest.raises(InfraError, match="PORTAL_KAFKA_BOOTSTRAP_SERVERS"):
        TestInfra(env=env)


async def test_stack_migrates_starts_and_stops_services(infra, configured, fake_services, tmp_path):
    root = fake_services(NAMES)
    out = tmp_path / "out"
    out.mkdir()
    base = {**os.environ, "PYTHONPATH": str(root), "FAKE_OUT": str(out), "OTEL_EXPORTER_X": "1"}
    config = StackConfig.from_env(configured, data_dir=tmp_path / "data")
    stack = Stack(config, specs=specs(), topics={"test.stack": 2}, base_env=base)
    await stack.start()
    try:
        assert stack.infra.started == []
        envs = {n: json.loads((out / f"{n}.json").read_text()) for n in NAMES}
        for spec in stack.specs:
            env = envs[spec.name]
            assert env["SERVICE_NAME"] == spec.name and env["HTTP_PORT"] == str(spec.http_port)
            assert env["HTTP_HOST"] == "127.0.0.1"
            assert env["KAFKA_BOOTSTRAP_SERVERS"] == infra.kafka_bootstrap
            assert env["SMTP_PORT"] == str(infra.smtp_port) and env["OTEL_EXPORTER_X"] == "1"
            assert env["DATABASE_URL"].endswith(f"/{spec.name}")
            conn = await asyncpg.connect(asyncpg_dsn(env["DATABASE_URL"]))
            assert await conn.fetchval("SELECT count(*) FROM migrated") >= 1
            await conn.close()
        secret = config.data_dir / "jwt_secret"
        assert envs["catalog"]["JWT_SECRET"] == envs["orders"]["JWT_SECRET"] == secret.read_text().strip()
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600
        services, rows = stack.summary()
        assert services[0][2].endswith("/schema/swagger") and services[0][3].endswith("/asyncapi")
    finally:
        await stack.stop()
    assert all((out / f"{n}.stopped").exists() for n in NAMES)  # SIGTERM reached them
    assert stack.runner.procs == {}


async def test_failing_service_reports_its_log(infra, configured, fake_services, tmp_path):
    base = {**os.environ, "PYTHONPATH": str(fake_services(NAMES)), "FAKE_OUT": str(tmp_path), "FAKE_FAIL": "orders"}
    stack = Stack(StackConfig.from_env(configured, data_dir=tmp_path / "data"), specs=specs(), topics={}, base_env=base)
    with pytest.raises(InfraError, match="(?s)orders exited with code 3.*fake failure on purpose"):
        await stack.start()
    assert stack.runner.procs == {}


async def test_cli_up_runs_until_sigint(infra, configured, fake_services, tmp_path):
    root = fake_services(["catalog"])
    port = free_port()
    env = {
        **os.environ,
        **configured,
        "PYTHONPATH": str(root),
        "FAKE_OUT": str(tmp_path),
        "PORTAL_DATA_DIR": str(tmp_path / "data"),
        "PORTAL_CATALOG_HTTP_PORT": str(port),
        "COLUMNS": "200",
    }
    code = (
        "import sys; from portal_stack import stack; stack.contract_topics = lambda *a: {}; "
        "from portal_stack.cli import app; sys.argv = ['portal', 'up', '-s', 'catalog']; app()"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = await asyncio.to_thread(proc.stdout.readline)
        if not line:
            break
        lines.append(line)
        if "Ready." in line:
            break
    output = "".join(lines)
    assert "Ready." in output, output
    # the API address in full, never cut off (the pages are paths on it)
    assert f"http://127.0.0.1:{port} " in output and "/schema/swagger" in output
    assert infra.kafka_bootstrap in output
    proc.send_signal(signal.SIGINT)
    rest, _ = await asyncio.to_thread(proc.communicate, timeout=60)
    assert proc.returncode == 0, output + rest
    assert "Stopped." in rest and (tmp_path / "catalog.stopped").exists()


def test_plugin_fails_instead_of_skipping(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_x.py").write_text(
        textwrap.dedent("""
        def test_needs_infra(infra):
            pass
    """)
    )
    env = {
        **os.environ,
        "PORTAL_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
        "PORTAL_POSTGRES_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/postgres",
        "PORTAL_SMTP_HOST": "127.0.0.1",
        "PORTAL_SMTP_PORT": str(free_port()),
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "portal_stack.pytest_plugin",
            "-p",
            "no:cacheprovider",
            "-rA",
            str(tmp_path),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 error" in result.stdout and "skipped" not in result.stdout
    assert "test infrastructure is missing" in result.stdout
    assert "PORTAL_KAFKA_BOOTSTRAP_SERVERS" in result.stdout
