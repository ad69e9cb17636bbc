"""Small facts every domain shares: money to the cent, calendar months, the languages we write
in. Standard library only, so that a domain package may import it (as it imports
`portal_runtime.errors` and `portal_runtime.lifecycle`)."""

from __future__ import annotations

import calendar
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
# The languages of the portal's emails and profiles (the contracts' `Language` names the same four).
LANGUAGES = ("en", "tr", "de", "pl")


def cents(amount: Decimal) -> Decimal:
    """Rounded half-up to the cent: 0.625 → 0.63 (Python's round() would give 0.62)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def add_months(day: date, months: int) -> date:
    """The same day `months` later; the month's last day when it is shorter (31 Jan + 1 → 28/29
    Feb). To keep an anchor day across short months, count from the anchor, not from the last
    result: add_months(31 Jan, 2) is 31 Mar, add_months(28 Feb, 1) would be 28 Mar."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
