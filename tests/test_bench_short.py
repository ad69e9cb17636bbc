"""`portal bench --quick`, the short benchmark (the full one is its own command, `./portal bench`):
it starts servers of its own, runs every row once with few messages, prints its tables and writes
the JSON. No timing is asserted, the machine may be busy: every row must be there with a number,
and every comparison with its framework-free baseline and ratio, printed and in the JSON."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

COMPARISONS = (
    "outbox relay, 500 rows of orders' outbox",
    "outbox relay (same run)",
    "consumer, 100 AccountProfileChanged into notify (languages changed)",
    "consumer (same run)",
    "consumer, 100 new addresses (notify also mails each a confirmation)",
    "orders GET /v1/requests/{id}, 8 connections",
    "orders GET p99",
    "orders POST /v1/requests (draft, 1 line), 8 connections",
    "orders POST p99",
    "SQL statements per GET",
    "SQL statements per POST",
    "SQL statements per consumed event (languages changed)",
    "SQL statements per consumed event (same run)",
    "SQL statements per consumed event (new addresses, with their emails)",
    "SQL statements per relayed message",
)
FLOW_ROWS = (
    "seller flows per second",
    "submit → last of 4 emails (ms)",
    "approve → invoice issued (ms)",
    "card payment → request active (ms)",
    "POST /v1/requests/{id}/submit (ms)",
    "POST /v1/admin/requests/{id}/approve (ms)",
    "POST /v1/invoices/{id}/payments (ms)",
    "SQL statements per flow: orders",
    "SQL statements per flow: billing",
    "SQL statements per flow: notify",
)
PROCESSES = ("catalog", "orders", "returns", "billing", "notify", "kafka", "postgres", "baseline http")


def number(value) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value >= 0


# Seven processes start on two cores: on a busy machine that alone took 70 s.
@pytest.mark.timeout(660)
def test_the_short_benchmark_has_every_row_with_a_number_and_every_baseline_with_its_ratio(tmp_path):
    out = tmp_path / "bench.json"
    run = subprocess.run(
        [sys.executable, "-m", "portal_stack.cli", "bench", "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert run.returncode == 0, f"{run.stdout[-3000:]}\n{run.stderr[-5000:]}"
    result = json.loads(out.read_text())
    printed = run.stdout.splitlines()

    rows = {row["what"]: row for row in result["comparisons"]}
    assert set(rows) == set(COMPARISONS), sorted(rows)
    for what, row in rows.items():
        assert number(row["project"]) and row["baseline"] > 0 and row["ratio"] > 0, row
        assert row["baseline_what"], row
        assert any(what in line and f"{row['ratio']:.2f}" in line for line in printed), (what, run.stdout)

    flows = {row["what"]: row for row in result["flows"]}
    assert set(FLOW_ROWS) <= set(flows), sorted(flows)
    for what, row in flows.items():
        value = row["values"]["1"]
        assert number(value) or (number(value["p50"]) and value["p99"] >= value["p50"]), row
        assert any(line.lstrip("│ ").startswith(what) for line in printed), (what, run.stdout)
    assert flows["seller flows per second"]["values"]["1"] > 0

    figures = result["figures"]
    assert figures["flows"]["1"]["flows"] == 3 and figures["relay"]["rows"] == 500, figures
    assert figures["consumer"]["events"] == figures["consumer_changes"]["events"] == 100, figures
    assert figures["http"]["get"]["project"]["sql"]["SELECT"] >= 1, "statements are counted per kind"
    for process in PROCESSES:
        assert figures["rss_mb"][process]["peak"] > 0, process
        assert number(figures["idle"]["cpu_percent"][process]), process
        assert any(line.lstrip("│ ").startswith(process) for line in printed), (process, run.stdout)
    assert "idle CPU of the five services" in run.stdout
