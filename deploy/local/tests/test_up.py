"""`portal up` as people run it: two stacks side by side on ports set by flags and by variables,
each with its own data directory and real Kafka, PostgreSQL and mail sink; what it says while it
starts; a start-up time limit that is too short; a process that dies while the stack runs (a
service: named with its exit code and log, the others run on; Kafka: everything stops cleanly)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import smtplib
import urllib.request
from email.message import EmailMessage
from pathlib import Path

import asyncpg
import psutil
import pytest

from portal_stack._proc import free_port, port_is_free
from portal_stack.kafka import fetch_metadata

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def ports(*names: str, avoid: set[int]) -> dict[str, int]:
    chosen = {}
    for name in names:
        chosen[name] = free_port(avoid=avoid)
        avoid.add(chosen[name])
    return chosen


def get(url: str) -> tuple[int, bytes]:
    with OPENER.open(url, timeout=10) as resp:
        return resp.status, resp.read()


def clean_env(**env: str) -> dict[str, str]:
    """No PORTAL_* of the test session's own (they could name servers to use instead)."""
    return {**{k: "" for k in os.environ if k.startswith("PORTAL_")}, **env}


def check_stack(data: Path, at: dict[str, int], out: Path) -> None:
    """Each server of the stack listens where it was told, and the service was told so too."""
    assert asyncio.run(fetch_metadata(f"127.0.0.1:{at['kafka']}")), f"no Kafka on {at['kafka']}"

    async def data_directory() -> str:
        conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{at['postgres']}/catalog")
        try:
            return await conn.fetchval("SHOW data_directory")
        finally:
            await conn.close()

    assert asyncio.run(data_directory()).startswith(str(data)), "PostgreSQL of another stack"
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "a@example.test", f"{data.name}@example.test", "side by side"
    mail.set_content("hello")
    with smtplib.SMTP("127.0.0.1", at["smtp"], timeout=10) as smtp:
        smtp.send_message(mail)
    status, body = get(f"http://127.0.0.1:{at['mail']}/api/messages")
    assert status == 200 and {tuple(m["rcpt_to"]) for m in json.loads(body)} == {(f"{data.name}@example.test",)}
    assert get(f"http://127.0.0.1:{at['catalog']}/health/ready")[0] == 200
    env = json.loads((out / "catalog.json").read_text())
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == f"127.0.0.1:{at['kafka']}"
    assert env["SMTP_PORT"] == str(at["smtp"]) and f"127.0.0.1:{at['postgres']}/catalog" in env["DATABASE_URL"]


def kafka_pid(data: Path) -> int:
    """The Kafka JVM of the stack in `data` (its command line names its server.properties)."""
    props = str(data / "kafka" / "server.properties")
    for proc in psutil.process_iter(["pid", "cmdline"]):
        if props in (proc.info["cmdline"] or []):
            return proc.info["pid"]
    raise AssertionError(f"no Kafka process with {props}")


@pytest.mark.timeout(900)
def test_two_stacks_side_by_side_on_ports_set_by_flags_and_by_variables(portal, fake_services, server_dir, tmp_path):
    fakes = fake_services(["catalog"])
    taken: set[int] = set()
    names = ("kafka", "controller", "postgres", "smtp", "mail", "catalog")
    a, b = ports(*names, avoid=taken), ports(*names, avoid=taken)
    data_a, data_b, out_a, out_b = server_dir / "a", server_dir / "b", tmp_path / "out-a", tmp_path / "out-b"
    out_a.mkdir(), out_b.mkdir()
    by_flags = portal(
        [
            *("up", "-s", "catalog", "--data-dir", str(data_a), "--kafka-start-timeout", "300"),
            *("--kafka-port", str(a["kafka"]), "--kafka-controller-port", str(a["controller"])),
            *("--postgres-port", str(a["postgres"]), "--mail-smtp-port", str(a["smtp"])),
            *("--mail-http-port", str(a["mail"]), "--catalog-http-port", str(a["catalog"])),
        ],
        clean_env(PYTHONPATH=str(fakes), FAKE_OUT=str(out_a)),
    )
    by_variables = portal(
        ["up", "-s", "catalog"],
        clean_env(
            PYTHONPATH=str(fakes),
            FAKE_OUT=str(out_b),
            PORTAL_DATA_DIR=str(data_b),
            PORTAL_KAFKA_START_TIMEOUT="300",
            PORTAL_KAFKA_PORT=str(b["kafka"]),
            PORTAL_KAFKA_CONTROLLER_PORT=str(b["controller"]),
            PORTAL_POSTGRES_PORT=str(b["postgres"]),
            PORTAL_MAIL_SMTP_PORT=str(b["smtp"]),
            PORTAL_MAIL_HTTP_PORT=str(b["mail"]),
            PORTAL_CATALOG_HTTP_PORT=str(b["catalog"]),
        ),
    )
    for stack, at in ((by_flags, a), (by_variables, b)):
        stack.expect("Ready.", timeout=600)
        said = stack.output
        for line in (
            f"starting Kafka on 127.0.0.1:{at['kafka']} (up to 300 s)",
            f"Kafka on 127.0.0.1:{at['kafka']} ready in ",
            f"starting PostgreSQL on 127.0.0.1:{at['postgres']} (up to 60 s)",
            f"PostgreSQL on 127.0.0.1:{at['postgres']} ready in ",
            f"the mail sink (SMTP 127.0.0.1:{at['smtp']}, viewer http://127.0.0.1:{at['mail']}) ready in ",
            "the migrations of catalog ready in ",
            f"catalog on http://127.0.0.1:{at['catalog']} ready in ",
        ):
            assert line in said, said
    check_stack(data_a, a, out_a)
    check_stack(data_b, b, out_b)

    os.kill(kafka_pid(data_b), signal.SIGKILL)
    by_variables.expect("Kafka was killed by SIGKILL (exit code -9) while the stack was running.")
    by_variables.expect("Stopping everything: the services cannot work without Kafka.")
    assert by_variables.wait() == 1 and "Stopped." in by_variables.output
    assert all(port_is_free(port) for port in b.values()), "stack b left a server behind"

    check_stack(data_a, a, out_a)  # the other stack runs on
    assert by_flags.interrupt() == 0 and "Stopped." in by_flags.output
    assert all(port_is_free(port) for port in a.values())


