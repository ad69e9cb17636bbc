"""Kafka + PostgreSQL + mail sink: started locally, or taken from the environment."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from portal_stack import SERVICES
from portal_stack._proc import free_port, port_open
from portal_stack.config import StackConfig
from portal_stack.errors import InfraError
from portal_stack.kafka import LIGHT_JVM
from portal_stack.progress import Progress

log = logging.getLogger(__name__)


class Infra:
    """Async start()/stop() of the infrastructure described by a StackConfig.

    `database_prefix` names the per-service databases (`test_` gives test_catalog, ...);
    `recreate_databases` drops them first; `pick_free_ports` replaces busy default ports;
    `progress` hears of each server's start.
    """

    def __init__(
        self,
        config: StackConfig,
        *,
        database_prefix: str = "",
        recreate_databases: bool = False,
        pick_free_ports: bool = False,
        progress: Progress | None = None,
        kafka_jvm_options: tuple[str, ...] = LIGHT_JVM,
    ) -> None:
        """`kafka_jvm_options`: the JVM options of the broker started here."""
        self.config = config
        self.kafka_jvm_options = kafka_jvm_options
        self.progress = progress or Progress()
        self.database_prefix = database_prefix
        self.recreate_databases = recreate_databases
        self.pick_free_ports = pick_free_ports
        self.kafka = None  # KafkaServer when started here
        self.postgres = None  # PostgresServer when started here
        self.mailsink = None  # MailSink when started here
        self._databases: dict[str, str] = {}

    # -- what services connect to -------------------------------------------------------
    @property
    def kafka_bootstrap(self) -> str:
        return self.config.kafka_bootstrap or self.kafka.bootstrap

    @property
    def postgres_admin_url(self) -> str | None:
        if self.config.postgres_url:
            return self.config.postgres_url
        return self.postgres.admin_url if self.postgres else None

    @property
    def smtp_host(self) -> str:
        return self.config.smtp_host or self.mailsink.smtp_host

    @property
    def smtp_port(self) -> int:
        return self.config.smtp_port or self.mailsink.smtp_port

    @property
    def mailsink_url(self) -> str | None:
        if self.mailsink is not None:
            return self.mailsink.url
        return self.config.mailsink_url

    @property
    def started(self) -> list[str]:
        """Names of the servers this object started (and will stop)."""
        pairs = (("kafka", self.kafka), ("postgres", self.postgres), ("mailsink", self.mailsink))
        return [name for name, server in pairs if server is not None]

    def _ports(self):
        ports = self.config.ports
        if not self.pick_free_ports:
            return ports
        taken: set[int] = set()

        def pick(port: int) -> int:
            chosen = free_port(port, avoid=taken)
            taken.add(chosen)
            return chosen

        return replace(
            ports,
            kafka=pick(ports.kafka),
            kafka_controller=pick(ports.kafka_controller),
            postgres=pick(ports.postgres),
            smtp=pick(ports.smtp),
            mail_http=pick(ports.mail_http),
        )

    # -- lifecycle ----------------------------------------------------------------------
    async def start(
        self, topics: dict[str, int] | None = None, services: tuple[str, ...] | list[str] = SERVICES
    ) -> None:
        """Start (or check) the servers, create `topics` and each service's database."""
        ports = self._ports()
        data = self.config.data_dir
        data.mkdir(parents=True, exist_ok=True)
        try:
            jobs = [self._start_kafka(ports), self._start_mailsink(ports)]
            if self.config.needs_postgres:
                jobs.append(self._start_postgres(ports))
            results = await asyncio.gather(*jobs, return_exceptions=True)
            errors = [r for r in results if isinstance(r, BaseException)]
            if errors:
                raise errors[0]
            if topics:
                from portal_stack.kafka import create_topics

                with self.progress.step(f"{len(topics)} Kafka topics"):
                    await create_topics(self.kafka_bootstrap, topics)
            if services:
                with self.progress.step(f"the databases of {', '.join(services)}"):
                    for service in services:
                        await self.database_url(service)
        except BaseException:
            await self.stop()
            raise

    async def _start_kafka(self, ports) -> None:
        from portal_stack.kafka import KafkaServer, fetch_metadata

        if self.config.kafka_bootstrap:
            with self.progress.step(f"Kafka at {self.config.kafka_bootstrap}", timeout=10):
                reachable = await fetch_metadata(self.config.kafka_bootstrap, timeout=10)
            if not reachable:
                raise InfraError(
                    f"Kafka at {self.config.kafka_bootstrap} (PORTAL_KAFKA_BOOTSTRAP_SERVERS) is "
                    "unreachable; start it or unset the variable to start a local broker"
                )
            return
        timeout = self.config.timeouts.kafka
        self.kafka = KafkaServer(
            self.config.data_dir / "kafka",
            ports.kafka,
            ports.kafka_controller,
            cache_dir=self.config.cache_dir,
            start_timeout=timeout,
            hint=self.config.timeouts.hint("kafka"),
            jvm_options=self.kafka_jvm_options,
        )
        with self.progress.step(f"Kafka on {self.kafka.bootstrap}", timeout=timeout):
            await self.kafka.start()

    async def _start_postgres(self, ports) -> None:
        from portal_stack.postgres import PostgresServer

        timeout = self.config.timeouts.postgres
        self.postgres = PostgresServer(
            self.config.data_dir / "postgres",
            ports.postgres,
            start_timeout=timeout,
            hint=self.config.timeouts.hint("postgres"),
        )
        with self.progress.step(f"PostgreSQL on 127.0.0.1:{ports.postgres}", timeout=timeout):
            await self.postgres.start()

    async def _start_mailsink(self, ports) -> None:
        if self.config.smtp_host:
            host, port = self.config.smtp_host, self.config.smtp_port or 25
            if not await asyncio.to_thread(port_open, host, port, 5.0):
                raise InfraError(
                    f"SMTP server {host}:{port} (PORTAL_SMTP_HOST/PORTAL_SMTP_PORT) is "
                    "unreachable; start it or unset both variables to use the sink"
                )
            return
        from portal_stack.mailsink import MailSink

        self.mailsink = MailSink(self.config.data_dir / "mail", smtp_port=ports.smtp, http_port=ports.mail_http)
        with self.progress.step(f"the mail sink (SMTP 127.0.0.1:{ports.smtp}, viewer {self.mailsink.url})"):
            await self.mailsink.start()

    async def database_url(self, service: str) -> str:
        """URL of `service`'s database, created (or recreated) once per Infra."""
        if service in self.config.database_urls:
            return self.config.database_urls[service]
        if service in self._databases:
            return self._databases[service]
        admin = self.postgres_admin_url
        if admin is None:
            raise InfraError(
                f"no PostgreSQL for {service}: set PORTAL_POSTGRES_URL or PORTAL_{service.upper()}_DATABASE_URL"
            )
        from portal_stack.postgres import ensure_database, with_database

        name = f"{self.database_prefix}{service}"
        await ensure_database(admin, name, recreate=self.recreate_databases)
        url = with_database(admin, name)
        if url.startswith("postgresql://"):
            url = "postgresql+asyncpg://" + url[len("postgresql://") :]
        self._databases[service] = url
        return url

    async def stop(self, *, grace: float = 30.0) -> None:
        """Stop what was started here: mail sink, then Kafka, then PostgreSQL, each killed when it
        has not stopped after `grace` seconds (0 for data that is thrown away next: a test session's)."""
        for attr in ("mailsink", "kafka", "postgres"):
            server = getattr(self, attr)
            if server is None:
                continue
            try:
                await (server.stop() if attr == "mailsink" else server.stop(timeout=grace))
            except Exception:
                log.exception("stopping %s failed", attr)
            setattr(self, attr, None)
