"""Idempotency keys for every create that moves money or makes an order: a retried request (same
caller, same Idempotency-Key, same request) gets the first answer, and the effect happens once.

The table `idempotency` sits beside `outbox` and `inbox` in a service's own database, made by
`portal_runtime.migrations.create_idempotency_table()` in a revision of each service that takes
keys: one row per (caller, key) with the fingerprint of the request, the answer given (status code
and JSON body) and when the key was claimed. Rows older than 24 h are purged
(`purge_idempotency(session, older_than)`; `purge_expired_keys(session, now)` is the periodic
purge's step, a no-op in a database without the table).

A use case calls it inside its unit of work (`idempotency = repository(IdempotencyKeys)` on the
service's `UnitOfWork`), after locking what its effect changes and before the effect:

    async with self.uow() as uow:
        order = await uow.orders.get(order_id, for_update=True)
        replayed = await uow.idempotency.claim(caller, key, fingerprint(canonical_request))
        if replayed is not None:
            return replayed                    # the first answer, as it was given; nothing happens
        ...the effect...
        answer = await uow.idempotency.store(caller, key, Answer(201, body))
        await uow.commit()                     # effect, events, key and answer: one transaction
    return answer

The rules (Stripe's): a new key is claimed and the request proceeds; the same key with the same
fingerprint returns the stored answer (a replay, whatever it was: a 201, a 402 decline); the same
key with another fingerprint is refused with 422 (`KeyReused`, field `Idempotency-Key`). A request
that is refused by raising (a 4xx, a crash) rolls back its claim too: the key stays free for a
corrected request, and only answers a use case chose to store are replayed.

Two requests with one key at once: the claim is `INSERT … ON CONFLICT (caller, key) DO NOTHING`
in the unit of work's transaction. The first inserts the row, which stays uncommitted until the
effect and its answer commit with it. PostgreSQL makes the second INSERT wait for that
transaction (a conflict with an in-progress insert on the primary key waits for it to end):
- the first commits: the second's insert does nothing, and its next statement (READ COMMITTED,
  the default: each statement sees what committed before it began) reads the committed row and
  replays its answer — one effect, the same answer;
- the first rolls back: the second's insert goes through and it proceeds as the first request.
(Under REPEATABLE READ or SERIALIZABLE the second would get a serialization error instead.)
A committed claim without an answer (a use case that forgot `store`) answers 409, never a replay.

The answer's body is kept as `json`, not `jsonb`: PostgreSQL keeps json as written, so the keys
keep their order and a replay serialises byte for byte like the first answer.

A fingerprint is what makes two requests "the same": a use case reduces its request to that
(naming its operation; a card reduced to brand, last four digits and expiry: no card number is
ever hashed or kept) and hashes it with `fingerprint()`.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import DateTime, Index, Integer, MetaData, String, delete, select, text, update
from sqlalchemy.dialects.postgresql import JSON, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from portal_runtime.db import NAMING
from portal_runtime.errors import Conflict, InvalidInput

if TYPE_CHECKING:
    from portal_runtime.uow import UnitOfWork

HEADER = "Idempotency-Key"
RETENTION = timedelta(hours=24)
TABLE = "idempotency"


class IdempotencyBase(DeclarativeBase):
    """Its own metadata: only services that take keys have the table (it is not among the
    tables every service's first revision makes)."""

    metadata = MetaData(naming_convention=NAMING)


class IdempotencyRecord(IdempotencyBase):
    """A key a caller used, the request it came with (fingerprint) and the answer it got."""

    __tablename__ = TABLE
    __table_args__ = (Index("ix_idempotency_created_at", "created_at"),)

    caller: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: claimed, no answer yet
    body: Mapped[Any] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class Answer:
    """An HTTP answer as first given: the status code and the JSON body (dicts, lists, strings…)."""

    status_code: int
    body: Any


class KeyReused(InvalidInput):
    """The key was used for a different request (422, Stripe's rule)."""

    def __init__(self) -> None:
        super().__init__(f"this {HEADER} was used for a different request; use a new key", field=HEADER)


class KeyWithoutAnswer(Conflict):
    """The key was claimed and committed without an answer: nothing to replay (409)."""

    def __init__(self) -> None:
        super().__init__(f"the request with this {HEADER} has no answer to replay; use a new key", field=HEADER)


def fingerprint(canonical: Any) -> str:
    """SHA-256 of the canonical JSON of what makes a request itself (keys sorted)."""
    return hashlib.sha256(json.dumps(canonical, sort_keys=True, default=str).encode()).hexdigest()


def replay_of(stored_fingerprint: str, stored: Answer | None, fingerprint_now: str) -> Answer:
    """The rule for a key that is taken: its answer for the same request; 422 for another."""
    if stored_fingerprint != fingerprint_now:
        raise KeyReused()
    if stored is None:
        raise KeyWithoutAnswer()
    return stored


class IdempotencyKeys:
    """The keys of one service, inside a unit of work (`idempotency = repository(IdempotencyKeys)`)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    async def claim(self, caller: str, key: str, fingerprint: str) -> Answer | None:
        """None: the key is this request's (new); do the effect, then `store` its answer in this
        unit of work. An Answer: the first answer to this same request, to give again. Raises
        `KeyReused` (422) for another request. Waits while another transaction holds the key."""
        claimed = await self.session.scalar(
            insert(IdempotencyRecord)
            .values(caller=caller, key=key, fingerprint=fingerprint, created_at=self.uow.now)
            .on_conflict_do_nothing(index_elements=["caller", "key"])
            .returning(IdempotencyRecord.key)
        )
        if claimed is not None:
            return None
        row = (
            await self.session.execute(
                select(IdempotencyRecord.fingerprint, IdempotencyRecord.status_code, IdempotencyRecord.body).where(
                    IdempotencyRecord.caller == caller, IdempotencyRecord.key == key
                )
            )
        ).one()
        stored = None if row.status_code is None else Answer(row.status_code, row.body)
        return replay_of(row.fingerprint, stored, fingerprint)

    async def answered(self, caller: str, key: str) -> Answer | None:
        """The answer stored for a claimed key (None: none yet, or the key is not claimed)."""
        row = (
            await self.session.execute(
                select(IdempotencyRecord.status_code, IdempotencyRecord.body).where(
                    IdempotencyRecord.caller == caller, IdempotencyRecord.key == key
                )
            )
        ).one_or_none()
        return None if row is None or row.status_code is None else Answer(row.status_code, row.body)

    async def store(self, caller: str, key: str, answer: Answer) -> Answer:
        """Keep the answer of a claimed key (committed with the effect, by the unit of work)."""
        await self.session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.caller == caller, IdempotencyRecord.key == key)
            .values(status_code=answer.status_code, body=answer.body)
        )
        return answer


@dataclass
class _Held:
    fingerprint: str
    answer: Answer | None = None


class MemoryIdempotencyKeys:
    """The same rules without a database, for use-case tests on fake units of work. `rows` is
    plain data: a fake that rolls back restores a copy of it."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], _Held] = {}

    async def claim(self, caller: str, key: str, fingerprint: str) -> Answer | None:
        held = self.rows.get((caller, key))
        if held is None:
            self.rows[(caller, key)] = _Held(fingerprint)
            return None
        return replay_of(held.fingerprint, held.answer, fingerprint)

    async def answered(self, caller: str, key: str) -> Answer | None:
        held = self.rows.get((caller, key))
        return None if held is None or held.answer is None else copy.deepcopy(held.answer)

    async def store(self, caller: str, key: str, answer: Answer) -> Answer:
        self.rows[(caller, key)].answer = copy.deepcopy(answer)
        return answer


async def purge_idempotency(session: AsyncSession, older_than: datetime) -> int:
    """Drop the keys claimed before `older_than`; how many went."""
    result = await session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < older_than))
    return result.rowcount


async def purge_expired_keys(session: AsyncSession, now: datetime) -> int:
    """The periodic purge's step: keys older than 24 h, in a database that has the table (0 otherwise)."""
    if await session.scalar(text(f"SELECT to_regclass('{TABLE}')")) is None:
        return 0
    return await purge_idempotency(session, now - RETENTION)
