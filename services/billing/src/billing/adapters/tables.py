"""Billing's tables."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from portal_runtime.db import NAMING


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class InvoiceCounterRow(Base):
    """The last number issued in a year; locked FOR UPDATE while the next one is taken, so the
    series has no gaps (a rolled-back issue gives its number back)."""

    __tablename__ = "invoice_counters"
    __table_args__ = (CheckConstraint("last_number >= 0", name="last_number_non_negative"),)

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer)


REQUEST_ID_SQL = "CASE WHEN source_kind = 'service_request' THEN source_id::uuid END"
ORDER_SOURCES_SQL = "source_kind IN ('order', 'renewal')"  # billing.domain.orders.ORDER_SOURCES


class InvoiceRow(Base):
    """One invoice per source, and per billing period where there is one: the unique index
    `uq_invoices_source` (NULLS NOT DISTINCT, so a source without a period has one invoice). An
    order has one invoice whatever its kind and period: `uq_invoices_order` (also how an order's
    invoice is found by the order's id)."""

    __tablename__ = "invoices"
    __table_args__ = (
        CheckConstraint("amount_paid >= 0 AND amount_paid <= total", name="paid_within_total"),
        CheckConstraint(
            "amount_credited >= 0 AND amount_paid + amount_credited <= total", name="credited_within_total"
        ),
        CheckConstraint("(period_start IS NULL) = (period_end IS NULL)", name="period_whole"),
        Index(
            "uq_invoices_source",
            "source_kind",
            "source_id",
            "period_start",
            "period_end",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
        Index(
            "uq_invoices_order",
            "source_id",
            unique=True,
            postgresql_where=text(ORDER_SOURCES_SQL),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    account_id: Mapped[str] = mapped_column(String(200), index=True)
    source_kind: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str] = mapped_column(String(200))
    period_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    period_end: Mapped[date | None] = mapped_column(Date, nullable=True)
    # Derived, for readers that know invoices by service request (SQL reports, the chaos test):
    # the source id of a service request's invoice, else NULL. Not unique; never written.
    request_id: Mapped[uuid.UUID | None] = mapped_column(UUID, Computed(REQUEST_ID_SQL, persisted=True))
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    amount_paid: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    # What credit notes took off what it owes (returned goods); balance due = total - paid - credited.
    amount_credited: Mapped[Decimal] = mapped_column(Numeric(14, 2), server_default=text("0"))
    status: Mapped[str] = mapped_column(String(16), index=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_on: Mapped[date] = mapped_column(Date)
    instructions: Mapped[list] = mapped_column(JSONB)
    # Whom it is addressed to, when not the account itself (a unit plan's billing contact and address).
    bill_to: Mapped[dict | None] = mapped_column(JSONB, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class InvoiceLineRow(Base):
    __tablename__ = "invoice_lines"

    invoice_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("invoices.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    line_id: Mapped[uuid.UUID] = mapped_column(UUID, unique=True)
    item_id: Mapped[uuid.UUID | None] = mapped_column(UUID, nullable=True)
    sku: Mapped[str | None] = mapped_column(String(100), nullable=True)
    description: Mapped[str] = mapped_column(String(400))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Numeric(14, 4))
    line_total: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(7, 6))
    tax_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    # An order's line: the client-area service and the period it pays for (end exclusive).
    subscription_id: Mapped[uuid.UUID | None] = mapped_column(UUID, nullable=True)
    period_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    period_end: Mapped[date | None] = mapped_column(Date, nullable=True)


class InvoiceHistoryRow(Base):
    """The one history row shape (at, by, from_status, to_status, note) of an invoice's moves
    that a payment does not record by itself: voiding (note: the reason)."""

    __tablename__ = "invoice_history"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    invoice_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("invoices.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    by: Mapped[str] = mapped_column(String(200))
    from_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    to_status: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class OrderCancellationRow(Base):
    """An order orders cancelled, kept whether or not its invoice exists yet (see
    `billing.domain.orders`): the invoice issued later for it is voided at once."""

    __tablename__ = "order_cancellations"

    order_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(32))
    cancelled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # From the order manager on: the order's number, an admin's reason text, how money paid goes
    # back (refund | credit: the credit note's settlement), who cancelled it.
    number: Mapped[str | None] = mapped_column(String(64), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    settlement: Mapped[str | None] = mapped_column(String(16), nullable=True)
    cancelled_by: Mapped[str | None] = mapped_column(String(200), nullable=True)


class PaymentRow(Base):
    """A payment that moved money. No card number: brand and last four digits at most."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        UniqueConstraint("invoice_id", "position", name="uq_payments_invoice_id_position"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    invoice_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("invoices.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 1, 2, … in the order the invoice took them
    method: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3))
    payer_reference: Mapped[str] = mapped_column(String(200))
    card_brand: Mapped[str | None] = mapped_column(String(16), nullable=True)
    card_last4: Mapped[str | None] = mapped_column(String(4), nullable=True)
    gateway_reference: Mapped[str | None] = mapped_column(String(100), nullable=True)
    recorded_by: Mapped[str] = mapped_column(String(200))
    paid_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PaymentReservationRow(Base):
    """An amount held on an invoice while its payment's money moves (the gateway is asked outside
    the transaction that locks the invoice): counted as taken until recorded or released."""

    __tablename__ = "payment_reservations"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    invoice_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("invoices.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    method: Mapped[str] = mapped_column(String(16))
    reserved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
