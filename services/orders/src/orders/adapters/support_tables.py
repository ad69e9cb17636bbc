"""Orders' tables of support requests (with their messages and history) and of companies' contact
details, on orders' metadata (`orders.adapters.tables.Base`)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, Sequence, String, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from orders.adapters.tables import Base, _HistoryColumns

# `SR-000001`: a number is never given twice (a request rolled back leaves a gap: it was never seen).
SUPPORT_NUMBERS = Sequence("support_request_numbers", metadata=Base.metadata)


class SupportRequestRow(Base):
    __tablename__ = "support_requests"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    account_id: Mapped[str] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    order_id: Mapped[uuid.UUID | None] = mapped_column(UUID, nullable=True)
    sender_login: Mapped[str] = mapped_column(String(200))
    sender_name: Mapped[str] = mapped_column(String(200))
    sender_email: Mapped[str] = mapped_column(String(320))
    sender_language: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SupportMessageRow(Base):
    __tablename__ = "support_messages"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    request_id: Mapped[uuid.UUID] = mapped_column(
        UUID, ForeignKey("support_requests.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    side: Mapped[str] = mapped_column(String(16))
    by: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SupportHistoryRow(_HistoryColumns, Base):
    __tablename__ = "support_history"

    request_id: Mapped[uuid.UUID] = mapped_column(
        UUID, ForeignKey("support_requests.id", ondelete="CASCADE"), index=True
    )


class CompanyRow(Base):
    """A customer company's contact details, as its users or an admin last set them."""

    __tablename__ = "companies"

    account_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    details: Mapped[dict] = mapped_column(JSONB)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    changed_by: Mapped[str] = mapped_column(String(200))


class CompanyHistoryRow(Base):
    """Every change of a company's details: who, when, and the details it set."""

    __tablename__ = "company_history"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(200), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    by: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict] = mapped_column(JSONB)
