"""Billing's tables of automatic unit plans (`billing.domain.plans`): one plan per account and the
history of its status moves. On billing's one metadata (`billing.adapters.tables.Base`), so the
migrations are checked against them with the other tables. No card number is stored anywhere:
the gateway's token, the brand and the last four digits only."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, Integer, Numeric, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from billing.adapters.tables import Base


class UnitPlanRow(Base):
    """One per account. Active plans are found by `ix_unit_plans_active` (the `unit-top-ups` job).
    `billing_address` and `billing_contact` are JSON objects as the domain's value objects read."""

    __tablename__ = "unit_plans"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'paused', 'off')", name="status_known"),
        CheckConstraint("threshold >= 0", name="threshold_non_negative"),
        CheckConstraint("monthly_cap IS NULL OR monthly_cap > 0", name="monthly_cap_positive"),
        CheckConstraint("declines_in_a_row >= 0", name="declines_non_negative"),
        Index("ix_unit_plans_active", "account_id", postgresql_where=text("status = 'active'")),
    )

    account_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    package_item_id: Mapped[uuid.UUID] = mapped_column(UUID)
    threshold: Mapped[int] = mapped_column(BigInteger)
    monthly_cap: Mapped[Decimal | None] = mapped_column(Numeric(14, 2), nullable=True)
    card_token: Mapped[str] = mapped_column(String(64))
    card_brand: Mapped[str] = mapped_column(String(16))
    card_last4: Mapped[str] = mapped_column(String(4))
    billing_address: Mapped[dict] = mapped_column(JSONB)
    billing_contact: Mapped[dict] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(16))
    paused_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    declines_in_a_row: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    capped_month: Mapped[str | None] = mapped_column(String(7), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class UnitPlanHistoryRow(Base):
    """The one history row shape (at, by, from_status, to_status, note) of a plan's moves: turned
    on, off, paused after declines (by `billing`), resumed by a new card."""

    __tablename__ = "unit_plan_history"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(200), ForeignKey("unit_plans.account_id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    by: Mapped[str] = mapped_column(String(200))
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
