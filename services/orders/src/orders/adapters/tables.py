"""Orders' tables."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Integer, MetaData, Numeric, String, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from portal_runtime.db import NAMING


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class OfferedItemRow(Base):
    """The local copy of catalog items (highest revision seen). A retirement seen before any
    publication leaves a row with no name or price."""

    __tablename__ = "offered_items"

    item_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    sku: Mapped[str | None] = mapped_column(String(64), nullable=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    price: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), nullable=True)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    billing: Mapped[str | None] = mapped_column(String(16), nullable=True)
    billing_period_months: Mapped[int | None] = mapped_column(Integer, nullable=True)
    kind: Mapped[str] = mapped_column(String(16), default="service")
    prices: Mapped[list] = mapped_column(JSONB, default=list)  # [{"cycle", "price"}], the primary one first
    units: Mapped[int | None] = mapped_column(Integer, nullable=True)
    parents: Mapped[list] = mapped_column(JSONB, default=list)  # an add-on's service item ids
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ProfileRow(Base):
    __tablename__ = "account_profiles"

    account_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(2))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RequestRow(Base):
    __tablename__ = "service_requests"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, index=True)
    total: Mapped[Decimal | None] = mapped_column(Numeric(14, 2), nullable=True)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)


class RequestLineRow(Base):
    """One line; name and price are filled at submission (null while a draft)."""

    __tablename__ = "request_lines"

    request_id: Mapped[uuid.UUID] = mapped_column(
        UUID, ForeignKey("service_requests.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    unit_price: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), nullable=True)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    billing: Mapped[str | None] = mapped_column(String(16), nullable=True)
    billing_period_months: Mapped[int | None] = mapped_column(Integer, nullable=True)


class _HistoryColumns:
    """The one history row shape: at, by, from_status, to_status, note."""

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    by: Mapped[str] = mapped_column(String(200))
    from_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    to_status: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class RequestHistoryRow(_HistoryColumns, Base):
    __tablename__ = "request_history"

    request_id: Mapped[uuid.UUID] = mapped_column(
        UUID, ForeignKey("service_requests.id", ondelete="CASCADE"), index=True
    )


class SubscriptionRow(Base):
    __tablename__ = "subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(200), index=True)
    request_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("service_requests.id"), index=True)
    item_id: Mapped[uuid.UUID] = mapped_column(UUID)
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3))
    billing: Mapped[str] = mapped_column(String(16))
    billing_period_months: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    activated_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    anchor_on: Mapped[date | None] = mapped_column(Date, nullable=True)  # the billing cycle's anchor
    next_due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SubscriptionHistoryRow(_HistoryColumns, Base):
    __tablename__ = "subscription_history"

    subscription_id: Mapped[uuid.UUID] = mapped_column(
        UUID, ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True
    )
