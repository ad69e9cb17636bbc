"""Orders' tables of quotes: the quotes, their lines (the prices offered), their history and the
counter of their numbers (`Q-000001`), on orders' metadata (`orders.adapters.tables.Base`). No
foreign key to another area's tables: a quote names its order by id."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, DateTime, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from orders.adapters.tables import Base, _HistoryColumns


class QuoteRow(Base):
    __tablename__ = "quotes"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    account_id: Mapped[str] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    valid_until: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text)
    order_id: Mapped[uuid.UUID | None] = mapped_column(UUID, nullable=True, unique=True)  # the one order
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    expiring_noticed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class QuoteLineRow(Base):
    __tablename__ = "quote_lines"

    line_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    quote_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("quotes.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    item_id: Mapped[uuid.UUID] = mapped_column(UUID)
    sku: Mapped[str | None] = mapped_column(String(64), nullable=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    cycle: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3))


class QuoteHistoryRow(_HistoryColumns, Base):
    __tablename__ = "quote_history"

    quote_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("quotes.id", ondelete="CASCADE"), index=True)


class QuoteCounterRow(Base):
    """The last quote number; locked while the next is taken (a rollback gives it back: no gaps)."""

    __tablename__ = "quote_counters"

    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)
