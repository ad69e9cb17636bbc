"""`wait_ready`, the start of every local server (Kafka, PostgreSQL): it answers once the server
is ready, and a server that exits or is not ready in time is stopped and reported with why."""

from __future__ import annotations

import subprocess
import sys

import pytest

from portal_stack._proc import stop_process, wait_ready


class Failed(Exception):
    pass


def python(code: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code])


async def attempt(proc: subprocess.Popen, ready, timeout: float = 10.0) -> list[str]:
    """Wait for `proc` as a server wrapper does; answers what happened to it."""
    stopped: list[str] = []

    async def stop() -> None:
        await stop_process(proc, timeout=5)
        stopped.append("stopped")

    try:
        await wait_ready(proc, ready, timeout=timeout, interval=0.01, stop=stop, failure=Failed)
    except Failed as failed:
        stopped.append(str(failed))
    return stopped


async def test_a_server_that_becomes_ready_is_left_running():
    proc = python("import time; time.sleep(30)")
    polls = []

    async def ready() -> bool:
        polls.append(1)
        return len(polls) == 3

    try:
        assert await attempt(proc, ready) == [] and len(polls) == 3 and proc.poll() is None
    finally:
        await stop_process(proc, timeout=5)


async def test_a_server_that_exits_first_is_reported_as_exited():
    proc = python("raise SystemExit(3)")
    proc.wait()

    async def never() -> bool:
        raise AssertionError("not asked once the process has exited")

    assert await attempt(proc, never) == ["stopped", "exited"]


async def test_a_server_not_ready_in_time_is_stopped():
    proc = python("import time; time.sleep(30)")

    async def not_yet() -> bool:
        return False

    assert await attempt(proc, not_yet, timeout=0.2) == ["stopped", "did not become ready"]
    assert proc.poll() is not None


async def test_a_cancelled_start_stops_the_server():
    import asyncio

    proc = python("import time; time.sleep(30)")

    async def cancelled() -> bool:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await attempt(proc, cancelled)
    assert proc.poll() is not None
