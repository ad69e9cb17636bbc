"""Wake on commit: a polling loop (the outbox relay, notify's sender) waits for a PostgreSQL
notification instead of sleeping out its poll, so what a transaction wrote is taken at once
when it commits, and an idle loop costs nothing between its (slow) safety-net polls.

The notification comes from the database, not from the writers: a statement-level trigger on the
table (made by a migration: `portal_runtime.migrations.create_outbox_notify`) calls
`pg_notify(channel, '')` for every statement that inserts rows, and PostgreSQL delivers it when
(and only when) the transaction commits, folding the notifications of one transaction into one.
Every writer is covered, whichever code path staged the row (a unit of work, the consumer's inbox
transaction, a job), and a rolled-back transaction wakes nobody.

The listening connection is this module's own (asyncpg, outside the engine's pool: a pooled
connection would go back to the pool still listening). When it is lost (the database restarted)
the loop falls back to its poll and listens again at its next wait; a notification missed in
between is a row the next poll finds. Why not a library: asyncpg's `add_listener` is the whole
mechanism; this is the small part around it (reconnecting, and the event a loop waits on).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg
from sqlalchemy.engine import URL, make_url

log = logging.getLogger(__name__)

OUTBOX_CHANNEL = "portal_outbox"


class Wakeup:
    """`await wakeup.wait(seconds)`: back when a notification on `channel` came since the last
    wait returned, or after `seconds` (the safety-net poll), whichever is first."""

    def __init__(self, url: URL | str, channel: str, *, connect_timeout: float = 5.0) -> None:
        self.dsn = _dsn(url)
        self.channel = channel
        self.connect_timeout = connect_timeout
        self._event = asyncio.Event()
        self._conn: asyncpg.Connection | None = None
        self._told = False  # a failure to listen is logged once until listening works again
        self._connecting = asyncio.Lock()  # loops sharing this wakeup open one connection

    @property
    def listening(self) -> bool:
        return self._conn is not None and not self._conn.is_closed()

    async def listen(self) -> bool:
        """LISTEN on a connection of its own (again, if the last one was lost); False when the
        database cannot be reached now (the caller polls meanwhile)."""
        async with self._connecting:
            return self.listening or await self._listen()

    async def _listen(self) -> bool:
        await self.close()
        try:
            conn = await asyncpg.connect(self.dsn, timeout=self.connect_timeout)
            await conn.add_listener(self.channel, self._notified)
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            if not self._told:
                log.warning("no wake on commit from %s for now (polling): %s", self.channel, type(exc).__name__)
                self._told = True
            return False
        conn.add_termination_listener(self._lost)
        self._conn, self._told = conn, False
        self._event.set()  # rows may have come while nobody listened: look once
        return True

    async def wait(self, seconds: float) -> bool:
        """Until notified or `seconds` passed; True when a notification ended the wait."""
        await self.listen()
        try:
            await asyncio.wait_for(self._event.wait(), seconds)
        except TimeoutError:
            return False
        finally:
            self._event.clear()
        return True

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            with contextlib.suppress(Exception):  # closing what is lost already
                await asyncio.wait_for(conn.close(), 2)

    def _notified(self, *_args) -> None:
        self._event.set()

    def _lost(self, _conn) -> None:
        self._conn = None
        self._event.set()  # look at once; the next wait listens again


def _dsn(url: URL | str) -> str:
    """The engine's URL as asyncpg takes it (no `+asyncpg` driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
