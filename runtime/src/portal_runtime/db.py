"""Engine and sessions of a service's own database, and the outbox and inbox tables every
service keeps beside its own."""

from __future__ import annotations

import uuid
from datetime import datetime

from opentelemetry.trace import TracerProvider
from sqlalchemy import BigInteger, DateTime, Index, MetaData, String, event, exc, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from portal_runtime.telemetry import instrument_engine

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class RuntimeBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class OutboxRecord(RuntimeBase):
    """An event waiting to be published, written in the transaction that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_pending", "id", postgresql_where=text("published_at IS NULL")),
        Index("ix_outbox_published_at", "published_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    event_id: Mapped[uuid.UUID] = mapped_column(UUID, unique=True)
    topic: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(200))
    envelope: Mapped[dict] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class InboxRecord(RuntimeBase):
    """An event this service has applied; a second delivery finds it and does nothing."""

    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_processed_at", "processed_at"),)

    event_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    event_type: Mapped[str] = mapped_column(String(200))
    processed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def make_engine(url: str, *, tracer_provider: TracerProvider | None = None, **kw) -> AsyncEngine:
    """hide_parameters: a database error names the statement but not its values, so addresses,
    names and email text never reach logs, retry warnings or dead-letter headers. With a
    `tracer_provider` that records, every statement inside a trace is a span of it (statement,
    never parameters: `portal_runtime.telemetry.instrument_engine`).

    No `pool_pre_ping`: with asyncpg it costs three round trips per checkout (BEGIN, an empty
    statement, ROLLBACK). A connection the server closed (PostgreSQL restarted or killed) is known
    without asking: asyncpg marks it closed when its socket ends, and a checkout of such a
    connection takes a fresh one instead (`_closed_is_dead`). A connection that dies in use is
    invalidated by SQLAlchemy (with every older one of the pool) and its error is an outage the
    caller waits out (`portal_runtime.faults`)."""
    engine = create_async_engine(url, pool_size=10, max_overflow=10, hide_parameters=True, **kw)
    event.listen(engine.sync_engine, "checkout", _closed_is_dead)
    instrument_engine(engine, tracer_provider)
    return engine


def _closed_is_dead(dbapi_connection, _record, _proxy) -> None:
    """A pooled connection whose socket ended is replaced at checkout (SQLAlchemy's pool takes
    another when a checkout listener raises DisconnectionError), with no round trip."""
    if dbapi_connection.driver_connection.is_closed():
        raise exc.DisconnectionError("the server closed this connection")


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
