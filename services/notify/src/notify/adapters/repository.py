"""Loading and storing recipients and deliveries."""

from __future__ import annotations

import uuid
import zlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from notify.adapters.tables import DeliveryRow, RecipientRow
from notify.domain.deliveries import Delivery
from notify.domain.recipients import Recipient

_SAME = (
    "id",
    "account_id",
    "template",
    "cause_event_id",
    "correlation_id",
    "status",
    "attempts",
    "recipient",
    "language",
    "subject",
    "last_error",
    "next_attempt_at",
    "created_at",
    "sent_at",
    "failed_at",
)


@dataclass(frozen=True)
class Cause:
    """The event a delivery answers, as it came (type, version and payload)."""

    event_type: str
    version: int
    payload: dict


def _delivery(row: DeliveryRow) -> Delivery:
    return Delivery(**{f: getattr(row, f) for f in _SAME}, text=row.text_body, html=row.html_body)


def _recipient(row: RecipientRow) -> Recipient:
    return Recipient(account_id=row.account_id, email=row.email, language=row.language, changed_at=row.changed_at)


class RecipientRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_account(self, account_id: str) -> None:
        """Serialise, until the transaction ends, everything that addresses one account's emails:
        a delivery recorded as waiting and the profile that addresses it cannot pass each other."""
        key = zlib.crc32(f"notify:account:{account_id}".encode())
        await self.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})

    async def get(self, account_id: str, *, for_update: bool = False) -> Recipient | None:
        stmt = select(RecipientRow).where(RecipientRow.account_id == account_id)
        row = await self.session.scalar(stmt.with_for_update() if for_update else stmt)
        return _recipient(row) if row else None

    async def save(self, recipient: Recipient, now: datetime) -> None:
        row = await self.session.get(RecipientRow, recipient.account_id)
        if row is None:
            row = RecipientRow(account_id=recipient.account_id)
            self.session.add(row)
        row.email, row.language, row.changed_at = recipient.email, recipient.language, recipient.changed_at
        row.updated_at = now


class DeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, delivery: Delivery, cause: Cause, now: datetime) -> bool:
        """Insert a new delivery; False (and nothing written) if its cause has one already."""
        values = {f: getattr(delivery, f) for f in _SAME}
        inserted = await self.session.scalar(
            insert(DeliveryRow)
            .values(
                **values,
                text_body=delivery.text,
                html_body=delivery.html,
                cause_type=cause.event_type,
                cause_version=cause.version,
                cause_payload=cause.payload,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["cause_event_id"])
            .returning(DeliveryRow.id)
        )
        return inserted is not None

    async def get(self, delivery_id: uuid.UUID, *, for_update: bool = False) -> Delivery | None:
        stmt = select(DeliveryRow).where(DeliveryRow.id == delivery_id)
        row = await self.session.scalar(stmt.with_for_update() if for_update else stmt)
        return _delivery(row) if row else None

    async def by_cause(self, cause_event_id: uuid.UUID) -> Delivery | None:
        row = await self.session.scalar(select(DeliveryRow).where(DeliveryRow.cause_event_id == cause_event_id))
        return _delivery(row) if row else None

    async def waiting_for(self, account_id: str) -> list[tuple[Delivery, Cause]]:
        rows = await self.session.scalars(
            select(DeliveryRow)
            .where(DeliveryRow.account_id == account_id, DeliveryRow.status == "waiting_for_recipient")
            .order_by(DeliveryRow.created_at, DeliveryRow.id)
            .with_for_update()
        )
        return [(_delivery(r), Cause(r.cause_type, r.cause_version, r.cause_payload)) for r in rows]

    async def next_due(self, now: datetime) -> Delivery | None:
        """The most overdue pending delivery that no other sender holds, locked until the
        transaction ends (FOR UPDATE SKIP LOCKED: senders in parallel never take the same one).

        One account's emails go out in the order of their events: a delivery waits while an
        older one of its account is still pending (being sent, or waiting out its backoff), so
        "we need more information" never overtakes "we received your request". An older one
        that ends `failed` no longer holds the others up."""
        older = aliased(DeliveryRow)
        row = await self.session.scalar(
            select(DeliveryRow)
            .where(DeliveryRow.status == "pending", DeliveryRow.next_attempt_at <= now)
            .where(
                ~exists().where(
                    older.account_id == DeliveryRow.account_id,
                    older.status == "pending",
                    older.created_at < DeliveryRow.created_at,
                )
            )
            .order_by(DeliveryRow.next_attempt_at, DeliveryRow.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        return _delivery(row) if row else None

    async def save(self, delivery: Delivery, now: datetime) -> None:
        row = await self.session.get(DeliveryRow, delivery.id)
        if row is None:
            raise LookupError(f"no delivery {delivery.id} to update")
        for f in _SAME:
            setattr(row, f, getattr(delivery, f))
        row.text_body, row.html_body, row.updated_at = delivery.text, delivery.html, now

    async def page(
        self, *, account_id: str | None, status: str | None, limit: int, offset: int
    ) -> tuple[list[Delivery], int]:
        stmt = select(DeliveryRow)
        if account_id is not None:
            stmt = stmt.where(DeliveryRow.account_id == account_id)
        if status is not None:
            stmt = stmt.where(DeliveryRow.status == status)
        total = await self.session.scalar(select(func.count()).select_from(stmt.subquery()))
        rows = await self.session.scalars(
            stmt.order_by(DeliveryRow.created_at.desc(), DeliveryRow.id).limit(limit).offset(offset)
        )
        return [_delivery(r) for r in rows], total or 0
