"""The command line of every service: `python -m <service> api | worker | relay | migrate | run`."""

from __future__ import annotations

import logging
from collections.abc import Callable

import typer
import uvicorn

from portal_runtime.migrations import upgrade
from portal_runtime.service import ServiceDefinition, ServiceRuntime
from portal_runtime.settings import DatabaseSettings, ServiceSettings
from portal_runtime.telemetry import install_global, make_tracer_provider


def make_cli(definition: Callable[[], ServiceDefinition]) -> typer.Typer:
    cli = typer.Typer(add_completion=False, no_args_is_help=True)

    def runtime() -> ServiceRuntime:
        d = definition()
        settings = ServiceSettings(service_name=d.name)
        logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
        provider = make_tracer_provider(d.name)
        install_global(provider)
        return ServiceRuntime(d, settings, tracer_provider=provider)

    def serve(http: bool, consume: bool, relay: bool) -> None:
        rt = runtime()
        uvicorn.run(rt.app(http=http, consume=consume, relay=relay), host=rt.settings.http_host,
                    port=rt.settings.http_port, log_level=rt.settings.log_level.lower())

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
        """Apply this service's Alembic migrations to DATABASE_URL."""
        d = definition()
        upgrade(d.migrations, DatabaseSettings().database_url, revision)
        typer.echo(f"{d.name}: database at {revision}")

    return cli
