"""Loading and storing recipients and deliveries inside a unit of work (which tracks what they
load and add, and saves it on commit)."""

from __future__ import annotations

import uuid
import zlib
from datetime import datetime

from sqlalchemy import exists, select, text
from sqlalchemy.orm import aliased

from notify.adapters.tables import DeliveryRow, RecipientRow, UserRow
from notify.domain.deliveries import Audience, Cause, Delivery, Status
from notify.domain.recipients import Confirmation, Recipient
from notify.domain.users import UserRecipient
from portal_runtime.paging import PageRequest, Slice, fetch_page
from portal_runtime.uow import UnitOfWork, repository

_SAME = (
    "id",
    "account_id",
    "template",
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
    "secret",
    "audience",
    "dedup_key",
    "pending_address",
)


# The delivery's cause: column → attribute of `Cause`.
_CAUSE = {
    "cause_event_id": "event_id",
    "correlation_id": "correlation_id",
    "cause_type": "event_type",
    "cause_version": "version",
    "cause_payload": "payload",
    "trace_context": "trace",
}


def _delivery(row: DeliveryRow) -> Delivery:
    return Delivery(
        **{f: getattr(row, f) for f in _SAME if f not in ("status", "audience")},
        status=Status(row.status),
        audience=Audience(row.audience),
        cause=Cause(**{attr: getattr(row, column) for column, attr in _CAUSE.items()}),
        text=row.text_body,
        html=row.html_body,
    )


# The confirmation asked for: column → attribute of `Confirmation`.
_CONFIRMATION = {
    "confirmation_email": "email",
    "confirmation_token_hash": "token_hash",
    "confirmation_requested_at": "requested_at",
    "confirmation_expires_at": "expires_at",
    "confirmation_confirmed_at": "confirmed_at",
}
_RECIPIENT = ("account_id", "email", "language", "changed_at", "confirmed_at")


def _recipient(row: RecipientRow) -> Recipient:
    confirmation = None
    if row.confirmation_token_hash is not None:
        confirmation = Confirmation(**{attr: getattr(row, column) for column, attr in _CONFIRMATION.items()})
    return Recipient(**{f: getattr(row, f) for f in _RECIPIENT}, confirmation=confirmation)


def _recipient_columns(recipient: Recipient) -> dict:
    confirmation = recipient.confirmation
    return {
        **{f: getattr(recipient, f) for f in _RECIPIENT},
        **{column: getattr(confirmation, attr, None) for column, attr in _CONFIRMATION.items()},
    }


class RecipientRepository:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    async def lock_account(self, account_id: str) -> None:
        """Serialise, until the transaction ends, everything that addresses one account's emails:
        a delivery recorded as waiting and the profile that addresses it cannot pass each other."""
        key = zlib.crc32(f"notify:account:{account_id}".encode())
        await self.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})

    async def get(self, account_id: str, *, for_update: bool = False) -> Recipient | None:
        stmt = select(RecipientRow).where(RecipientRow.account_id == account_id)
        row = await self.session.scalar(stmt.with_for_update() if for_update else stmt)
        return self.uow.track(_recipient(row), self) if row else None

    async def account_of_token(self, token_hash: str) -> str | None:
        """The account whose newest confirmation has this token digest (unique), if any."""
        return await self.session.scalar(
            select(RecipientRow.account_id).where(RecipientRow.confirmation_token_hash == token_hash)
        )

    def add(self, recipient: Recipient) -> Recipient:
        return self.uow.track(recipient, self)

    async def save(self, recipient: Recipient) -> None:
        row = await self.session.get(RecipientRow, recipient.account_id)
        columns = _recipient_columns(recipient)
        if row is None:
            row = RecipientRow()
            self.session.add(row)
        elif all(getattr(row, column) == value for column, value in columns.items()):
            return  # only read (to address an email): updated_at says when the recipient last changed
        for column, value in columns.items():
            setattr(row, column, value)
        row.updated_at = self.uow.now


_USER = ("user_id", "account_id", "login", "name", "email", "language", "changed_at", "confirmed_email", "confirmed_at")


def _user(row: UserRow) -> UserRecipient:
    confirmation = None
    if row.confirmation_token_hash is not None:
        confirmation = Confirmation(**{attr: getattr(row, column) for column, attr in _CONFIRMATION.items()})
    return UserRecipient(**{f: getattr(row, f) for f in _USER}, confirmation=confirmation)


