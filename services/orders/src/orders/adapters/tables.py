"""Orders' tables: the catalog copy, profiles, the seller flow's requests, and the client area's
carts, orders (with their invoice link) and services (subscriptions)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer, MetaData, Numeric, String, Text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from portal_runtime.db import NAMING


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class OfferedItemRow(Base):
    """The local copy of catalog items (highest revision seen). A retirement seen before any
    publication leaves a row with no name or price."""

    __tablename__ = "offered_items"

    item_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    sku: Mapped[str | None] = mapped_column(String(64), nullable=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    price: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), nullable=True)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    billing: Mapped[str | None] = mapped_column(String(16), nullable=True)
    billing_period_months: Mapped[int | None] = mapped_column(Integer, nullable=True)
    kind: Mapped[str] = mapped_column(String(16), default="service")
    prices: Mapped[list] = mapped_column(JSONB, default=list)  # [{"cycle", "price"}], the primary one first
    units: Mapped[int | None] = mapped_column(Integer, nullable=True)
    parents: Mapped[list] = mapped_column(JSONB, default=list)  # an add-on's service item ids
    # {en, tr, de, pl} while an admin features the item; SQL NULL otherwise
    featured: Mapped[dict | None] = mapped_column(JSONB(none_as_null=True), nullable=True)
    max_per_parent: Mapped[int | None] = mapped_column(Integer, nullable=True, default=1)  # None: no limit
    tax_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 4), nullable=True)  # NULL: not taxed
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ProfileRow(Base):
    __tablename__ = "account_profiles"

    account_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(2))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RequestRow(Base):
    __tablename__ = "service_requests"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, index=True)
    total: Mapped[Decimal | None] = mapped_column(Numeric(14, 2), nullable=True)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)


class RequestLineRow(Base):
    """One line; name and price are filled at submission (null while a draft)."""

    __tablename__ = "request_lines"

    request_id: Mapped[uuid.UUID] = mapped_column(
        UUID, ForeignKey("service_requests.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    unit_price: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), nullable=True)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    billing: Mapped[str | None] = mapped_column(String(16), nullable=True)
    billing_period_months: Mapped[int | None] = mapped_column(Integer, nullable=True)


class _HistoryColumns:
    """The one history row shape: at, by, from_status, to_status, note."""

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    by: Mapped[str] = mapped_column(String(200))
    from_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    to_status: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class RequestHistoryRow(_HistoryColumns, Base):
    __tablename__ = "request_history"

    request_id: Mapped[uuid.UUID] = mapped_column(
        UUID, ForeignKey("service_requests.id", ondelete="CASCADE"), index=True
    )


class SubscriptionRow(Base):
    __tablename__ = "subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(200), index=True)
    # the seller flow's request, or the client area's order that bought it
    request_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID, ForeignKey("service_requests.id"), nullable=True, index=True
    )
    order_id: Mapped[uuid.UUID | None] = mapped_column(UUID, ForeignKey("orders.id"), nullable=True, index=True)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(  # an add-on's parent service
        UUID, ForeignKey("subscriptions.id"), nullable=True, index=True
    )
    item_id: Mapped[uuid.UUID] = mapped_column(UUID)
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3))
    billing: Mapped[str] = mapped_column(String(16))
    billing_period_months: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    activated_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    anchor_on: Mapped[date | None] = mapped_column(Date, nullable=True)  # the billing cycle's anchor
    next_due_on: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    domain: Mapped[str | None] = mapped_column(String(253), nullable=True)
    cycle: Mapped[str | None] = mapped_column(String(16), nullable=True)
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, default=False)
    suspend_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)


class SubscriptionHistoryRow(_HistoryColumns, Base):
    __tablename__ = "subscription_history"

    subscription_id: Mapped[uuid.UUID] = mapped_column(
        UUID, ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True
    )


class ServiceReminderRow(Base):
    """An overdue reminder sent: once per service and due date."""

    __tablename__ = "service_reminders"

    subscription_id: Mapped[uuid.UUID] = mapped_column(
        UUID, ForeignKey("subscriptions.id", ondelete="CASCADE"), primary_key=True
    )
    due_on: Mapped[date] = mapped_column(Date, primary_key=True)
    reminded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# -- the client area: carts and orders -------------------------------------------------------
class CartRow(Base):
    """One open cart per account (the unique account_id)."""

    __tablename__ = "carts"

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reordered_from: Mapped[uuid.UUID | None] = mapped_column(UUID, nullable=True)  # the order a reorder copied


class CartLineRow(Base):
    __tablename__ = "cart_lines"

    line_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    cart_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("carts.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[uuid.UUID] = mapped_column(UUID)
    cycle: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    subscription_id: Mapped[uuid.UUID | None] = mapped_column(UUID, nullable=True)  # None: goods
    parent_subscription_id: Mapped[uuid.UUID | None] = mapped_column(UUID, nullable=True)
    domain: Mapped[str | None] = mapped_column(String(253), nullable=True)
    period_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    quantity: Mapped[int] = mapped_column(Integer, server_default="1")


class OrderCounterRow(Base):
    """The last order number of a year; locked while the next is taken (a rollback gives it back)."""

    __tablename__ = "order_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer)


class OrderRow(Base):
    __tablename__ = "orders"

    __table_args__ = (
        # One order per channel order, however often the channel's event arrives.
        Index("uq_orders_channel_order", "channel", "channel_order_id", unique=True),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    account_id: Mapped[str] = mapped_column(String(200), index=True)
    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    placed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    placed_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    cancel_reason: Mapped[str | None] = mapped_column(String(16), nullable=True)
    placed_by: Mapped[str | None] = mapped_column(String(401), nullable=True)
    quote_id: Mapped[uuid.UUID | None] = mapped_column(UUID, nullable=True, unique=True)
    reordered_from: Mapped[uuid.UUID | None] = mapped_column(UUID, nullable=True)
    channel: Mapped[str | None] = mapped_column(String(100), nullable=True)
    channel_order_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    customer_reference: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # the three statuses with their times (orders.domain.b2b_orders)
    checkout_status: Mapped[str] = mapped_column(String(16), server_default="completed")
    checkout_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    payment_status: Mapped[str] = mapped_column(String(16), server_default="not_submitted", index=True)
    payment_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    shipping_status: Mapped[str] = mapped_column(String(20), server_default="not_applicable", index=True)
    shipping_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # the order manager (orders.adapters.order_manager_tables): terms when placed, notes, what awaits shipping
    payment_terms_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    public_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    private_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    awaiting_quantity: Mapped[int] = mapped_column(Integer, server_default="0")


class OrderLineRow(Base):
    """An order's line. `claimed_period` is a renewal line's period_start while its order is not
    cancelled (None otherwise): the unique index on (subscription_id, claimed_period) is the
    database's guarantee that no service period is ever on two live orders, however often or
    wherever the renewal job or a checkout runs (NULLs are distinct, so other lines never clash)."""

    __tablename__ = "order_lines"
    __table_args__ = (Index("uq_order_lines_renewal_claim", "subscription_id", "claimed_period", unique=True),)

    line_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[uuid.UUID] = mapped_column(UUID)
    sku: Mapped[str | None] = mapped_column(String(64), nullable=True)
    name: Mapped[str] = mapped_column(String(200))
    cycle: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3))
    subscription_id: Mapped[uuid.UUID | None] = mapped_column(UUID, nullable=True)
    parent_subscription_id: Mapped[uuid.UUID | None] = mapped_column(UUID, nullable=True)
    domain: Mapped[str | None] = mapped_column(String(253), nullable=True)
    period_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    period_end: Mapped[date | None] = mapped_column(Date, nullable=True)
    tax_rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 4), nullable=True)  # the item's when placed; NULL: 0
    claimed_period: Mapped[date | None] = mapped_column(Date, nullable=True)


class OrderHistoryRow(_HistoryColumns, Base):
    __tablename__ = "order_history"

    order_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("orders.id", ondelete="CASCADE"), index=True)


class OrderInvoiceRow(Base):
    """Billing's invoice of an order, as orders hears of it: InvoiceIssued v2 (source_kind order or
    renewal) makes it, PaymentConfirmed marks it paid, InvoiceVoided voided."""

    __tablename__ = "order_invoices"

    invoice_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(UUID, ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # issued | partially_paid | paid | voided
    total: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3))
    due_on: Mapped[date] = mapped_column(Date)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# The tables of the users (with their history, set-password links and login failures), the quotes
# (lines, history, number counter), orders' copy of catalog's access groups, support requests and
# companies' contact details, on this metadata.
# Also order threads and invoice documents (message_tables), shipments and payment terms (order_manager_tables).
from orders.adapters import (  # noqa: E402, F401
    access_tables,
    document_tables,
    message_tables,
    order_manager_tables,
    quote_tables,
    support_tables,
    users_tables,
)
