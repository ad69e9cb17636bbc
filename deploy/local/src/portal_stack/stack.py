"""The whole local system: infrastructure (Infra) plus the five service processes."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from portal_stack import SERVICES
from portal_stack.config import StackConfig
from portal_stack.errors import InfraError
from portal_stack.infra import Infra
from portal_stack.postgres import redact
from portal_stack.services import ServiceRunner, ServiceSpec, default_specs, service_env

log = logging.getLogger(__name__)


def contract_topics(required: bool = True) -> dict[str, int]:
    """Topics declared by portal_contracts ({} when not installed and not `required`)."""
    from portal_stack import topics

    try:
        return topics()
    except InfraError:
        if required:
            raise
        log.warning("portal_contracts is not importable: no topics created")
        return {}


class Stack:
    """`await start()` brings up infra, topics, databases, migrations and services; `stop()`
    stops services first, then the mail sink, Kafka and PostgreSQL."""

    def __init__(
        self,
        config: StackConfig,
        *,
        specs: list[ServiceSpec] | None = None,
        topics: dict[str, int] | None = None,
        run_services: bool = True,
        base_env: Mapping[str, str] | None = None,
    ) -> None:
        self.config = config
        self.specs = specs if specs is not None else default_specs()
        self.topics = topics
        self.run_services = run_services
        self.base_env = base_env
        self.infra = Infra(config)
        self.runner = ServiceRunner(self.specs, config.data_dir / "logs")

    async def start(self) -> None:
        topics = self.topics if self.topics is not None else contract_topics()
        names = [s.name for s in self.specs] if self.run_services else list(SERVICES)
        try:
            await self.infra.start(topics=topics, services=names)
            if self.run_services:
                envs = await self.service_envs()
                await self.runner.migrate_all(envs)
                await self.runner.start_all(envs)
        except BaseException:
            await self.stop()
            raise

    async def service_envs(self) -> dict[str, dict[str, str]]:
        secret = self.config.ensure_jwt_secret()
        return {
            spec.name: service_env(
                spec,
                database_url=await self.infra.database_url(spec.name),
                kafka_bootstrap=self.infra.kafka_bootstrap,
                smtp_host=self.infra.smtp_host,
                smtp_port=self.infra.smtp_port,
                jwt_secret=secret,
                base=self.base_env,
            )
            for spec in self.specs
        }

    async def stop(self) -> None:
        try:
            await self.runner.stop_all()
        finally:
            await self.infra.stop()

    def summary(self) -> tuple[list[tuple[str, str, str, str]], list[tuple[str, str]]]:
        """(service rows: name, API, OpenAPI, AsyncAPI) and (infrastructure rows: what, where)."""
        services = (
            [(s.name, s.base_url, f"{s.base_url}/schema/swagger", f"{s.base_url}/asyncapi") for s in self.specs]
            if self.run_services
            else []
        )
        infra = self.infra
        mail = infra.mailsink_url or "(external SMTP, no viewer configured)"
        rows = [
            ("Mail viewer", mail),
            ("SMTP", f"{infra.smtp_host}:{infra.smtp_port}"),
            ("Kafka bootstrap", infra.kafka_bootstrap),
            ("PostgreSQL", redact(infra.postgres_admin_url or "(per-service URLs)")),
            ("Data dir", str(self.config.data_dir)),
        ]
        if self.run_services:
            rows.append(("Service logs", str(self.runner.log_dir / "<service>.log")))
        return services, rows
