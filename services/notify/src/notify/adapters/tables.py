"""Notify's tables: its copy of recipients (with the confirmed address and the confirmation asked
for), and the deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, MetaData, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from portal_runtime.db import NAMING


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class RecipientRow(Base):
    __tablename__ = "recipients"

    account_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)  # the confirmed address
    language: Mapped[str] = mapped_column(String(2))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # The newest address asked for and its token's SHA-256 (never the token).
    confirmation_email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    confirmation_token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    confirmation_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    confirmation_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    confirmation_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class DeliveryRow(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
        Index("ix_deliveries_account_created", "account_id", "created_at"),
        # one email per event and audience (the account; an automatic plan's billing contact)
        UniqueConstraint("cause_event_id", "audience", name="uq_deliveries_cause_audience"),
        # one email per thing told (an order's v1 and v2 are one "order received"), and audience
        UniqueConstraint("dedup_key", "audience", name="uq_deliveries_dedup_key_audience"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(200))
    template: Mapped[str] = mapped_column(String(64))
    cause_event_id: Mapped[uuid.UUID] = mapped_column(UUID)
    audience: Mapped[str] = mapped_column(String(32))
    # The cause as it came, so a delivery waiting for its recipient can be rendered later.
    cause_type: Mapped[str] = mapped_column(String(200))
    cause_version: Mapped[int] = mapped_column(Integer)
    cause_payload: Mapped[dict] = mapped_column(JSONB)
    correlation_id: Mapped[uuid.UUID] = mapped_column(UUID)
    # The trace context the cause was handled in (traceparent, tracestate): the send continues it.
    trace_context: Mapped[dict | None] = mapped_column(JSONB, nullable=True)
    status: Mapped[str] = mapped_column(String(32), index=True)
    attempts: Mapped[int] = mapped_column(Integer)
    recipient: Mapped[str | None] = mapped_column(String(320), nullable=True)
    language: Mapped[str | None] = mapped_column(String(2), nullable=True)
    subject: Mapped[str | None] = mapped_column(Text, nullable=True)
    text_body: Mapped[str | None] = mapped_column(Text, nullable=True)
    html_body: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # A confirmation email's token until the email is sent (the rendering holds a slot for it).
    secret: Mapped[str | None] = mapped_column(Text, nullable=True)
    dedup_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # A user's email waiting for its address to be confirmed: the address it will go to then.
    pending_address: Mapped[str | None] = mapped_column(String(320), nullable=True)


class UserRow(Base):
    """notify's copy of a customer account's user (orders.users) and the address it proved."""

    __tablename__ = "users"
    __table_args__ = (Index("ix_users_account_login", "account_id", "login"),)

    user_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(200))
    login: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))  # the newest address the user gave
    language: Mapped[str] = mapped_column(String(2))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    confirmed_email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    confirmation_email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    confirmation_token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    confirmation_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    confirmation_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    confirmation_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
