"""Orders' tables of order threads (`order_messages`) and of orders' copy of each order's invoice
(`invoice_documents`: what billing's InvoiceIssued v2 said, for printing), on orders' metadata
(`orders.adapters.tables.Base`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import DateTime, ForeignKey, Index, Integer, Numeric, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from orders.adapters.tables import Base


class OrderMessageRow(Base):
    """One message of an order's thread: `position` 0, 1, ... in the order posted (the thread is read
    by it; a post locks the order row, so two at once take the next two)."""

    __tablename__ = "order_messages"
    __table_args__ = (Index("uq_order_messages_thread", "order_id", "position", unique=True),)

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("orders.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    account_id: Mapped[str] = mapped_column(String(200), index=True)
    side: Mapped[str] = mapped_column(String(16))
    author: Mapped[str] = mapped_column(String(401))
    author_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    body: Mapped[str] = mapped_column(Text)
    posted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class InvoiceDocumentRow(Base):
    """Billing's invoice of an order as InvoiceIssued v2 told it (`payload`: the event's data),
    voided by InvoiceVoided; `amount_paid` as billing's payment events last said (never down);
    `credits` what each credit note took off what it owed (CreditNoteIssued.applied, by credit note id)."""

    __tablename__ = "invoice_documents"

    invoice_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # issued | voided
    payload: Mapped[dict] = mapped_column(JSONB)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    amount_paid: Mapped[Decimal | None] = mapped_column(Numeric(14, 2), nullable=True)
    credits: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
