"""The chaos run, short (the long one is its own command, `uv run python tests/chaos.py`): seller
flows while processes are SIGKILLed and Kafka and PostgreSQL are killed and restarted once each;
afterwards nothing lost (each flow has its five emails: its address's confirmation and one per
step), nothing doubled, no email of another kind, nothing dead-lettered, no outbox row left."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
from chaos import MUST_BE_NONE

CHAOS = Path(__file__).with_name("chaos.py")


# The run has a deadline of its own (--timeout 400): pytest's default 300 s must not cut it first.
@pytest.mark.timeout(660)
async def test_a_short_chaos_run_loses_and_doubles_nothing():
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(CHAOS),
        "--flows",
        "12",
        "--clients",
        "4",
        "--kill-every",
        "1.5",
        "--min-kills",
        "6",
        "--kafka-at",
        "3",
        "--postgres-at",
        "12",
        "--timeout",
        "400",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 600)
    text = out.decode()
    assert proc.returncode == 0, text[-4000:]
    figures = json.loads(text[text.index("{\n") : text.rindex("}") + 1])
    assert figures["flows"] >= 12 and figures["kafka restarts"] == 1 and figures["postgres restarts"] == 1, figures
    assert sum(figures["kills"].values()) >= 6, figures
    for what in MUST_BE_NONE:
        assert figures[what] == 0, (what, figures)