class UserRepository:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    async def get(self, user_id: uuid.UUID, *, for_update: bool = False) -> UserRecipient | None:
        stmt = select(UserRow).where(UserRow.user_id == user_id)
        row = await self.session.scalar(stmt.with_for_update() if for_update else stmt)
        return self.uow.track(_user(row), self) if row else None

    async def by_login(self, account_id: str, login: str) -> UserRecipient | None:
        row = await self.session.scalar(
            select(UserRow).where(UserRow.account_id == account_id, UserRow.login == login.lower())
        )
        return self.uow.track(_user(row), self) if row else None

    async def of_token(self, token_hash: str) -> UserRecipient | None:
        row = await self.session.scalar(
            select(UserRow).where(UserRow.confirmation_token_hash == token_hash).with_for_update()
        )
        return self.uow.track(_user(row), self) if row else None

    def add(self, user: UserRecipient) -> UserRecipient:
        return self.uow.track(user, self)

    async def save(self, user: UserRecipient) -> None:
        row = await self.session.get(UserRow, user.user_id)
        confirmation = user.confirmation
        columns = {
            **{f: getattr(user, f) for f in _USER},
            **{column: getattr(confirmation, attr, None) for column, attr in _CONFIRMATION.items()},
        }
        if row is None:
            row = UserRow()
            self.session.add(row)
        elif all(getattr(row, column) == value for column, value in columns.items()):
            return
        for column, value in columns.items():
            setattr(row, column, value)
        row.updated_at = self.uow.now


class DeliveryRepository:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    def add(self, delivery: Delivery) -> Delivery:
        return self.uow.track(delivery, self)

    async def has_cause(self, cause_event_id: uuid.UUID) -> bool:
        """Has this event its deliveries already? (All of one event's are recorded together, and
        (`cause_event_id`, `audience`) is unique besides.)"""
        found = await self.session.scalar(select(DeliveryRow.id).where(DeliveryRow.cause_event_id == cause_event_id))
        return found is not None

    async def has_key(self, dedup_key: str) -> bool:
        """Has the thing this key names (an order) its email already, from another event?"""
        found = await self.session.scalar(select(DeliveryRow.id).where(DeliveryRow.dedup_key == dedup_key))
        return found is not None

    async def get(self, delivery_id: uuid.UUID, *, for_update: bool = False) -> Delivery | None:
        stmt = select(DeliveryRow).where(DeliveryRow.id == delivery_id)
        row = await self.session.scalar(stmt.with_for_update() if for_update else stmt)
        return self.uow.track(_delivery(row), self) if row else None

    async def waiting_for(self, account_id: str) -> list[Delivery]:
        """The account's deliveries not addressed yet (waiting for their recipient, or for its
        address to be confirmed), oldest first, locked."""
        rows = await self.session.scalars(
            select(DeliveryRow)
            .where(DeliveryRow.account_id == account_id, DeliveryRow.status.in_([Status.WAITING, Status.AWAITING]))
            .order_by(DeliveryRow.created_at, DeliveryRow.id)
            .with_for_update()
        )
        return [self.uow.track(_delivery(r), self) for r in rows]

    async def next_due(self, now: datetime) -> Delivery | None:
        """The most overdue pending delivery that no other sender holds, locked until the
        transaction ends (FOR UPDATE SKIP LOCKED: senders in parallel never take the same one).

        One account's emails to one address go out in the order of their events: a delivery
        waits while an older one of its account to the same address is still pending (being
        sent, or waiting out its backoff), so "we need more information" never overtakes "we
        received your request". An older one that ends `failed` no longer holds the others up,
        nor does one to another address (a confirmation email to a new address that is slow to
        accept it holds up nothing sent to the confirmed one)."""
        older = aliased(DeliveryRow)
        row = await self.session.scalar(
            select(DeliveryRow)
            .where(DeliveryRow.status == Status.PENDING, DeliveryRow.next_attempt_at <= now)
            .where(
                ~exists().where(
                    older.account_id == DeliveryRow.account_id,
                    older.recipient == DeliveryRow.recipient,
                    older.status == Status.PENDING,
                    older.created_at < DeliveryRow.created_at,
                )
            )
            .order_by(DeliveryRow.next_attempt_at, DeliveryRow.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        return self.uow.track(_delivery(row), self) if row else None

    async def save(self, delivery: Delivery) -> None:
        row = await self.session.get(DeliveryRow, delivery.id)
        if row is None:
            row = DeliveryRow(**{column: getattr(delivery.cause, attr) for column, attr in _CAUSE.items()})
            self.session.add(row)
        for f in _SAME:
            setattr(row, f, getattr(delivery, f))
        row.text_body, row.html_body, row.updated_at = delivery.text, delivery.html, self.uow.now

    async def page(
        self, *, account_id: str | None, status: Status | None, page: PageRequest, to_business: bool = True
    ) -> Slice[Delivery]:
        """Newest first; without the emails to the business unless `to_business`."""
        stmt = select(DeliveryRow).order_by(DeliveryRow.created_at.desc(), DeliveryRow.id)
        if not to_business:
            stmt = stmt.where(DeliveryRow.audience != Audience.BUSINESS)
        if account_id is not None:
            stmt = stmt.where(DeliveryRow.account_id == account_id)
        if status is not None:
            stmt = stmt.where(DeliveryRow.status == status)
        rows, total = await fetch_page(self.session, stmt, page)
        return Slice([_delivery(r) for r in rows], total, page.limit, page.offset)


class NotifyUnitOfWork(UnitOfWork):
    recipients = repository(RecipientRepository)
    deliveries = repository(DeliveryRepository)
    users = repository(UserRepository)
