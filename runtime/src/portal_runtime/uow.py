"""The unit of work: one transaction of one service, the aggregates it loaded or added, and, on
commit, their domain events mapped to contract events and staged in the outbox beside the state.

Modelled on cosmicpython's `UnitOfWork` (it collects the events of the aggregates it has seen)
and dotnet/eShop's `TransactionBehavior` + `MediatorExtension` (transaction and event dispatch as
one cross-cutting step). A use case reads:

    async with self.uow() as uow:
        request = await uow.requests.get(request_id, scope=actor)   # tracked by the repository
        request.approve(by=actor.user_id, now=self.clock.now())     # raises RequestApproved
        await uow.commit()                                          # saves, stages, commits

HTTP commands and event handlers use the same unit of work: the consumer opens one for the inbox
row and the effect, and a use case called from a handler joins it (its `commit()` saves and
stages; the consumer commits once, after the inbox row). Correlation and causation ids come from
`portal_runtime.context`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from contextvars import ContextVar
from typing import Any, Protocol, TypeVar

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal_contracts import Envelope, Event
from portal_runtime import context
from portal_runtime.outbox import Outbox

A = TypeVar("A")
# One service's mapping of its typed domain events to contract events (registered once, in its
# bootstrap). It may answer None for an event nothing outside the service needs to hear about.
EventMapping = Callable[[Any], Event | Iterable[Event] | None]


class Saver(Protocol):
    async def save(self, aggregate: Any) -> None: ...


class UnitOfWork:
    """Subclass per service to name its repositories (e.g. `requests = repository(RequestRepository)`)."""

    def __init__(self, session: AsyncSession, outbox: Outbox, mapping: EventMapping, *, owner: bool) -> None:
        self.session = session
        self.outbox = outbox
        self.mapping = mapping
        self.owner = owner  # False when joined to a consumer's transaction
        self._seen: list[tuple[Any, Saver | None]] = []
        self.staged: list[Envelope] = []

    @property
    def now(self):
        """The service clock's time (rows' bookkeeping timestamps)."""
        return self.outbox.clock.now()

    def track(self, aggregate: A, saver: Saver | None = None) -> A:
        """Remember an aggregate: on commit it is saved (by `saver`) and its events are staged."""
        if all(seen is not aggregate for seen, _ in self._seen):
            self._seen.append((aggregate, saver))
        return aggregate

    def publish(self, event: Event) -> Envelope:
        """Stage a contract event that no aggregate raised (rare: e.g. a consumer relaying a fact)."""
        return self._stage(event)

    async def commit(self) -> None:
        """Save every tracked aggregate, stage its events in the order they were raised, and
        commit (or, joined to a consumer's transaction, leave the commit to it)."""
        for aggregate, saver in self._seen:
            if saver is not None:
                await saver.save(aggregate)
            events = getattr(aggregate, "events", None) or []
            for event in events:
                mapped = self.mapping(event)
                for contract in [mapped] if isinstance(mapped, Event) else (mapped or ()):
                    self._stage(contract)
            events.clear()
        await self.session.flush()
        if self.owner:
            await self.session.commit()

    def _stage(self, event: Event) -> Envelope:
        cause = context.current()
        envelope = self.outbox.stage(
            self.session, event, correlation_id=cause.correlation_id, causation_id=cause.causation_id
        )
        self.staged.append(envelope)
        return envelope


class SqlRepository:
    """A base for a repository on its unit of work's session (`self.uow`, `self.session`), with
    the read every `get(..., for_update=...)` makes: the one row a statement selects, locked
    FOR UPDATE when the use case will change it."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    async def one(self, stmt: Select, *, for_update: bool = False) -> Any:
        """The first row's entity (None when there is none), locked when `for_update`."""
        return await self.session.scalar(stmt.with_for_update() if for_update else stmt)


class repository:
    """A repository of a unit of work, made on first use with that unit of work."""

    def __init__(self, cls: type) -> None:
        self.cls = cls
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, uow: UnitOfWork | None, owner: type) -> Any:
        if uow is None:
            return self
        made = self.cls(uow)
        uow.__dict__[self.name] = made
        return made


_open: ContextVar[UnitOfWork | None] = ContextVar("portal_open_unit_of_work", default=None)


class UnitsOfWork:
    """Opens units of work of one service: `async with uow() as u: ...; await u.commit()`.
    Leaving without commit rolls back. Inside an open one of the same service (the consumer's, or
    a use case calling another), the open one is joined: one transaction, committed by its opener."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        mapping: EventMapping,
        kind: type[UnitOfWork] = UnitOfWork,
    ) -> None:
        self.sessions = sessions
        self.outbox = outbox
        self.mapping = mapping
        self.kind = kind

    @contextlib.asynccontextmanager
    async def __call__(self) -> AsyncIterator[Any]:
        joined = _open.get()
        if joined is not None and joined.outbox is self.outbox:
            inner = self.kind(joined.session, self.outbox, self.mapping, owner=False)
            yield inner
            return
        async with self.sessions() as session:
            uow = self.kind(session, self.outbox, self.mapping, owner=True)
            token = _open.set(uow)
            try:
                yield uow
            finally:
                _open.reset(token)
                if session.in_transaction():
                    await session.rollback()
