"""The example item of catalog's tests, which the domain's and the use cases' tests both create:
a monthly service, given as the old single-price input (price + billing + period)."""

from __future__ import annotations

from decimal import Decimal

import pytest


@pytest.fixture
def seo_boost() -> dict:
    return {
        "sku": "SEO",
        "name": "SEO boost",
        "description": "",
        "price": Decimal("49.90"),
        "currency": "EUR",
        "billing": "recurring",
        "billing_period_months": 1,
    }
