"""The scale-out run, short (the long one is its own command, `uv run python tests/scale_out.py`):
three workers per consuming service in one consumer group, one of each stopped (SIGTERM) and a
fresh one started mid-run, the groups seen rebalanced on the broker; afterwards every event
applied once (nothing lost, nothing doubled), each aggregate's events applied in the order they
were produced, nothing dead-lettered, no outbox row left."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
from chaos import CONSUMING
from scale_out import MUST_BE_ZERO

SCALE_OUT = Path(__file__).with_name("scale_out.py")


# The run has a deadline of its own (--timeout 300): pytest's default 300 s must not cut it first.
@pytest.mark.timeout(560)
async def test_a_short_scale_out_run_applies_every_event_once_and_in_order():
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SCALE_OUT),
        "--flows",
        "6",
        "--clients",
        "3",
        "--rebalance-after",
        "2",
        "--timeout",
        "300",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 540)
    text = out.decode()
    assert proc.returncode == 0, text[-4000:]
    figures = json.loads(text[text.index("{\n") : text.rindex("}") + 1])
    assert figures["flows"] >= 6 and figures["workers per group"] == 3, figures
    assert figures["stops (SIGTERM)"] == len(CONSUMING) and figures["starts"] == len(CONSUMING), figures
    for service in CONSUMING:
        assert figures["rebalances observed"][service] >= 1, figures
        assert figures["events consumed"][service] > 0, figures
    assert figures["order pairs checked"] > 0, figures  # the order check compared something
    assert figures["lost effects"] == 0 and figures["doubled effects"] == 0, figures
    for what in MUST_BE_ZERO:
        assert figures[what] == 0, (what, figures)
