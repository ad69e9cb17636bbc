"""The sandbox payment gateway's tables (`billing.adapters.gateway`): what a provider would keep
on its side, kept in billing's database only because the sandbox stands in for that provider.
Billing's own code never reads them; tests do, to count the charges that moved money."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, DateTime, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from billing.adapters.tables import Base


class SandboxChargeRow(Base):
    """One answer per idempotency key: the first request with a key inserts it, every later one
    (from any process) reads it. An approved row is money that moved."""

    __tablename__ = "gateway_sandbox_charges"

    idempotency_key: Mapped[str] = mapped_column(String(300), primary_key=True)
    approved: Mapped[bool] = mapped_column(Boolean)
    reference: Mapped[str | None] = mapped_column(String(100), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    method: Mapped[str] = mapped_column(String(16))  # card | saved_card | paypal
    brand: Mapped[str | None] = mapped_column(String(16), nullable=True)
    last4: Mapped[str | None] = mapped_column(String(4), nullable=True)
    amount: Mapped[Decimal] = mapped_column(Numeric)
    currency: Mapped[str] = mapped_column(String(3))
    description: Mapped[str] = mapped_column(Text)
    charged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class SandboxCardRow(Base):
    """A saved card: its token, brand and last four digits, and the decline reason of the test
    number it was saved from (NULL: it approves). Never the number, never the cvc."""

    __tablename__ = "gateway_sandbox_cards"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    brand: Mapped[str] = mapped_column(String(16))
    last4: Mapped[str] = mapped_column(String(4))
    decline_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    saved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
