"""Orders' table of the documents issued to customers (`documents`), on orders' metadata
(`orders.adapters.tables.Base`). `id` = uuid5 of the kind and the source's id, so a redelivered event
writes once; `body` is what the document's PDF needs (the event's data, JSON)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import DateTime, Index, Numeric, String
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from orders.adapters.tables import Base


class DocumentRow(Base):
    __tablename__ = "documents"
    __table_args__ = (Index("ix_documents_account_issued", "account_id", "issued_at"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    number: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    title: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2), nullable=True)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    body: Mapped[dict] = mapped_column(JSONB)
    source_id: Mapped[str] = mapped_column(String(200))
