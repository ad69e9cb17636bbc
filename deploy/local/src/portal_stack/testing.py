"""Infrastructure for tests, run on a private event loop in a background thread.

Servers started here live in a fresh temporary directory and on ports the OS picks (never the
fixed ports of `portal up`, and never the same for two test sessions running at once: fixed
"preferred" test ports let two sessions see a port free at the same moment and both take it).
Used by portal_stack.pytest_plugin.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import threading
import urllib.parse
import urllib.request
from collections.abc import Coroutine, Mapping
from pathlib import Path
from typing import Any, TypeVar

from portal_stack.config import Ports, StackConfig
from portal_stack.infra import Infra

T = TypeVar("T")
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class _LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="portal-infra", daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        if not self.loop.is_running():
            self.loop.close()


class TestInfra:
    """What tests see: addresses of Kafka, PostgreSQL and the mail sink."""

    __test__ = False  # not a test class

    def __init__(self, env: Mapping[str, str] | None = None, *, topics: dict[str, int] | None = None):
        self._tmp = Path(tempfile.mkdtemp(prefix="portal-test-"))
        self._tmp.chmod(0o755)  # PostgreSQL runs as another user when we are root
        any_port = Ports(kafka=0, kafka_controller=0, postgres=0, smtp=0, mail_http=0)  # 0: the OS picks
        config = StackConfig.from_env(env, ports=any_port, data_dir=self._tmp)
        self._infra = Infra(config, database_prefix="test_", recreate_databases=True, pick_free_ports=True)
        self._loop = _LoopThread()
        try:
            self._loop.run(self._infra.start(topics=topics, services=()), timeout=300)
        except BaseException:
            self.close()
            raise

    @property
    def data_dir(self) -> Path:
        return self._tmp

    @property
    def started(self) -> list[str]:
        """Servers started for this session (the others came from PORTAL_* variables)."""
        return self._infra.started

    @property
    def kafka_bootstrap(self) -> str:
        return self._infra.kafka_bootstrap

    @property
    def smtp_host(self) -> str:
        return self._infra.smtp_host

    @property
    def smtp_port(self) -> int:
        return self._infra.smtp_port

    @property
    def mailsink_url(self) -> str | None:
        return self._infra.mailsink_url

    @property
    def postgres_admin_url(self) -> str | None:
        return self._infra.postgres_admin_url

    def database_url(self, service: str) -> str:
        """postgresql+asyncpg URL of database test_<service>, recreated once per session."""
        return self._loop.run(self._infra.database_url(service), timeout=60)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = 120) -> T:
        """Run a coroutine on the infrastructure's own loop (for sync callers)."""
        return self._loop.run(coro, timeout)

    def _api(self, method: str, query: dict[str, str] | None = None) -> Any:
        if not self.mailsink_url:
            raise RuntimeError("no mail viewer: set PORTAL_MAILSINK_URL for the external SMTP server")
        url = f"{self.mailsink_url.rstrip('/')}/api/messages"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        with _OPENER.open(urllib.request.Request(url, method=method), timeout=30) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def messages_sync(self, to: str | None = None) -> list[dict[str, Any]]:
        if self._infra.mailsink is not None:
            # Our own sink: read its store, as its API would. Over HTTP the answer comes from the sink's
            # server on the infrastructure thread, which a busy test process (four services, Kafka
            # clients) starved past the timeout now and then.
            return self._infra.mailsink.store.list(to)
        return self._api("GET", {"to": to} if to else None)

    async def messages(self, to: str | None = None) -> list[dict[str, Any]]:
        """Emails received by the sink (optionally only those for `to`), oldest first."""
        return await asyncio.to_thread(self.messages_sync, to)

    async def clear_messages(self) -> None:
        if self._infra.mailsink is not None:
            self._infra.mailsink.store.clear()
            return
        await asyncio.to_thread(self._api, "DELETE")

    def close(self) -> None:
        try:
            if self._loop.thread.is_alive():
                # The session's data directory is deleted next: no server needs a clean shutdown.
                self._loop.run(self._infra.stop(grace=0), timeout=120)
        finally:
            self._loop.close()
            shutil.rmtree(self._tmp, ignore_errors=True)
