"""Catalog's tables and the mapping between rows and the domain."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import DateTime, ForeignKey, Integer, MetaData, Numeric, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from portal_runtime.db import NAMING


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ItemRow(Base):
    __tablename__ = "items"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    units: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_per_parent: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # a text per language while featured; SQL NULL (not JSON null) when not, so `IS NULL` finds it
    featured: Mapped[dict[str, str] | None] = mapped_column(JSONB(none_as_null=True), nullable=True)
    # [[name, value], ...]: a list, so the admin's order is kept (a JSONB object sorts its keys)
    attributes: Mapped[list[list[str]]] = mapped_column(JSONB, default=list, server_default="[]")
    tax_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 4), nullable=True)  # NULL: not taxed
    status: Mapped[str] = mapped_column(String(16), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ItemPriceRow(Base):
    """An item's price for one billing cycle (one per cycle); position 0 is the primary price."""

    __tablename__ = "item_prices"
    __table_args__ = (UniqueConstraint("item_id", "position"),)

    item_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)
    cycle: Mapped[str] = mapped_column(String(16), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    price: Mapped[Decimal] = mapped_column(Numeric(12, 2))


class ItemParentRow(Base):
    """A service item an add-on may be added to."""

    __tablename__ = "item_parents"

    item_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)
    parent_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("items.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer)
