"""The benchmark's figures as rows (for the JSON) and as rich tables (for the terminal).

Every ratio reads the same way: 1 is as good as the baseline, less is worse. For rates it is this
project ÷ baseline; for times and statement counts, baseline ÷ this project. The targets are those
of issue 18, so a run says at a glance which are met.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from portal_stack import SERVICES
from portal_stack.bench.measure import KINDS

# (seller flows at 32 clients: four times the 4.9 per second measured when the issue was filed)
FLOWS_TARGET = {"32": 4 * 4.9}
EMAIL_P99_TARGET_MS = {"1": 1000.0, "8": 2000.0}
IDLE_CPU_TARGET = 8.9  # % of one core, the five services together


def comparisons(f: dict, settings: dict) -> list[dict]:
    rows: list[dict] = []

    def row(what, project, baseline_what, baseline, unit, *, rate=True, target=None):
        ratio = project / baseline if rate else baseline / project
        rows.append(
            {
                "what": what,
                "project": project,
                "baseline_what": baseline_what,
                "baseline": baseline,
                "unit": unit,
                "ratio": ratio,
                "target": target,
                "met": None if target is None else ratio >= target,
            }
        )

    r, c, cc, h = f["relay"], f["consumer"], f["consumer_changes"], f["http"]
    get, post = h["get"], h["post"]
    conn = settings["http_connections"]
    raw_producer = "aiokafka (acks=all, idempotent) + asyncpg"
    row(
        f"outbox relay, {r['rows']:.0f} rows of orders' outbox",
        r["project_per_second"],
        f"{raw_producer}, sends pipelined",
        r["raw_pipelined_per_second"],
        "msg/s",
        target=0.9,
    )
    row(
        "outbox relay (same run)",
        r["project_per_second"],
        f"{raw_producer}, each send awaited",
        r["raw_awaited_per_second"],
        "msg/s",
    )
    row(
        f"consumer, {cc['events']:.0f} AccountProfileChanged into notify (languages changed)",
        cc["project_per_second"],
        "aiokafka + asyncpg, a transaction per event",
        cc["raw_per_event_per_second"],
        "events/s",
        target=0.8,
    )
    row(
        "consumer (same run)",
        cc["project_per_second"],
        "aiokafka + asyncpg, a transaction per 500",
        cc["raw_batch_per_second"],
        "events/s",
        target=0.3,
    )
    row(
        f"consumer, {c['events']:.0f} new addresses (notify also mails each a confirmation)",
        c["project_per_second"],
        "aiokafka + asyncpg, a transaction per event (no email)",
        c["raw_per_event_per_second"],
        "events/s",
    )
    for method, measured, path, baseline_what, target in (
        ("GET", get, "/v1/requests/{id}", "one asyncpg SELECT by key", 0.5),
        ("POST", post, "/v1/requests (draft, 1 line)", "one asyncpg INSERT", 0.4),
    ):
        ours, theirs = measured["project"], measured["baseline"]
        row(
            f"orders {method} {path}, {conn} connections",
            ours["per_second"],
            f"Litestar + {baseline_what}",
            theirs["per_second"],
            "req/s",
            target=target,
        )
        row(f"orders {method} p99", ours["p99"], "Litestar + asyncpg p99", theirs["p99"], "ms", rate=False)
    for what, mine, theirs, baseline_what in (
        ("SQL statements per GET", get["project"]["sql"], get["baseline"]["sql"], "the SELECT"),
        ("SQL statements per POST", post["project"]["sql"], post["baseline"]["sql"], "the INSERT"),
        (
            "SQL statements per consumed event (languages changed)",
            cc["sql_per_event"]["project"],
            cc["sql_per_event"]["raw_per_event"],
            "a transaction per event",
        ),
        (
            "SQL statements per consumed event (same run)",
            cc["sql_per_event"]["project"],
            cc["sql_per_event"]["raw_batch"],
            "a transaction per 500",
        ),
        (
            "SQL statements per consumed event (new addresses, with their emails)",
            c["sql_per_event"]["project"],
            c["sql_per_event"]["raw_per_event"],
            "a transaction per event",
        ),
        (
            "SQL statements per relayed message",
            r["sql_per_message"]["project"],
            r["sql_per_message"]["raw_pipelined"],
            "raw relay, batches of the same size",
        ),
    ):
        row(what, mine["total"], baseline_what, theirs["total"], "statements", rate=False)
    return rows


def flow_rows(f: dict, clients: list[int]) -> list[dict]:
    levels = [str(c) for c in clients]
    flows = f["flows"]

    def spread(key: str) -> dict:
        return {n: flows[n][key] for n in levels}

    rows = [
        {
            "what": "seller flows per second",
            "values": spread("flows_per_second"),
            "target": {n: f"≥ {t:.1f}" for n, t in FLOWS_TARGET.items() if n in levels},
        },
        {
            "what": "submit → last of 4 emails (ms)",
            "values": spread("submit_to_last_email_ms"),
            "target": {n: f"p99 < {t:.0f}" for n, t in EMAIL_P99_TARGET_MS.items() if n in levels},
        },
        {"what": "approve → invoice issued (ms)", "values": spread("approve_to_invoice_ms"), "target": {}},
        {"what": "card payment → request active (ms)", "values": spread("payment_to_active_ms"), "target": {}},
    ]
    calls = dict.fromkeys(call for n in levels for call in flows[n]["calls_ms"])
    for call in calls:
        rows.append({"what": f"{call} (ms)", "values": {n: flows[n]["calls_ms"].get(call) for n in levels}})
    for service in SERVICES:
        rows.append(
            {
                "what": f"SQL statements per flow: {service}",
                "values": {n: flows[n]["sql_per_flow"][service] for n in levels},
            }
        )
    for row in rows:
        row.setdefault("target", {})
        row["met"] = {n: _met(row["values"][n], t) for n, t in row["target"].items()}
    return rows


def _met(value, target: str) -> bool:
    number = float(target.split()[-1])
    if isinstance(value, dict):
        return value["p99"] < number
    return value >= number


def _num(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _cell(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, dict):
        return f"{_num(value['p50'])} / {_num(value['p99'])}"
    return _num(value)


def _mark(met: bool | None) -> str:
    return "" if met is None else (" [green]✓[/]" if met else " [red]✗[/]")


def render(console: Console, result: dict, rows: dict) -> None:
    f, settings, machine = result["figures"], result["settings"], result["machine"]
    clients = settings["clients"]
    console.print(
        f"[bold]portal bench[/]: {machine['cpus']} CPUs, load average {machine['load_average_before']:.2f} before and"
        f" {machine['load_average_after']:.2f} after; medians of {settings['repetitions']} repetition(s);"
        f" {machine['seconds']:.0f} s in all"
    )

    table = Table(title="Seller flows, closed loop (latencies p50 / p99)")
    table.add_column("what")
    for n in clients:
        table.add_column(f"{n} client{'s' if n > 1 else ''}", justify="right")
    table.add_column("target")
    for row in rows["flows"]:
        targets = ", ".join(f"{row['target'][n]} at {n}{_mark(row['met'][n])}" for n in row["target"])
        table.add_row(row["what"], *(_cell(row["values"][str(n)]) for n in clients), targets)
    console.print(table)

    table = Table(
        title="Against the framework-free baselines (same servers, same run)",
        caption="ratio: 1 = as good as the baseline (rates: this ÷ baseline; times, statements: baseline ÷ this)",
    )
    table.add_column("what")
    table.add_column("unit")
    for name in ("this project", "baseline", "ratio"):
        table.add_column(name, justify="right")
    table.add_column("target")
    table.add_column("the baseline")
    for row in rows["comparisons"]:
        table.add_row(
            row["what"],
            row["unit"],
            _num(row["project"]),
            _num(row["baseline"]),
            f"{row['ratio']:.2f}",
            "" if row["target"] is None else f"≥ {row['target']}{_mark(row['met'])}",
            row["baseline_what"],
        )
    console.print(table)

    table = Table(title="SQL statements by kind (per request, event, message or flow)")
    table.add_column("what")
    for name in (*KINDS, "total"):
        table.add_column(name, justify="right")
    for what, counts in _statement_rows(f):
        table.add_row(what, *(_num(counts[k]) if counts.get(k) else "" for k in (*KINDS, "total")))
    console.print(table)

    table = Table(title="Processes: RSS (MB) and CPU (% of one core)")
    columns = _cpu_columns(f, clients)
    table.add_column("process")
    table.add_column("RSS idle", justify="right")
    table.add_column("RSS peak", justify="right")
    for name in columns:
        table.add_column(name, justify="right")
    for name, rss in f["rss_mb"].items():
        table.add_row(name, _num(rss["idle"]), _num(rss["peak"]), *(_num(c.get(name, 0.0)) for c in columns.values()))
    services = {name: sum(c.get(s, 0.0) for s in SERVICES) for name, c in columns.items()}
    table.add_row(
        "[bold]five services[/]",
        _num(sum(f["rss_mb"][s]["idle"] for s in SERVICES)),
        _num(sum(f["rss_mb"][s]["peak"] for s in SERVICES)),
        *(_num(v) for v in services.values()),
    )
    console.print(table)
    idle = services["idle"]
    target = f"target ≤ {IDLE_CPU_TARGET}%{_mark(idle <= IDLE_CPU_TARGET)}"
    console.print(f"idle CPU of the five services: {idle:.1f}% of a core ({target})")


def _statement_rows(f: dict) -> list[tuple[str, dict]]:
    c, r, h = f["consumer"]["sql_per_event"], f["relay"]["sql_per_message"], f["http"]
    return [
        ("orders GET, per request", h["get"]["project"]["sql"]),
        ("  baseline GET", h["get"]["baseline"]["sql"]),
        ("orders POST, per request", h["post"]["project"]["sql"]),
        ("  baseline POST", h["post"]["baseline"]["sql"]),
        ("notify consumer, per event (languages changed)", f["consumer_changes"]["sql_per_event"]["project"]),
        ("  raw, a transaction per event", f["consumer_changes"]["sql_per_event"]["raw_per_event"]),
        ("  raw, a transaction per 500", f["consumer_changes"]["sql_per_event"]["raw_batch"]),
        ("notify consumer, per event (new addresses, with emails)", c["project"]),
        ("  raw, a transaction per event", c["raw_per_event"]),
        ("orders relay, per message", r["project"]),
        ("  raw relay, sends pipelined", r["raw_pipelined"]),
        ("  raw relay, sends awaited", r["raw_awaited"]),
    ]


def _cpu_columns(f: dict, clients: list[int]) -> dict[str, dict[str, float]]:
    columns = {"idle": f["idle"]["cpu_percent"]}
    for n in clients:
        columns[f"flows@{n}"] = f["flows"][str(n)]["cpu_percent"]
    columns["relay"] = f["relay"]["cpu_percent"]["project"]
    columns["consumer"] = f["consumer_changes"]["cpu_percent"]["project"]
    columns["consumer+mail"] = f["consumer"]["cpu_percent"]["project"]
    for column, window in (("POST", "POST project"), ("POST base", "POST baseline")) + (
        ("GET", "GET project"),
        ("GET base", "GET baseline"),
    ):
        columns[column] = f["http"]["cpu_percent"][window]
    return columns


def build(result: dict) -> dict:
    f, settings = result["figures"], result["settings"]
    return {"comparisons": comparisons(f, settings), "flows": flow_rows(f, settings["clients"])}
