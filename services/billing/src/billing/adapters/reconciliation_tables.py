"""Billing's tables of reconciliation statements (`billing.domain.reconciliation`): the statements
with their figures and entries as issued, their history and their own number series. On billing's
one metadata (`billing.adapters.tables.Base`)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from billing.adapters.tables import Base


class StatementCounterRow(Base):
    """The last statement number of a year (ST-<year>-<n>), locked FOR UPDATE while the next is taken."""

    __tablename__ = "statement_counters"
    __table_args__ = (CheckConstraint("last_number >= 0", name="last_number_non_negative"),)

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer)


class StatementRow(Base):
    __tablename__ = "statements"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'confirmed', 'disputed')", name="status_known"),
        CheckConstraint("period_end >= period_start", name="period_ordered"),
        Index("ix_statements_account_id_issued_at", "account_id", "issued_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    account_id: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    opening_balance: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    debits: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    credits: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    closing_balance: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    entries: Mapped[list] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(16), index=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    issued_by: Mapped[str] = mapped_column(String(200))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    answered_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    dispute_note: Mapped[str | None] = mapped_column(Text, nullable=True)


class StatementHistoryRow(Base):
    __tablename__ = "statement_history"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    statement_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("statements.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    by: Mapped[str] = mapped_column(String(200))
    from_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    to_status: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
