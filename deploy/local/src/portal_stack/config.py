"""Stack configuration read from the environment.

Where a variable names an existing server, that server is used and nothing is started:

  PORTAL_KAFKA_BOOTSTRAP_SERVERS        e.g. 127.0.0.1:9092
  PORTAL_POSTGRES_URL                   admin URL; one database per service is created on it
  PORTAL_<SERVICE>_DATABASE_URL         per service (CATALOG, ORDERS, ...); wins for that service
  PORTAL_SMTP_HOST + PORTAL_SMTP_PORT   an SMTP server (then no sink is started)
  PORTAL_MAILSINK_URL                   HTTP API of that server's viewer (optional)
  PORTAL_DATA_DIR                       data of started servers (default <repo>/.portal)
  PORTAL_CACHE_DIR                      Maven jar cache (default ~/.cache/portal)
  PORTAL_JWT_SECRET                     JWT secret given to services (else generated once)

Ports and start-up time limits of what `portal up` starts (each also a flag of `portal up` and
`portal infra`: the variable's name without PORTAL_, in lower case with dashes, e.g.
--kafka-port), so that two stacks can run side by side on other ports and data directories:

  PORTAL_PORT_OFFSET                    added to every default port below (e.g. 100: 19192, 8101, ...)
  PORTAL_KAFKA_PORT                     Kafka (default 19092)
  PORTAL_KAFKA_CONTROLLER_PORT          Kafka's KRaft controller (default 19093)
  PORTAL_POSTGRES_PORT                  PostgreSQL (default 55432)
  PORTAL_MAIL_SMTP_PORT                 the mail sink's SMTP (default 1025)
  PORTAL_MAIL_HTTP_PORT                 the mail viewer (default 8025)
  PORTAL_<SERVICE>_HTTP_PORT            HTTP port of one service (default 8001..8005)
  PORTAL_KAFKA_START_TIMEOUT            seconds Kafka may take to become ready (default 120)
  PORTAL_POSTGRES_START_TIMEOUT         seconds PostgreSQL may take (default 60)
  PORTAL_SERVICE_START_TIMEOUT          seconds a service's migrations, and then its start, may take (default 90)
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from portal_stack import HTTP_PORTS, SERVICES
from portal_stack.errors import InfraError


def flag(variable: str) -> str:
    """The command-line flag standing for a PORTAL_* variable: PORTAL_KAFKA_PORT -> --kafka-port."""
    return "--" + variable.removeprefix("PORTAL_").lower().replace("_", "-")


def _number(env: Mapping[str, str], variable: str, default: float, *, kind: type, low: float, high: float) -> float:
    raw = (env.get(variable) or "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise InfraError(f"{flag(variable)} / {variable}: {raw!r} is not a number from {low:g} to {high:g}")
    return value


def port_offset(env: Mapping[str, str]) -> int:
    return _number(env, "PORTAL_PORT_OFFSET", 0, kind=int, low=0, high=60000)


def port_setting(env: Mapping[str, str], variable: str, default: int) -> int:
    """The port a PORTAL_*_PORT variable sets, else `default` moved by PORTAL_PORT_OFFSET."""
    if not (env.get(variable) or "").strip():
        default += port_offset(env)
    return _number(env, variable, default, kind=int, low=1, high=65535)


@dataclass(frozen=True)
class Ports:
    kafka: int = 19092
    kafka_controller: int = 19093
    postgres: int = 55432
    smtp: int = 1025
    mail_http: int = 8025

    # the variable setting each port (also the flag of `portal up`, see `flag`), and what listens there
    SETTINGS = {
        "kafka": ("PORTAL_KAFKA_PORT", "Kafka"),
        "kafka_controller": ("PORTAL_KAFKA_CONTROLLER_PORT", "Kafka's controller"),
        "postgres": ("PORTAL_POSTGRES_PORT", "PostgreSQL"),
        "smtp": ("PORTAL_MAIL_SMTP_PORT", "the mail sink's SMTP"),
        "mail_http": ("PORTAL_MAIL_HTTP_PORT", "the mail viewer"),
    }

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Ports:
        defaults = cls()
        return replace(
            defaults,
            **{f.name: port_setting(env, cls.SETTINGS[f.name][0], getattr(defaults, f.name)) for f in fields(cls)},
        )


DEV_PORTS = Ports()


@dataclass(frozen=True)
class Timeouts:
    """Seconds each server may take to become ready before the start gives up (a busy machine
    has taken Kafka more than 60 s)."""

    kafka: float = 120.0
    postgres: float = 60.0
    services: float = 90.0

    SETTINGS = {
        "kafka": "PORTAL_KAFKA_START_TIMEOUT",
        "postgres": "PORTAL_POSTGRES_START_TIMEOUT",
        "services": "PORTAL_SERVICE_START_TIMEOUT",
    }

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Timeouts:
        defaults = cls()
        return replace(
            defaults,
            **{
                f.name: _number(env, cls.SETTINGS[f.name], getattr(defaults, f.name), kind=float, low=1, high=86400)
                for f in fields(cls)
            },
        )

    def hint(self, what: str) -> str:
        variable = self.SETTINGS[what]
        return f"more time with {flag(variable)} or {variable}"


def http_port(env: Mapping[str, str], service: str) -> int:
    """PORTAL_<SERVICE>_HTTP_PORT, else the service's default port moved by PORTAL_PORT_OFFSET."""
    return port_setting(env, f"PORTAL_{service.upper()}_HTTP_PORT", HTTP_PORTS[service])


