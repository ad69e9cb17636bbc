"""Billing's tables of prepaid units (`billing.domain.units`): wallets, their ledger, the copy of
catalog's unit packages, and purchases. On billing's one metadata (`billing.adapters.tables.Base`),
so the migrations are checked against them with the invoice tables."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
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
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from billing.adapters.tables import Base


class UnitWalletRow(Base):
    """One per account, inserted on its first touch (ON CONFLICT DO NOTHING: only the inserting
    transaction records the initial grant) and locked FOR UPDATE by every change. `balance` is the
    sum of the account's ledger, `last_seq` its last entry's number."""

    __tablename__ = "unit_wallets"
    __table_args__ = (
        CheckConstraint("last_seq >= 0", name="last_seq_non_negative"),
        CheckConstraint("low_balance_at >= 0", name="low_balance_at_non_negative"),
    )

    account_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    balance: Mapped[int] = mapped_column(BigInteger)
    low_balance_at: Mapped[int] = mapped_column(BigInteger)
    last_seq: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class UnitLedgerRow(Base):
    """Every movement of a wallet, numbered 1, 2, ... per account without gaps (`uq_..._seq`).
    A usage id counts once per account (`uq_unit_ledger_usage`); a purchase is credited once
    (`uq_unit_ledger_purchase`)."""

    __tablename__ = "unit_ledger"
    __table_args__ = (
        UniqueConstraint("account_id", "seq", name="uq_unit_ledger_account_id_seq"),
        Index(
            "uq_unit_ledger_usage", "account_id", "usage_id", unique=True, postgresql_where=text("usage_id IS NOT NULL")
        ),
        Index("uq_unit_ledger_purchase", "purchase_id", unique=True, postgresql_where=text("purchase_id IS NOT NULL")),
        Index("ix_unit_ledger_account_id_kind_at", "account_id", "kind", "at"),
        CheckConstraint("kind IN ('granted', 'purchased', 'consumed', 'adjusted')", name="kind_known"),
        CheckConstraint("units <> 0", name="units_not_zero"),
    )

    entry_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(200), ForeignKey("unit_wallets.account_id"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    units: Mapped[int] = mapped_column(BigInteger)
    balance_after: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    usage_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    used_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    purchase_id: Mapped[uuid.UUID | None] = mapped_column(UUID, nullable=True)
    source: Mapped[str | None] = mapped_column(String(16), nullable=True)
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(UUID, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    by: Mapped[str | None] = mapped_column(String(200), nullable=True)


class UnitPackageRow(Base):
    """Billing's copy of catalog's unit packages (CatalogItemPublished of kind unit_package, at its
    latest `revision`); a retired one, or one whose kind changed, is no longer sold."""

    __tablename__ = "unit_packages"

    item_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    sku: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(400))
    units: Mapped[int] = mapped_column(BigInteger)
    price: Mapped[Decimal] = mapped_column(Numeric(14, 4))
    currency: Mapped[str] = mapped_column(String(3))
    revision: Mapped[int] = mapped_column(Integer)
    retired: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class UnitPurchaseRow(Base):
    """A purchase of packages (manual or plan) with its lines (JSON: item_id, sku, name, units,
    quantity, unit_price, amount), its one invoice and its outcome. Pending ones are found by
    `ix_unit_purchases_pending` (the plan's charger takes the oldest)."""

    __tablename__ = "unit_purchases"
    __table_args__ = (
        CheckConstraint("source IN ('manual', 'plan')", name="source_known"),
        CheckConstraint("status IN ('pending', 'completed', 'failed')", name="status_known"),
        Index("ix_unit_purchases_account_id_created_at", "account_id", "created_at"),
        Index("ix_unit_purchases_pending", "source", "created_at", postgresql_where=text("status = 'pending'")),
    )

    purchase_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lines: Mapped[list] = mapped_column(JSONB)
    units: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3))
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(UUID, nullable=True)
    invoice_number: Mapped[str | None] = mapped_column(String(32), nullable=True)
    card_brand: Mapped[str | None] = mapped_column(String(16), nullable=True)
    card_last4: Mapped[str | None] = mapped_column(String(4), nullable=True)
    attempt: Mapped[int | None] = mapped_column(Integer, nullable=True)
    bill_to: Mapped[dict | None] = mapped_column(JSONB, nullable=True)
    by: Mapped[str] = mapped_column(String(200))
    entry_id: Mapped[uuid.UUID | None] = mapped_column(UUID, nullable=True)
    balance_after: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
