"""Whose fault is a failure: the message's, a dependency that is away, or the configuration?

The line is drawn as Spring Kafka's `DefaultErrorHandler` (a classifier of not-retryable
exceptions beside a `BackOff`) and Kafka's own `RetriableException` hierarchy draw it:

- `OUTAGE`: the database or the broker cannot be reached or is restarting. Nothing is wrong with
  the message; the same message is tried again, as long as it takes, and never counts towards the
  dead-letter limit. Connection refused, reset or timed out; PostgreSQL's connection class (08),
  its operator-intervention class (57P01 admin shutdown, 57P02 crash shutdown, 57P03 "the
  database system is starting up" / "not yet accepting connections"), resources exhausted (53:
  too many connections, disk full), system and I/O errors (58); a SQLAlchemy pool timeout or an
  invalidated connection; asyncpg's state errors right after a lost connection ("connection is
  closed", "cannot switch to state"); Kafka errors that Kafka itself calls retriable, and
  connection or timeout errors of the Kafka client.
- `CONFIG`: a wrong setting that waiting cannot cure: bad credentials (28), a database that does
  not exist (3D000), a table or column that is missing because the database was not migrated
  (42P01, 42703), Kafka authentication or authorisation refused. At start-up it stops the process
  with a message saying what is wrong; met by a consumer later it is waited out like an outage
  (the event is valid; dead-lettering every event until someone migrates would lose them).
- `MESSAGE`: anything else: the event cannot be parsed, the domain refuses it, the handler has a
  bug it meets every time. Retried a bounded number of times, then dead-lettered.

The exception and everything it was caused by (`__cause__`, `__context__`, a DBAPI error's
`orig`) is examined, so a driver error wrapped by SQLAlchemy or FastStream is still recognised.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import random
import socket
from collections.abc import Awaitable, Callable, Iterator
from enum import StrEnum

log = logging.getLogger(__name__)


class Fault(StrEnum):
    OUTAGE = "outage"
    CONFIG = "config"
    MESSAGE = "message"


_NETWORK_ERRNOS = {
    errno.ECONNREFUSED,
    errno.ECONNRESET,
    errno.ECONNABORTED,
    errno.EPIPE,
    errno.ETIMEDOUT,
    errno.ENETUNREACH,
    errno.ENETDOWN,
    errno.EHOSTUNREACH,
    errno.EHOSTDOWN,
    errno.ENOTCONN,
}
# PostgreSQL SQLSTATE classes and codes (https://www.postgresql.org/docs/current/errcodes-appendix.html)
_OUTAGE_SQLSTATE_CLASSES = {"08", "53", "58"}
_OUTAGE_SQLSTATES = {"57P01", "57P02", "57P03", "57P05"}
_CONFIG_SQLSTATE_CLASSES = {"28"}
_CONFIG_SQLSTATES = {"3D000", "3F000", "42P01", "42703"}
_DRIVER_STATE_PHRASES = (
    "connection is closed",
    "connection was closed",
    "cannot switch to state",
    "underlying connection is closed",
    "another operation is in progress",
)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend(
            e
            for e in (current.__cause__, current.__context__, getattr(current, "orig", None))
            if isinstance(e, BaseException)
        )
        if isinstance(current, BaseExceptionGroup):
            todo.extend(current.exceptions)


def _sqlstate(exc: BaseException) -> str | None:
    state = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
    return state if isinstance(state, str) and len(state) == 5 else None


def _classify_one(exc: BaseException) -> Fault | None:
    state = _sqlstate(exc)
    if state is not None:
        if state in _CONFIG_SQLSTATES or state[:2] in _CONFIG_SQLSTATE_CLASSES:
            return Fault.CONFIG
        if state in _OUTAGE_SQLSTATES or state[:2] in _OUTAGE_SQLSTATE_CLASSES:
            return Fault.OUTAGE
    if isinstance(exc, (ConnectionError, TimeoutError, socket.gaierror)):
        return Fault.OUTAGE
    if isinstance(exc, OSError) and exc.errno in _NETWORK_ERRNOS:
        return Fault.OUTAGE
    module = type(exc).__module__ or ""
    name = type(exc).__name__
    if module.startswith("sqlalchemy"):
        if getattr(exc, "connection_invalidated", False):
            return Fault.OUTAGE
        if name in {"DisconnectionError", "TimeoutError"}:  # pool timeout: every connection is stuck
            return Fault.OUTAGE
    if module.startswith("asyncpg") and (
        name in {"InternalClientError", "ProtocolError"}
        or (
            name in {"InterfaceError", "ConnectionDoesNotExistError"}
            and any(p in str(exc) for p in _DRIVER_STATE_PHRASES)
        )
    ):
        return Fault.OUTAGE
    if module.startswith("aiokafka"):
        if name in {
            "SaslAuthenticationFailed",
            "AuthenticationFailedError",
            "AuthenticationMethodNotSupported",
            "TopicAuthorizationFailedError",
            "TransactionalIdAuthorizationFailed",
            "GroupAuthorizationFailedError",
            "ClusterAuthorizationFailedError",
            "UnsupportedSaslMechanismError",
            "IllegalSaslStateError",
        }:
            return Fault.CONFIG
        if getattr(exc, "retriable", False) or name in {
            "KafkaConnectionError",
            "KafkaTimeoutError",
            "NodeNotReadyError",
            "NoBrokersAvailable",
            "RequestTimedOutError",
            "ProducerClosed",
        }:
            return Fault.OUTAGE
    if isinstance(exc, RuntimeError) and "is not connected" in str(exc):  # a broker that never started
        return Fault.OUTAGE
    return None


def classify(exc: BaseException) -> Fault:
    """The fault of `exc`: CONFIG wins over OUTAGE, OUTAGE over MESSAGE (see the module docstring)."""
    found = {f for e in _chain(exc) if (f := _classify_one(e)) is not None}
    for fault in (Fault.CONFIG, Fault.OUTAGE):
        if fault in found:
            return fault
    return Fault.MESSAGE


def describe(exc: BaseException) -> str:
    """One line naming the exception, for logs and readiness (statements never carry values:
    engines hide their parameters)."""
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:300]


class Backoff:
    """Capped exponential backoff with full jitter (AWS's "exponential backoff and jitter")."""

    def __init__(self, initial: float = 0.2, cap: float = 30.0, *, rng: random.Random | None = None) -> None:
        self.initial = initial
        self.cap = cap
        self.attempt = 0
        self._rng = rng or random.Random()

    def next(self) -> float:
        ceiling = min(self.cap, self.initial * 2**self.attempt)
        self.attempt += 1
        return self._rng.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.attempt = 0


class Waiting:
    """What one loop of a process (its consumer, its relay, its connection to Kafka) is waiting
    for, if anything. Logged once when the wait starts and once when it ends, not on every try;
    readiness reports it; the `portal_waiting_for_dependency` gauge shows it."""

    def __init__(self, service: str, loop: str) -> None:
        from portal_runtime.metrics import OUTAGE_WAITS, WAITING

        self.who = f"{service} {loop}"
        self.reason: str | None = None
        self.since: float | None = None
        self.waits = 0  # tries that met the outage (tests read it)
        self._gauge = WAITING.labels(service, loop)
        self._counter = OUTAGE_WAITS.labels(service, loop)
        self._gauge.set(0)

    @property
    def waiting(self) -> bool:
        return self.reason is not None

    def start(self, reason: str, now: float) -> None:
        self.waits += 1
        self._counter.inc()
        if self.reason is None:
            log.warning("%s waits for a dependency: %s", self.who, reason)
            self.since = now
            self._gauge.set(1)
        self.reason = reason

    def end(self, now: float) -> None:
        if self.reason is not None:
            log.warning("%s resumes after %.1f s", self.who, now - (self.since or now))
            self.reason = None
            self.since = None
            self._gauge.set(0)


async def poll_forever(
    drain: Callable[[], Awaitable[object]],
    *,
    waiting: Waiting,
    poll_seconds: float,
    describe_error: Callable[[BaseException], str] = describe,
    pause: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> None:
    """A background loop that polls its table (notify's sender, billing's top-up charger): drain
    what is due, wait `poll_seconds`, forever. A failure (the database or the remote side away) is
    told once through `waiting` and waited out with backoff; nothing is lost, since what was not
    done is still due at the next round. `pause(seconds)` is the wait between rounds: a sleep, or
    one that a notification ends early (`portal_runtime.wake`)."""
    loop = asyncio.get_running_loop()
    backoff = Backoff(initial=max(poll_seconds, 0.5), cap=10.0)
    while True:
        try:
            await drain()
            waiting.end(loop.time())
            backoff.reset()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            waiting.start(describe_error(exc), loop.time())
            await asyncio.sleep(backoff.next())
        await pause(poll_seconds)
