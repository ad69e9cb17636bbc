"""Building blocks for orders' tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from orders.domain.offers import Offer

NOW = datetime(2026, 1, 31, 9, 30, tzinfo=UTC)


def offer(
    price: str = "10.00",
    currency: str = "EUR",
    *,
    billing: str = "recurring",
    months: int | None = 1,
    status: str = "offered",
    revision: int = 1,
    name: str = "SEO boost",
    item_id: uuid.UUID | None = None,
) -> Offer:
    return Offer(
        item_id=item_id or uuid.uuid4(),
        revision=revision,
        status=status,
        sku="SKU",
        name=name,
        price=Decimal(price),
        currency=currency,
        billing=billing,
        billing_period_months=months if billing == "recurring" else None,
    )


def published(
    item_id: uuid.UUID,
    *,
    revision: int = 1,
    price: str = "10.00",
    currency: str = "EUR",
    name: str = "SEO boost",
    billing: str = "recurring",
    months: int | None = 1,
):
    from portal_contracts import Money
    from portal_contracts.events.catalog import CatalogItemPublished

    return CatalogItemPublished(
        item_id=item_id,
        sku=f"SKU-{str(item_id)[:8]}",
        name=name,
        price=Money(amount=Decimal(price), currency=currency),
        billing=billing,
        billing_period_months=months if billing == "recurring" else None,
        revision=revision,
        published_at=NOW,
    )


def retired(item_id: uuid.UUID, *, revision: int = 2):
    from portal_contracts.events.catalog import CatalogItemRetired

    return CatalogItemRetired(item_id=item_id, revision=revision, retired_at=NOW)


def payment(request_id: uuid.UUID, account_id: str, amount: str = "10.00", currency: str = "EUR"):
    from portal_contracts import Money
    from portal_contracts.events.billing import PaymentConfirmed

    return PaymentConfirmed(
        invoice_id=uuid.uuid4(),
        number="INV-2026-0001",
        account_id=account_id,
        request_id=request_id,
        amount_paid=Money(amount=Decimal(amount), currency=currency),
        confirmed_at=NOW,
    )
