"""Returns' tables: the invoices goods may be returned against, RMAs, their lines and history."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Integer, MetaData, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from portal_runtime.db import NAMING


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ReturnableInvoiceRow(Base):
    """Billing's issued invoices, kept locally from InvoiceIssued (lines: line_id, description,
    sku, quantity; line_id and sku null on copies from version 1 without them)."""

    __tablename__ = "returnable_invoices"
    # A number is billing's to keep unique; here it is looked up within its account, and a copy
    # never refuses an invoice over another account's number.
    __table_args__ = (UniqueConstraint("account_id", "number", name="uq_returnable_invoices_account_id_number"),)

    invoice_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    number: Mapped[str] = mapped_column(String(100))
    account_id: Mapped[str] = mapped_column(String(200), index=True)
    lines: Mapped[list] = mapped_column(JSONB)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source_kind: Mapped[str | None] = mapped_column(String(40), nullable=True)  # from InvoiceIssued v2
    source_id: Mapped[str | None] = mapped_column(String(200), nullable=True)


class RmaRow(Base):
    __tablename__ = "rmas"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(200), index=True)
    invoice_number: Mapped[str] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    reject_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True, nullable=True)
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(UUID, nullable=True)
    problem: Mapped[str | None] = mapped_column(Text, nullable=True)
    resolution: Mapped[str | None] = mapped_column(String(16), nullable=True)
    expected_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RmaLineRow(Base):
    __tablename__ = "rma_lines"

    rma_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("rmas.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(String(500))  # the invoice line's description
    line_id: Mapped[uuid.UUID | None] = mapped_column(UUID, nullable=True)  # the invoice line's id
    quantity: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    received: Mapped[int] = mapped_column(Integer, default=0)  # what goods receipts recorded so far


class RmaHistoryRow(Base):
    """Every status change of an RMA: from, to, who, when, why. In the domain's history row
    (`portal_runtime.lifecycle.Transition`) `actor` is `by` and `reason` is `note`."""

    __tablename__ = "rma_history"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    rma_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("rmas.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class NumberCounterRow(Base):
    """The last number of a year's series (`RMA`, `GR`); locked while the next is taken (a rollback
    gives it back)."""

    __tablename__ = "number_counters"

    series: Mapped[str] = mapped_column(String(8), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer)


class ShippedLineRow(Base):
    """How many of an order line have shipped (the highest `shipped` OrderShipped told)."""

    __tablename__ = "shipped_lines"

    order_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    line_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    shipped: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class GoodsReceiptRow(Base):
    __tablename__ = "goods_receipts"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    rma_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("rmas.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[str] = mapped_column(String(200), index=True)
    lines: Mapped[list] = mapped_column(JSONB)  # [{line_id, description, quantity}]
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_by: Mapped[str] = mapped_column(String(200))
