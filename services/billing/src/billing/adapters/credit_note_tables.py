"""Billing's tables of credit notes (`billing.domain.credit_notes`): the notes with their lines, the
refunds they record, their own number series, and the accounts' credit ledger. On billing's one
metadata (`billing.adapters.tables.Base`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from billing.adapters.tables import Base


class CreditNoteCounterRow(Base):
    """The last credit note number of a year (CN-<year>-<n>), locked FOR UPDATE while the next is
    taken: gapless, as the invoices' series."""

    __tablename__ = "credit_note_counters"
    __table_args__ = (CheckConstraint("last_number >= 0", name="last_number_non_negative"),)

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer)


class CreditNoteRow(Base):
    """One credit note per reason and cause (`uq_credit_notes_reason`: a cancelled order's id, so a
    cancellation told twice credits once)."""

    __tablename__ = "credit_notes"
    __table_args__ = (
        UniqueConstraint("reason", "cause_id", name="uq_credit_notes_reason"),
        CheckConstraint("total + tax_total > 0", name="total_positive"),
        CheckConstraint(
            "applied >= 0 AND refunded >= 0 AND credited >= 0 AND applied + refunded + credited = total + tax_total",
            name="settled_within",
        ),
        CheckConstraint("settlement IN ('refund', 'credit')", name="settlement_known"),
        Index("ix_credit_notes_source", "source_kind", "source_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    invoice_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("invoices.id"), index=True)
    invoice_number: Mapped[str] = mapped_column(String(32))
    account_id: Mapped[str] = mapped_column(String(200), index=True)
    source_kind: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    tax_total: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    reason: Mapped[str] = mapped_column(String(32))
    cause_id: Mapped[str] = mapped_column(String(200))
    settlement: Mapped[str] = mapped_column(String(16))
    refunded: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    credited: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    issued_by: Mapped[str] = mapped_column(String(200))
    # What it took off the invoice's balance due (returned goods; 0 for a cancelled order's).
    applied: Mapped[Decimal] = mapped_column(Numeric(14, 2), server_default=text("0"))
    rma_id: Mapped[uuid.UUID | None] = mapped_column(UUID, nullable=True)
    receipt_id: Mapped[uuid.UUID | None] = mapped_column(UUID, nullable=True)
    receipt_number: Mapped[str | None] = mapped_column(String(32), nullable=True)


class CreditNoteLineRow(Base):
    """A credited quantity of an invoice line (`invoice_line_id`), or of payments (NULL)."""

    __tablename__ = "credit_note_lines"
    __table_args__ = (CheckConstraint("quantity >= 1", name="quantity_positive"),)

    credit_note_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("credit_notes.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    line_id: Mapped[uuid.UUID] = mapped_column(UUID, unique=True)
    invoice_line_id: Mapped[uuid.UUID | None] = mapped_column(UUID, nullable=True, index=True)
    description: Mapped[str] = mapped_column(String(400))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Numeric(14, 4))
    line_total: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(7, 6))
    tax: Mapped[Decimal] = mapped_column(Numeric(14, 2))


class RefundRow(Base):
    """Money a credit note sends back to the payer of one payment (recorded; no gateway payout)."""

    __tablename__ = "refunds"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    credit_note_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("credit_notes.id"), index=True)
    payment_id: Mapped[uuid.UUID | None] = mapped_column(UUID, ForeignKey("payments.id"), nullable=True)
    method: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3))
    payer_reference: Mapped[str] = mapped_column(String(200))
    refunded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AccountCreditRow(Base):
    """An account's credit ledger, per currency: a credit note adds once (`uq_account_credits_note`);
    the balance is the sum of the account's rows in that currency."""

    __tablename__ = "account_credits"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        CheckConstraint("kind IN ('credit_note', 'advance', 'allocation')", name="kind_known"),
        Index("ix_account_credits_account_id_currency", "account_id", "currency"),
        Index(
            "uq_account_credits_note",
            "credit_note_id",
            unique=True,
            postgresql_where=text("kind = 'credit_note'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    kind: Mapped[str] = mapped_column(String(16))
    credit_note_id: Mapped[uuid.UUID | None] = mapped_column(UUID, ForeignKey("credit_notes.id"), nullable=True)
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(UUID, nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