def test_a_start_time_limit_too_short_for_kafka_says_how_to_give_more(portal, configured, server_dir):
    at = ports("kafka", "controller", avoid=set())
    env = {k: v for k, v in configured.items() if k != "PORTAL_KAFKA_BOOTSTRAP_SERVERS"}
    started = portal(
        ["infra", "--kafka-port", str(at["kafka"]), "--kafka-controller-port", str(at["controller"])],
        clean_env(**env, PORTAL_DATA_DIR=str(server_dir / "c"), PORTAL_KAFKA_START_TIMEOUT="1"),
    )
    assert started.wait() == 1
    said = started.output
    assert f"starting Kafka on 127.0.0.1:{at['kafka']} (up to 1 s)" in said, said
    assert f"Kafka on 127.0.0.1:{at['kafka']} failed after " in said
    assert (
        "Kafka did not become ready within 1s (more time with --kafka-start-timeout or PORTAL_KAFKA_START_TIMEOUT"
        in said
    )
    assert port_is_free(at["kafka"]) and port_is_free(at["controller"])


@pytest.mark.timeout(600)
def test_a_service_that_dies_is_named_with_its_log_and_the_others_run_on(portal, configured, fake_services, tmp_path):
    at = ports("catalog", "orders", avoid=set())
    data = tmp_path / "data"
    env = clean_env(**configured, PYTHONPATH=str(fake_services(["catalog", "orders"])), FAKE_OUT=str(tmp_path))
    flags = ["--catalog-http-port", str(at["catalog"]), "--orders-http-port", str(at["orders"])]
    running = portal(["up", "-s", "catalog", "-s", "orders", "--data-dir", str(data), *flags], env)
    running.expect("Ready.")

    # a second stack on the same data directory, then on the same ports, is told so and starts nothing
    same_dir = portal(["up", "-s", "catalog", "--data-dir", str(data), "--catalog-http-port", str(free_port())], env)
    assert same_dir.wait() == 1
    assert f"error: {data} is in use by another portal (pid {running.proc.pid})" in same_dir.output, same_dir.output
    same_port = portal(["up", "-s", "catalog", "--data-dir", str(tmp_path / "other"), *flags[:2]], env)
    assert same_port.wait() == 1
    busy = f"port {at['catalog']} for catalog on 127.0.0.1 is in use (--catalog-http-port / PORTAL_CATALOG_HTTP_PORT)"
    assert busy in same_port.output, same_port.output

    def pid(service: str) -> int:
        return int(json.loads((tmp_path / f"{service}.json").read_text())["PID"])

    os.kill(pid("orders"), signal.SIGUSR1)  # the stand-in says "dying on purpose" and exits with 7
    running.expect("orders exited with code 7 while the stack was running.")
    running.expect(f"Last lines of {data / 'logs' / 'orders.log'}:")
    running.expect("dying on purpose")
    running.expect("The other services keep running (catalog)")
    assert get(f"http://127.0.0.1:{at['catalog']}/health/ready")[0] == 200
    logs = portal(["logs", "orders", "--data-dir", str(data), "--no-follow", "-n", "3"], env)
    assert logs.wait() == 0 and "dying on purpose" in logs.output

    os.kill(pid("catalog"), signal.SIGUSR1)
    running.expect("catalog exited with code 7 while the stack was running.")
    running.expect("Stopping: no service is left running.")
    assert running.wait() == 1 and "Stopped." in running.output
