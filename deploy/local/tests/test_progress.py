"""What `portal up` says while it starts: each server as it starts, with its time limit, how long
it took or that it failed, and every few seconds what it is still waiting for."""

from __future__ import annotations

import asyncio

import pytest

from portal_stack.cli import show_waiting
from portal_stack.progress import Progress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_step_says_what_starts_its_limit_and_how_long_it_took():
    lines: list[str] = []
    clock = Clock()
    progress = Progress(lines.append, clock)
    with progress.step("Kafka on 127.0.0.1:19092", timeout=120):
        clock.now += 14.2
        assert progress.waiting() == "Kafka on 127.0.0.1:19092 (14 s of 120 s)"
        with progress.step("the migrations of orders"):
            clock.now += 2
            assert progress.waiting() == "Kafka on 127.0.0.1:19092 (16 s of 120 s), the migrations of orders (2 s)"
    assert lines == [
        "starting Kafka on 127.0.0.1:19092 (up to 120 s)",
        "starting the migrations of orders",
        "the migrations of orders ready in 2.0 s",
        "Kafka on 127.0.0.1:19092 ready in 16.2 s",
    ]
    assert progress.waiting() == ""


def test_a_failed_step_says_so_and_is_no_longer_waited_for():
    lines: list[str] = []
    clock = Clock()
    progress = Progress(lines.append, clock)
    with pytest.raises(RuntimeError), progress.step("PostgreSQL on 127.0.0.1:55432", timeout=60):
        clock.now += 60.4
        raise RuntimeError("did not become ready")
    assert lines[-1] == "PostgreSQL on 127.0.0.1:55432 failed after 60.4 s"
    assert progress.waiting() == ""


async def test_portal_up_shows_what_it_is_waiting_for_while_it_waits():
    progress = Progress()
    shown: asyncio.Queue[str] = asyncio.Queue()
    with progress.step("Kafka on 127.0.0.1:19092", timeout=120):
        ticker = asyncio.create_task(show_waiting(progress, shown.put_nowait, every=0.01))
        try:
            line = await asyncio.wait_for(shown.get(), 10)
        finally:
            ticker.cancel()
    assert line.startswith("waiting for Kafka on 127.0.0.1:19092 (") and line.endswith(" of 120 s)")
