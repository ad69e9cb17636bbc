"""Billing's tables of the account ledger (`billing.domain.ledger`) and of account payments
(advances), on billing's one metadata (`billing.adapters.tables.Base`)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, DateTime, Index, Numeric, String
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from billing.adapters.tables import Base

LEDGER_KINDS_SQL = "kind IN ('invoice', 'payment', 'advance_payment', 'credit_note', 'refund', 'void')"


class LedgerRow(Base):
    """One movement of what an account owes: one row per kind and document (`uq_account_ledger_document`:
    a record written twice writes once); read per account and currency in date order."""

    __tablename__ = "account_ledger"
    __table_args__ = (
        CheckConstraint("debit >= 0 AND credit >= 0", name="amounts_non_negative"),
        CheckConstraint(LEDGER_KINDS_SQL, name="kind_known"),
        Index("uq_account_ledger_document", "kind", "document_id", unique=True),
        Index("ix_account_ledger_account_id_currency_on", "account_id", "currency", "on"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    on: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(16))
    document_id: Mapped[uuid.UUID] = mapped_column(UUID)
    document_number: Mapped[str | None] = mapped_column(String(200), nullable=True)
    description: Mapped[str] = mapped_column(String(400))
    debit: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    credit: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    source_kind: Mapped[str | None] = mapped_column(String(32), nullable=True)
    source_id: Mapped[str | None] = mapped_column(String(200), nullable=True)


class OrderNumberRow(Base):
    """The number of an order billing invoiced (from OrderPlaced), for the balance by order."""

    __tablename__ = "order_numbers"

    order_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    number: Mapped[str] = mapped_column(String(64))


class AccountPaymentRow(Base):
    """Money an account paid, not for one invoice (recorded by the business), with what of it paid
    which invoice (`allocations`: [{invoice_id, invoice_number, amount, payment_id}])."""

    __tablename__ = "account_payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("advance >= 0 AND advance <= amount", name="advance_within"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(200), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    advance: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    method: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str | None] = mapped_column(String(200), nullable=True)
    received_on: Mapped[date] = mapped_column(Date)
    allocations: Mapped[list] = mapped_column(JSONB)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(200))
