"""Every port and start-up time limit of `portal up` is set by a flag or by the PORTAL_* variable
of the same name, and a wrong or clashing one is refused naming its setting, before anything
starts (so that a second stack beside the first gets a clear answer, not a half-started one)."""

from __future__ import annotations

import socket

import pytest
from typer.testing import CliRunner

from portal_stack._proc import free_port
from portal_stack.cli import app
from portal_stack.config import Ports, StackConfig, Timeouts, flag, http_port
from portal_stack.errors import InfraError
from portal_stack.services import ServiceSpec, default_specs
from portal_stack.stack import Stack


def test_each_port_has_a_variable_and_a_flag_of_the_same_name():
    env = {
        "PORTAL_KAFKA_PORT": "29092",
        "PORTAL_KAFKA_CONTROLLER_PORT": "29093",
        "PORTAL_POSTGRES_PORT": "25432",
        "PORTAL_MAIL_SMTP_PORT": "2025",
        "PORTAL_MAIL_HTTP_PORT": "2026",
        "PORTAL_ORDERS_HTTP_PORT": "9002",
    }
    assert Ports.from_env(env) == Ports(29092, 29093, 25432, 2025, 2026)
    assert [s.http_port for s in default_specs(("catalog", "orders"), env)] == [8001, 9002]
    assert flag("PORTAL_KAFKA_CONTROLLER_PORT") == "--kafka-controller-port"
    assert flag("PORTAL_ORDERS_HTTP_PORT") == "--orders-http-port"


def test_an_offset_moves_every_default_port_but_not_the_ones_set():
    env = {"PORTAL_PORT_OFFSET": "100", "PORTAL_POSTGRES_PORT": "25432"}
    assert Ports.from_env(env) == Ports(19192, 19193, 25432, 1125, 8125)
    assert http_port(env, "notify") == 8105


def test_start_timeouts_come_from_the_variables_and_say_how_to_raise_them():
    assert Timeouts.from_env({}) == Timeouts(kafka=120, postgres=60, services=90)
    env = {"PORTAL_KAFKA_START_TIMEOUT": "300", "PORTAL_SERVICE_START_TIMEOUT": "45.5"}
    assert Timeouts.from_env(env) == Timeouts(kafka=300, postgres=60, services=45.5)
    assert StackConfig.from_env(env).timeouts.kafka == 300
    assert Timeouts().hint("kafka") == "more time with --kafka-start-timeout or PORTAL_KAFKA_START_TIMEOUT"


@pytest.mark.parametrize(
    ("variable", "value"),
    [("PORTAL_KAFKA_PORT", "0"), ("PORTAL_MAIL_HTTP_PORT", "x"), ("PORTAL_POSTGRES_START_TIMEOUT", "-1")],
)
def test_a_wrong_value_is_refused_naming_its_flag_and_variable(variable, value):
    with pytest.raises(InfraError, match=f"^{flag(variable)} / {variable}: '{value}' is not a number"):
        StackConfig.from_env({variable: value})


def test_portal_up_refuses_a_wrong_port_before_it_starts_anything(tmp_path):
    result = CliRunner().invoke(app, ["up", "--data-dir", str(tmp_path), "--mail-smtp-port", "70000"])
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())  # as one line, however wide the terminal
    assert "error: --mail-smtp-port / PORTAL_MAIL_SMTP_PORT: '70000' is not a number from 1 to 65535" in said
    assert not (tmp_path / "portal.lock").exists()


def distinct_ports(count: int) -> list[int]:
    taken: set[int] = set()
    for _ in range(count):
        taken.add(free_port(avoid=taken))
    return sorted(taken)


def stack(tmp_path, ports: Ports, service_port: int) -> Stack:
    return Stack(StackConfig(tmp_path, tmp_path, ports=ports), specs=[ServiceSpec("orders", "orders", service_port)])


def test_a_busy_port_is_named_with_its_setting_and_nothing_starts(tmp_path):
    ports = Ports(*distinct_ports(5))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(InfraError) as refused:
            stack(tmp_path, ports, port).check_ports()
    message = str(refused.value)
    assert f"port {port} for orders on 127.0.0.1 is in use (--orders-http-port / PORTAL_ORDERS_HTTP_PORT)" in message
    assert "PORTAL_PORT_OFFSET=100" in message and "PORTAL_DATA_DIR" in message


def test_a_port_given_twice_is_refused(tmp_path):
    kafka, controller, postgres, smtp, orders = distinct_ports(5)
    ports = Ports(kafka, controller, postgres, smtp, smtp)
    with pytest.raises(InfraError, match=f"port {smtp} is given to both the mail sink's SMTP and the mail viewer"):
        stack(tmp_path, ports, orders).check_ports()


async def test_a_data_directory_serves_one_stack_at_a_time(tmp_path):
    first = Stack(StackConfig(tmp_path, tmp_path), specs=[])
    first._lock_data_dir()
    try:
        with pytest.raises(InfraError, match=r"is in use by another portal \(pid \d+\); give this one its own data"):
            Stack(StackConfig(tmp_path, tmp_path), specs=[])._lock_data_dir()
    finally:
        await first.stop()
    again = Stack(StackConfig(tmp_path, tmp_path), specs=[])
    again._lock_data_dir()
    await again.stop()
