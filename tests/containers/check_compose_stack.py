"""The container test: the portal as deploy/compose.yaml runs it, from the one image.

Validates deploy/compose.yaml against the Compose Specification (scripts/compose-check), builds
the images (deploy/image/build-images.sh: the base from Debian's mirror, the portal image
from uv.lock, local Kafka, PostgreSQL and mail catcher images), brings the stack up with
podman-compose (deploy/image/stack.sh) on free loopback ports, waits until every api, worker and
relay is ready, drives the seller flow of tests/flow.py through the published ports, checks the
emails at the mail catcher and that every role logs JSON lines with trace and event ids, and takes
the stack down.

Not collected by `./run-tests` (its name is no test_*.py): deploy/image/test-stack.sh runs it after
the README's test command, as .ci/run does. Without a working podman it fails saying what is
missing."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from flow import Portal, approved_and_paid_in_two_parts

from portal_runtime.testing import TEST_SECRET, eventually, json_lines

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("catalog", "orders", "returns", "billing", "notify")
ROLES = ("api", "worker", "relay")
PROJECT = "portal-test"
READY_TIMEOUT = 300  # 15 Python processes starting at once on 2 cores


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def require_podman() -> None:
    if shutil.which("podman") is None:
        pytest.fail(
            "podman is missing: the container test builds and runs images with podman "
            "(scripts/ensure-podman.sh installs it from Debian as root: podman, runc, debootstrap)"
        )
    info = subprocess.run(["podman", "info", "--format", "{{.Host.OCIRuntime.Name}}"], capture_output=True, text=True)
    if info.returncode != 0:
        pytest.fail(f"podman cannot run here (`podman info` failed): {info.stderr.strip()[-2000:]}")


def run(what: str, *cmd: str, env: dict[str, str], timings: dict[str, float]) -> None:
    start = time.monotonic()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    timings[what] = time.monotonic() - start
    print(f"container test: {what} took {timings[what]:.0f} s", flush=True)
    if done.returncode != 0:
        pytest.fail(f"{what} failed (exit {done.returncode}): {' '.join(cmd)}\n{done.stderr[-4000:]}")


class MailCatcher:
    """The `infra` side flow.py needs: the emails the mail catcher (portal_stack.mailsink) has."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def messages(self, to: str | None = None) -> list[dict[str, Any]]:
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as client:
            answer = await client.get("/api/messages", params={"to": to} if to else None)
            answer.raise_for_status()
            return answer.json()


def test_the_compose_file_follows_the_compose_specification() -> None:
    """compose-go (the loader of Docker Compose, with the specification's JSON schema) loads it."""
    if shutil.which("go") is None:
        pytest.fail("go is missing: scripts/compose-check (compose-go) validates the compose file; install Go")
    env = {**os.environ, "JWT_SECRET": TEST_SECRET}
    done = subprocess.run(
        ["go", "-C", "scripts/compose-check", "run", ".", str(ROOT / "deploy" / "compose.yaml")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    services = {line.split("\t")[0] for line in done.stdout.splitlines() if "\t" in line}
    roles = {f"{s}-{r}" for s in SERVICES for r in (*ROLES, "migrate")}
    assert services == roles | {"kafka", "postgres", "mail", "topics"}, services


@pytest.fixture(scope="module")
def stack():
    require_podman()
    ports = dict(zip((f"{s.upper()}_HTTP_PORT" for s in SERVICES), free_ports(len(SERVICES)), strict=True))
    ports.update(zip(("MAIL_HTTP_PORT", "MAIL_SMTP_PORT", "POSTGRES_PORT", "KAFKA_PORT"), free_ports(4), strict=True))
    env = {
        **os.environ,
        **{k: str(v) for k, v in ports.items()},
        "JWT_SECRET": TEST_SECRET,
        "COMPOSE_PROJECT_NAME": PROJECT,
    }
    timings: dict[str, float] = {}
    run("building the images", "deploy/image/build-images.sh", env=env, timings=timings)
    run("removing a stack left by an earlier run", "deploy/image/stack.sh", "down", env=env, timings=timings)
    try:
        run("bringing the stack up", "deploy/image/stack.sh", "up", env=env, timings=timings)
        yield ports, timings
    finally:
        run("taking the stack down", "deploy/image/stack.sh", "down", env=env, timings=timings)
        print("container test timings: " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()), flush=True)


def container(service: str, role: str) -> str:
    return f"{PROJECT}_{service}-{role}_1"


def readiness(service: str, role: str) -> str:
    """The role's own /health/ready, asked from inside its container (workers and relays publish
    no port)."""
    probe = "import urllib.request as u; print(u.urlopen('http://127.0.0.1:8000/health/ready', timeout=5).read())"
    done = subprocess.run(
        ["podman", "exec", container(service, role), "python", "-c", probe], capture_output=True, text=True
    )
    return done.stdout if done.returncode == 0 else ""


def log_lines(service: str, role: str) -> list[dict[str, Any]]:
    done = subprocess.run(["podman", "logs", container(service, role)], capture_output=True, text=True, check=True)
    return json_lines(done.stdout + done.stderr, f"{service} {role}")


@pytest.mark.timeout(2400)  # with the image builds and the stack's start (the project's default is 300 s)
async def test_the_seller_flow_runs_through_the_compose_stack(stack) -> None:
    ports, timings = stack
    start = time.monotonic()
    for service in SERVICES:
        for role in ROLES:
            await eventually(
                lambda s=service, r=role: '"ready"' in readiness(s, r),
                timeout=READY_TIMEOUT,
                interval=2,
                what=f"{service} {role} to be ready in its container",
            )
    timings["all roles ready"] = time.monotonic() - start
    print(f"container test: every role ready {timings['all roles ready']:.0f} s after the stack was up", flush=True)

    portal = Portal(MailCatcher(f"http://127.0.0.1:{ports['MAIL_HTTP_PORT']}"))
    for service in ("catalog", "orders", "billing", "notify"):
        port = ports[f"{service.upper()}_HTTP_PORT"]
        portal.http[service] = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30)
    start = time.monotonic()
    try:
        done = await approved_and_paid_in_two_parts(portal, "de")
    finally:
        await asyncio.gather(*(client.aclose() for client in portal.http.values()))
    timings["seller flow"] = time.monotonic() - start
    print(f"container test: seller flow took {timings['seller flow']:.0f} s", flush=True)

    mails = await portal.infra.messages(to=done.email)
    assert all(m["rcpt_to"] == [done.email] for m in mails), mails
    assert done.invoice["number"] in " ".join(m["subject"] for m in mails)

    # Every role's log is JSON lines naming service and role; the consumers' carry trace and event ids.
    for service in SERVICES:
        for role in ROLES:
            lines = log_lines(service, role)
            assert lines, f"{service} {role} logged nothing"
            for line in lines:
                assert {"timestamp", "level", "service", "role", "message"} <= line.keys(), line
                assert (line["service"], line["role"]) == (service, role), line
                assert done.email not in json.dumps(line), line
    handled = [line for line in log_lines("notify", "worker") if "event_id" in line]
    assert handled and all(len(line["trace_id"]) == 32 and len(line["span_id"]) == 16 for line in handled), handled
