"""`portal bench`: how fast the system is, each figure beside a framework-free baseline measured on
the same servers in the same run (issue 18).

Rows: seller flows per second and their latencies at 1, 8 and 32 clients; the outbox relay beside
a raw aiokafka producer; notify's consumer beside a raw aiokafka + asyncpg consumer; orders' GET
and POST beside Litestar with one asyncpg statement; SQL statements per request, event, message
and flow (pg_stat_statements); CPU and RSS per process. The machine may be shared and busy, so
ratios to a baseline of the same moment say more than the figures alone. Servers of its own
(`portal_stack.bench.system`); `--quick` is the short run the tests make.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.console import Console

from portal_stack.bench.run import Options

__all__ = ["Options", "main"]


def main(options: Options, console: Console, json_path: Path | None = None) -> dict:
    """Run, print the tables on `console`, write the JSON; the figures and rows."""
    import time

    from portal_stack.bench import report
    from portal_stack.bench.run import run, write_json

    progress = Console(stderr=True)
    start = time.monotonic()

    def say(text: str) -> None:
        progress.print(f"[{time.monotonic() - start:6.1f}s] {text}", highlight=False)

    result = asyncio.run(run(options, say))
    rows = report.build(result)
    report.render(console, result, rows)
    if json_path is not None:
        write_json(result, rows, json_path)
        say(f"figures written to {json_path}")
    return {**result, **rows}