def repo_root(start: Path | None = None) -> Path | None:
    """The nearest parent holding the uv workspace's pyproject.toml."""
    starts = [start or Path.cwd(), Path(__file__).resolve().parent]
    for origin in starts:
        for path in (origin, *origin.parents):
            candidate = path / "pyproject.toml"
            try:
                if candidate.is_file() and "[tool.uv.workspace]" in candidate.read_text():
                    return path
            except OSError:
                continue
    return None


def default_data_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get("PORTAL_DATA_DIR"):
        return Path(env["PORTAL_DATA_DIR"]).expanduser().resolve()
    root = repo_root()
    return (root or Path.cwd()) / ".portal"


def default_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get("PORTAL_CACHE_DIR"):
        return Path(env["PORTAL_CACHE_DIR"]).expanduser().resolve()
    return Path.home() / ".cache" / "portal"


@dataclass
class StackConfig:
    data_dir: Path
    cache_dir: Path
    ports: Ports = DEV_PORTS
    timeouts: Timeouts = field(default_factory=Timeouts)
    kafka_bootstrap: str | None = None
    postgres_url: str | None = None
    database_urls: dict[str, str] = field(default_factory=dict)
    smtp_host: str | None = None
    smtp_port: int | None = None
    mailsink_url: str | None = None
    jwt_secret: str | None = None

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, ports: Ports | None = None, data_dir: Path | None = None
    ) -> StackConfig:
        """`ports` (tests pass their own) win over the PORTAL_*_PORT variables."""
        env = os.environ if env is None else env
        smtp_host = env.get("PORTAL_SMTP_HOST") or None
        smtp_port = env.get("PORTAL_SMTP_PORT") or None
        if bool(smtp_host) != bool(smtp_port):
            raise InfraError(
                "set both PORTAL_SMTP_HOST and PORTAL_SMTP_PORT (or neither, to start the local mail sink)"
            )
        return cls(
            data_dir=data_dir or default_data_dir(env),
            cache_dir=default_cache_dir(env),
            ports=ports or Ports.from_env(env),
            timeouts=Timeouts.from_env(env),
            kafka_bootstrap=env.get("PORTAL_KAFKA_BOOTSTRAP_SERVERS") or None,
            postgres_url=env.get("PORTAL_POSTGRES_URL") or None,
            database_urls={
                s: env[f"PORTAL_{s.upper()}_DATABASE_URL"]
                for s in SERVICES
                if env.get(f"PORTAL_{s.upper()}_DATABASE_URL")
            },
            smtp_host=smtp_host,
            smtp_port=int(smtp_port) if smtp_port else None,
            mailsink_url=env.get("PORTAL_MAILSINK_URL") or None,
            jwt_secret=env.get("PORTAL_JWT_SECRET") or None,
        )

    @property
    def needs_postgres(self) -> bool:
        """A server must be started unless one is configured (or every service has its URL)."""
        return self.postgres_url is None and any(s not in self.database_urls for s in SERVICES)

    def ensure_jwt_secret(self) -> str:
        """PORTAL_JWT_SECRET, else a random secret generated once into <data_dir>/jwt_secret."""
        if self.jwt_secret:
            return self.jwt_secret
        path = self.data_dir / "jwt_secret"
        if path.is_file() and path.read_text().strip():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secret + "\n")
        os.chmod(path, 0o600)
        return secret
