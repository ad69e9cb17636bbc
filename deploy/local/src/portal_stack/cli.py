"""`portal` command line: `portal up` (everything), `portal infra` (servers only), `portal logs`
(follow their logs), `portal clock set | show | reset` (the test clocks of the running services)
and `portal bench` (a benchmark on servers of its own)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from portal_stack import HTTP_PORTS, SERVICES
from portal_stack._proc import tail
from portal_stack.config import DEV_PORTS, StackConfig, Timeouts, flag
from portal_stack.errors import InfraError
from portal_stack.logs import NAMES, log_files
from portal_stack.logs import follow as follow_logs
from portal_stack.progress import Progress
from portal_stack.services import default_specs
from portal_stack.stack import Exited, Stack

app = typer.Typer(help="Run the portal locally with real Kafka, PostgreSQL and a mail sink.", no_args_is_help=True)
console = Console()

DataDir = Annotated[Path | None, typer.Option(help="Data directory (default: $PORTAL_DATA_DIR or <repo>/.portal).")]


def _print_summary(stack: Stack) -> None:
    services, infra = stack.summary()
    if services:
        # The API address in full (never cut off in a narrow terminal); the pages as paths on it.
        table = Table(title="Portal services", caption="OpenAPI and AsyncAPI pages are on each API's address")
        table.add_column("Service", no_wrap=True)
        table.add_column("API", no_wrap=True, min_width=21)
        table.add_column("OpenAPI")
        table.add_column("AsyncAPI")
        for name, api, *pages in services:
            table.add_row(name, api, *(page.removeprefix(api) or page for page in pages))
        console.print(table)
    table = Table(title="Infrastructure")
    table.add_column("What")
    table.add_column("Where")
    for row in infra:
        table.add_row(*row)
    console.print(table)
    console.print("[bold]Ready.[/] Press Ctrl-C to stop; `./portal logs` follows the logs.")


async def show_waiting(progress: Progress, show: Callable[[str], None], every: float) -> None:
    """Every `every` seconds, `show` what the start is waiting for and for how long."""
    while True:
        await asyncio.sleep(every)
        if waiting := progress.waiting():
            show(f"waiting for {waiting}")


def _report_exit(exited: Exited, stack: Stack) -> int | None:
    """Say which process ended, with its logs' last lines, and what happens now: the exit code
    `portal up` stops with, or None when the rest runs on."""
    console.print(
        f"[bold red]{escape(exited.describe())}[/] while the stack was running.", highlight=False, soft_wrap=True
    )
    for log in exited.logs:
        if lines := tail(log, 15):
            _say(f"Last lines of {log}:\n{lines}")
    if exited.infrastructure:
        _say(f"Stopping everything: the services cannot work without {exited.name}.")
        return 1
    running = list(stack.runner.procs)
    if not running:
        _say("Stopping: no service is left running.")
        return 1
    _say(
        f"The other services keep running ({', '.join(running)}): they answer as before, and the events "
        f"for {exited.name} wait in Kafka until it runs again. Ctrl-C stops everything; `./portal up` "
        f"starts {exited.name} again; `./portal logs {exited.name}` shows its log."
    )
    return None


async def _run(stack: Stack) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    starting = asyncio.create_task(stack.start())
    stopping = asyncio.create_task(stop.wait())
    status = console.status("starting") if console.is_terminal else None
    if status is not None:
        status.start()
        waiting = asyncio.create_task(show_waiting(stack.progress, status.update, every=1))
    else:
        waiting = asyncio.create_task(show_waiting(stack.progress, _say, every=10))
    code = 0
    try:
        done, _ = await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        if status is not None:
            status.stop()
        if starting not in done:
            console.print("Interrupted during start-up.")
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await starting
            return 0
        starting.result()
        _print_summary(stack)
        while code == 0:
            exiting = asyncio.create_task(stack.wait_for_exit())
            done, _ = await asyncio.wait({exiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if exiting not in done:
                exiting.cancel()
                break
            code = _report_exit(exiting.result(), stack) or 0
        return code
    finally:
        waiting.cancel()
        if status is not None:
            status.stop()
        stopping.cancel()
        console.print("Stopping ...")
        await stack.stop()
        console.print("Stopped.")


def _main(stack: Stack) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        code = asyncio.run(_run(stack))
    except InfraError as exc:
        raise _error(str(exc), code=1) from None
    raise typer.Exit(code)


def _error(message: str, code: int = 2) -> typer.Exit:
    console.print("[bold red]error:[/]", escape(message), highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _say(line: str) -> None:
    """A line of what `portal up` does, never wrapped (it may go to a file)."""
    console.print(line, highlight=False, markup=False, soft_wrap=True)


def _environment(settings: dict[str, object]) -> dict[str, str]:
    """The environment with the flags given put in as the PORTAL_* variables they stand for
    (`kafka_port` -> PORTAL_KAFKA_PORT): one reading of flags and variables alike."""
    given = {f"PORTAL_{name.upper()}": str(value) for name, value in settings.items() if value is not None}
    return {**os.environ, **given}


def _config(data_dir: Path | None, env: dict[str, str] | None = None) -> StackConfig:
    try:
        return StackConfig.from_env(env, data_dir=data_dir.resolve() if data_dir else None)
    except InfraError as exc:
        raise _error(str(exc)) from None


def _option(variable: str, help: str, kind: type = int):
    return Annotated[kind | None, typer.Option(flag(variable), help=f"{help} [{variable}]", show_default=False)]


PortOffset = _option("PORTAL_PORT_OFFSET", "Added to every default port, for a second stack (e.g. 100).")
KafkaPort = _option("PORTAL_KAFKA_PORT", f"Kafka's port (default {DEV_PORTS.kafka}).")
ControllerPort = _option("PORTAL_KAFKA_CONTROLLER_PORT", f"Kafka's controller (default {DEV_PORTS.kafka_controller}).")
PostgresPort = _option("PORTAL_POSTGRES_PORT", f"PostgreSQL's port (default {DEV_PORTS.postgres}).")
SmtpPort = _option("PORTAL_MAIL_SMTP_PORT", f"The mail sink's SMTP port (default {DEV_PORTS.smtp}).")
MailPort = _option("PORTAL_MAIL_HTTP_PORT", f"The mail viewer's port (default {DEV_PORTS.mail_http}).")
KafkaTimeout = _option(
    "PORTAL_KAFKA_START_TIMEOUT", f"Seconds Kafka may take to start (default {Timeouts.kafka:.0f}).", float
)
PostgresTimeout = _option(
    "PORTAL_POSTGRES_START_TIMEOUT", f"Seconds PostgreSQL may take to start (default {Timeouts.postgres:.0f}).", float
)
ServiceTimeout = _option(
    "PORTAL_SERVICE_START_TIMEOUT",
    f"Seconds a service's migrations, and then its start, may take (default {Timeouts.services:.0f}).",
    float,
)
CatalogPort, OrdersPort, ReturnsPort, BillingPort, NotifyPort = (
    _option(f"PORTAL_{name.upper()}_HTTP_PORT", f"The HTTP port of {name} (default {HTTP_PORTS[name]}).")
    for name in SERVICES
)


@app.command()
def up(
    data_dir: DataDir = None,
    service: Annotated[
        list[str] | None,
        typer.Option("--service", "-s", help=f"Only these services (default all: {', '.join(SERVICES)})."),
    ] = None,
    port_offset: PortOffset = None,
    kafka_port: KafkaPort = None,
    kafka_controller_port: ControllerPort = None,
    postgres_port: PostgresPort = None,
    mail_smtp_port: SmtpPort = None,
    mail_http_port: MailPort = None,
    catalog_http_port: CatalogPort = None,
    orders_http_port: OrdersPort = None,
    returns_http_port: ReturnsPort = None,
    billing_http_port: BillingPort = None,
    notify_http_port: NotifyPort = None,
    kafka_start_timeout: KafkaTimeout = None,
    postgres_start_timeout: PostgresTimeout = None,
    service_start_timeout: ServiceTimeout = None,
) -> None:
    """Start Kafka, PostgreSQL, the mail sink and all services; Ctrl-C stops everything. Every
    port and start-up time limit is a flag here and a PORTAL_* variable (the flag's name)."""
    unknown = sorted(set(service or []) - set(SERVICES))
    if unknown:
        raise _error(f"unknown service(s) {', '.join(unknown)}")
    settings = dict(locals())
    del settings["data_dir"], settings["service"], settings["unknown"]
    env = _environment(settings)
    config = _config(data_dir, env)
    try:
        specs = default_specs(service or SERVICES, env)
    except InfraError as exc:
        raise _error(str(exc)) from None
    _say(f"Data in {config.data_dir}; service logs in {config.data_dir / 'logs'}")
    _main(Stack(config, specs=specs, progress=Progress(_say)))


@app.command()
def infra(
    data_dir: DataDir = None,
    port_offset: PortOffset = None,
    kafka_port: KafkaPort = None,
    kafka_controller_port: ControllerPort = None,
    postgres_port: PostgresPort = None,
    mail_smtp_port: SmtpPort = None,
    mail_http_port: MailPort = None,
    kafka_start_timeout: KafkaTimeout = None,
    postgres_start_timeout: PostgresTimeout = None,
) -> None:
    """Start only Kafka, PostgreSQL and the mail sink (+ topics and databases) and wait."""
    settings = dict(locals())
    del settings["data_dir"]
    config = _config(data_dir, _environment(settings))
    _say(f"Data in {config.data_dir}")
    _main(Stack(config, run_services=False, progress=Progress(_say)))


@app.command()
def logs(
    name: Annotated[
        str | None, typer.Argument(help=f"Only this one's log: {', '.join(NAMES)} (default all of them).")
    ] = None,
    data_dir: DataDir = None,
    lines: Annotated[int, typer.Option("--lines", "-n", min=0, help="Lines of each log to show first.")] = 10,
    follow: Annotated[bool, typer.Option(help="Go on showing lines as they are written (Ctrl-C ends).")] = True,
) -> None:
    """Follow the logs of a stack (of every service, Kafka and PostgreSQL, or of one of them)."""
    if name is not None and name not in NAMES:
        raise _error(f"no log named {name}; one of {', '.join(NAMES)}")
    config = _config(data_dir)
    files = log_files(config.data_dir)
    if name is not None:
        files = {name: files[name]}
    if not any(path.exists() for paths in files.values() for path in paths):
        where = f"{config.data_dir}" + ("" if follow else ": has `./portal up` run with this data directory?")
        if not follow:
            raise _error(f"no logs yet in {where}", code=1)
        typer.echo(f"no logs yet in {where}; waiting for them (start `./portal up`)", err=True)
    with contextlib.suppress(KeyboardInterrupt):
        follow_logs(files, lines=lines, forever=follow, echo=typer.echo)


@app.command()
def openapi(
    service: Annotated[
        str | None, typer.Argument(help=f"One service's own document instead ({', '.join(SERVICES)}).")
    ] = None,
    server: Annotated[str, typer.Option(help="The gateway's address, as the document's one `servers` entry.")] = "/",
) -> None:
    """Print the OpenAPI document for an API gateway, combined from the five services (or one
    service's own). Built from the services' code: no server needs to run."""
    import importlib
    import json

    from portal_runtime.openapi import document, gateway_document, offline_app

    if service is not None and service not in SERVICES:
        console.print(f"[bold red]error:[/] unknown service {escape(service)}; one of {', '.join(SERVICES)}")
        raise typer.Exit(2)
    logging.basicConfig(level=logging.WARNING)
    documents = {
        name: document(offline_app(importlib.import_module(f"{name}.bootstrap").definition()))
        for name in ([service] if service else SERVICES)
    }
    combined = documents[service] if service else gateway_document(documents, server=server)
    typer.echo(json.dumps(combined, indent=2, ensure_ascii=False))


@app.command()
def bench(
    quick: Annotated[bool, typer.Option(help="A short run: few messages, 1 client, one repetition.")] = False,
    clients: Annotated[str | None, typer.Option(help="Client counts of the seller flows [1,8,32].")] = None,
    flows_per_client: Annotated[int | None, typer.Option(help="Flows per client, at least 10 per count [3].")] = None,
    relay_rows: Annotated[int | None, typer.Option(help="Outbox rows the relays publish [10000].")] = None,
    consumer_events: Annotated[int | None, typer.Option(help="Events the consumers apply [5000].")] = None,
    http_seconds: Annotated[float | None, typer.Option(help="Seconds of each GET and POST load [5].")] = None,
    http_connections: Annotated[int | None, typer.Option(help="Connections of the GET and POST load [16].")] = None,
    repetitions: Annotated[int | None, typer.Option(help="Repetitions; the figures are medians [2].")] = None,
    json_file: Annotated[Path | None, typer.Option("--json", help="Write every figure to this JSON file.")] = None,
    keep: Annotated[bool, typer.Option(help="Keep the servers' data and logs directory.")] = False,
) -> None:
    """Benchmark the system on servers of its own: seller flows, relay, consumer, orders GET and POST,
    each beside a framework-free baseline in the same run, with SQL statements, CPU and memory."""
    from portal_stack.bench import Options, main

    if clients and not all(c.strip().isdigit() and int(c) > 0 for c in clients.split(",")):
        raise typer.BadParameter("client counts, comma-separated, e.g. 1,8,32", param_hint="--clients")
    options = (Options.quick() if quick else Options()).override(
        clients=[int(c) for c in clients.split(",")] if clients else None,
        flows_per_client=flows_per_client,
        relay_rows=relay_rows,
        consumer_events=consumer_events,
        http_seconds=http_seconds,
        http_connections=http_connections,
        repetitions=repetitions,
        keep=keep,
    )
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        main(options, Console(width=max(console.width, 160)), json_file)
    except InfraError as exc:
        console.print("[bold red]error:[/]", escape(str(exc)), highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


clock_app = typer.Typer(
    help="The test clock of every service (services started with PORTAL_TEST_CLOCK=1).", no_args_is_help=True
)
app.add_typer(clock_app, name="clock")


def _admin_token(data_dir: Path | None) -> str:
    """An admin bearer token signed with the services' JWT secret (PORTAL_JWT_SECRET or the one
    `portal up` keeps in <data_dir>/jwt_secret)."""
    from datetime import UTC, datetime, timedelta

    import jwt

    config = _config(data_dir)
    secret = config.jwt_secret
    if not secret:
        path = config.data_dir / "jwt_secret"
        secret = path.read_text().strip() if path.is_file() else None
    if not secret:
        console.print("[bold red]error:[/] no PORTAL_JWT_SECRET and no jwt_secret in", escape(str(config.data_dir)))
        console.print("start the services with `./portal up` first")
        raise typer.Exit(2)
    now = datetime.now(UTC)
    # user `portal-cli` of the `ops` account (portal_runtime.auth: `sub`, `account`, `role`)
    claims = {"sub": "portal-cli", "account": "ops", "role": "admin", "iat": now, "exp": now + timedelta(minutes=5)}
    return jwt.encode(claims, secret, "HS256")


def _call_clocks(method: str, body: dict | None, data_dir: Path | None) -> None:
    """`method /v1/admin/clock` on all five services; one line of what each answered."""
    import json
    import urllib.error
    import urllib.request

    token = _admin_token(data_dir)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no proxies
    failed = 0
    for spec in default_specs(SERVICES):
        request = urllib.request.Request(
            f"{spec.base_url}/v1/admin/clock",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            with opener.open(request, timeout=10) as resp:
                answer = json.loads(resp.read())
            line = f"{answer['now']}  (today {answer['today']}, {answer['offset_seconds']:+.0f} s from the real time)"
        except urllib.error.HTTPError as exc:
            failed += 1
            try:
                detail = json.loads(exc.read()).get("detail", "")
            except ValueError:
                detail = ""
            line = f"failed: {exc.code} {detail}"
        except OSError as exc:
            failed += 1
            line = f"failed: not reachable at {spec.base_url} ({exc})"
        typer.echo(f"{spec.name:<8} {line}")
    if failed:
        raise typer.Exit(1)


@clock_app.command(name="set")
def clock_set(
    now: Annotated[str, typer.Argument(help="The time to move to, with its offset, e.g. 2027-01-31T09:00:00Z.")],
    data_dir: DataDir = None,
) -> None:
    """Move the time of all five services there (it runs on from there)."""
    _call_clocks("PUT", {"now": now}, data_dir)


@clock_app.command(name="show")
def clock_show(data_dir: DataDir = None) -> None:
    """The time each service reads."""
    _call_clocks("GET", None, data_dir)


@clock_app.command(name="reset")
def clock_reset(data_dir: DataDir = None) -> None:
    """All five services back to the real time."""
    _call_clocks("DELETE", None, data_dir)


if __name__ == "__main__":
    app()
