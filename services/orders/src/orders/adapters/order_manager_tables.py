"""Orders' tables of the order manager, on orders' metadata (`orders.adapters.tables.Base`): an
order's shipments (their lines and tracking corrections) and each account's payment terms. The
orders row's own columns (payment_terms_days, public_note, private_note, awaiting_quantity) are in
`orders.adapters.tables.OrderRow`."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from orders.adapters.tables import Base


class ShipmentRow(Base):
    """A shipment of an order (`number` = the order's number and `seq`, one series per order)."""

    __tablename__ = "shipments"
    __table_args__ = (UniqueConstraint("order_id", "seq"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(48), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    carrier: Mapped[str | None] = mapped_column(String(100), nullable=True)
    tracking_number: Mapped[str | None] = mapped_column(String(100), nullable=True)
    tracking_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(200))
    shipped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    shipped_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ShipmentLineRow(Base):
    __tablename__ = "shipment_lines"

    shipment_id: Mapped[uuid.UUID] = mapped_column(
        UUID, ForeignKey("shipments.id", ondelete="CASCADE"), primary_key=True
    )
    line_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("order_lines.line_id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)


class ShipmentTrackingRow(Base):
    """A correction of a shipped shipment's tracking: when, who, the old and the new."""

    __tablename__ = "shipment_tracking_history"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    shipment_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("shipments.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    by: Mapped[str] = mapped_column(String(200))
    old_carrier: Mapped[str] = mapped_column(String(100))
    old_tracking_number: Mapped[str] = mapped_column(String(100))
    old_tracking_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    new_carrier: Mapped[str] = mapped_column(String(100))
    new_tracking_number: Mapped[str] = mapped_column(String(100))
    new_tracking_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)


class AccountTermsRow(Base):
    """An account's payment terms (days net; NULL: none, shipping waits for payment)."""

    __tablename__ = "account_terms"

    account_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    payment_terms_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    changed_by: Mapped[str] = mapped_column(String(200))
