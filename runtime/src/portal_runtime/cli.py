"""The command line of every service: `python -m <service> api | worker | relay | migrate | run`,
and `dlq list | replay` for its dead letters."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import typer
import uvicorn
from pydantic import ValidationError

from portal_runtime.service import ServiceDefinition, ServiceRuntime
from portal_runtime.settings import DatabaseSettings, KafkaSettings, ServiceSettings
from portal_runtime.telemetry import configure_logging, install_global, make_tracer_provider


def make_cli(definition: Callable[[], ServiceDefinition]) -> typer.Typer:
    cli = typer.Typer(add_completion=False, no_args_is_help=True)

    def runtime() -> ServiceRuntime:
        d = definition()
        try:
            settings = ServiceSettings(service_name=d.name)
        except ValidationError as exc:  # a wrong setting stops the process, saying which and why
            for error in exc.errors():
                where = ".".join(str(part) for part in error["loc"]).upper() or "settings"
                typer.echo(f"{d.name} cannot run: {where}: {error['msg'].removeprefix('Value error, ')}", err=True)
            raise typer.Exit(2) from None
        provider = make_tracer_provider(d.name)
        install_global(provider)
        return ServiceRuntime(d, settings, tracer_provider=provider)

    def serve(http: bool, consume: bool, relay: bool) -> None:
        """Serve until stopped. A dependency that is away never ends this; a wrong configuration
        does, with exit code 2 and the reason on stderr."""
        rt = runtime()
        app = rt.app(http=http, consume=consume, relay=relay)
        role = "run" if http and consume and relay else "api" if http else "worker" if consume else "relay"
        configure_logging(rt.definition.name, role, level=rt.settings.log_level, fmt=rt.settings.log_format)
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                host=rt.settings.http_host,
                port=rt.settings.http_port,
                log_level=rt.settings.log_level.lower(),
                log_config=None,  # uvicorn's records go to the root logger, rendered as the rest
            )
        )

        def stop(_: str) -> None:
            server.should_exit = True

        rt.on_fatal = stop
        server.run()
        if rt.fatal:
            typer.echo(f"{rt.definition.name}: {rt.fatal}", err=True)
            raise typer.Exit(2)
        if not server.started:
            raise typer.Exit(3)

    @cli.command()
    def run() -> None:
        """HTTP API, event consumers and outbox relay in one process (local use)."""
        serve(True, True, True)

    @cli.command()
    def api() -> None:
        """HTTP API only (scale out behind a load balancer)."""
        serve(True, False, False)

    @cli.command()
    def worker() -> None:
        """Event consumers only; health on HTTP_PORT (scale up to the partition count)."""
        serve(False, True, False)

    @cli.command(name="relay")
    def relay_cmd() -> None:
        """Outbox relay only; one replica publishes at a time (advisory lock)."""
        serve(False, False, True)

    @cli.command()
    def migrate(revision: str = "head") -> None:
        """Apply this service's Alembic migrations to DATABASE_URL, waiting up to
        DATABASE_WAIT_SECONDS (120) for a database that is away."""
        d = definition()
        settings = DatabaseSettings()
        configure_logging(d.name, "migrate", level=settings.log_level, fmt=settings.log_format)
        from portal_runtime.migrations import upgrade_waiting  # Alembic only here: 0.4 s of every other role's start

        upgrade_waiting(d.migrations, settings.database_url, revision, wait=settings.database_wait_seconds)
        typer.echo(f"{d.name}: database at {revision}")

    dlq = typer.Typer(no_args_is_help=True, help="This service's dead letters (<service>.dlq).")
    cli.add_typer(dlq, name="dlq")

    @dlq.command(name="list")
    def dlq_list() -> None:
        """Every dead letter: where it was, what it was, why it failed."""
        from portal_runtime import dlq as dead

        name = definition().name
        letters = asyncio.run(dead.read_dead_letters(KafkaSettings().kafka_bootstrap_servers, name))
        if not letters:
            typer.echo(f"{name}.dlq is empty")
        for d in letters:
            event_type, event_id = d.event
            error = d.headers.get("x-error", "").splitlines()[0] if d.headers.get("x-error") else ""
            typer.echo(
                f"{d.position}  {d.original_topic}/{d.headers.get('x-original-partition', '?')}"
                f"@{d.headers.get('x-original-offset', '?')}  {event_type} {event_id}  "
                f"attempts={d.headers.get('x-attempts', '?')}  at={d.headers.get('x-failed-at', '?')}  {error}"
            )

    @dlq.command(name="replay")
    def dlq_replay(
        at: list[str] = typer.Option([], "--at", help="partition:offset on the DLQ (repeatable), as `dlq list` shows"),
        all_: bool = typer.Option(False, "--all", help="every dead letter that is an event (not the unparseable)"),
    ) -> None:
        """Put dead letters back on their original topics, after the cause is fixed. Safe to repeat:
        consumers that applied an event before recognise it."""
        from portal_runtime import dlq as dead

        if bool(at) == all_:
            raise typer.BadParameter("give --at partition:offset (one or more) or --all", param_hint="--at/--all")
        kafka = KafkaSettings().kafka_bootstrap_servers
        letters = asyncio.run(dead.read_dead_letters(kafka, definition().name))
        if all_:
            chosen = [d for d in letters if d.parseable]
        else:
            by_position = {d.position: d for d in letters}
            unknown = [p for p in at if p not in by_position]
            if unknown:
                raise typer.BadParameter(f"no dead letter at {', '.join(unknown)}", param_hint="--at")
            chosen = [by_position[p] for p in at]
        for d in asyncio.run(dead.replay(kafka, chosen)):
            typer.echo(f"replayed {d.position} to {d.original_topic}: {' '.join(d.event)}")
        typer.echo(f"{len(chosen)} replayed")

    return cli
