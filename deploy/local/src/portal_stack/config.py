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
  PORTAL_<SERVICE>_HTTP_PORT            HTTP port of one service (default 8001..8005)
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from portal_stack import SERVICES


@dataclass(frozen=True)
class Ports:
    kafka: int = 19092
    kafka_controller: int = 19093
    postgres: int = 55432
    smtp: int = 1025
    mail_http: int = 8025


DEV_PORTS = Ports()


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
    kafka_bootstrap: str | None = None
    postgres_url: str | None = None
    database_urls: dict[str, str] = field(default_factory=dict)
    smtp_host: str | None = None
    smtp_port: int | None = None
    mailsink_url: str | None = None
    jwt_secret: str | None = None

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, ports: Ports = DEV_PORTS, data_dir: Path | None = None
    ) -> StackConfig:
        env = os.environ if env is None else env
        smtp_host = env.get("PORTAL_SMTP_HOST") or None
        smtp_port = env.get("PORTAL_SMTP_PORT") or None
        if bool(smtp_host) != bool(smtp_port):
            from portal_stack.errors import InfraError

            raise InfraError(
                "set both PORTAL_SMTP_HOST and PORTAL_SMTP_PORT (or neither, to start the local mail sink)"
            )
        return cls(
            data_dir=data_dir or default_data_dir(env),
            cache_dir=default_cache_dir(env),
            ports=ports,
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
