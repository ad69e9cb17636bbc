from datetime import date
from decimal import Decimal

from portal_runtime.kernel import LANGUAGES, add_months, cents


def test_cents_round_half_up():
    assert cents(Decimal("0.625")) == Decimal("0.63") and cents(Decimal("0.624")) == Decimal("0.62")
    assert cents(Decimal("10.1")) == Decimal("10.10")


def test_add_months_keeps_the_day_or_takes_the_months_last():
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2027, 1, 31), 2) == date(2027, 3, 31)  # counted from the anchor
    assert add_months(date(2027, 11, 15), 3) == date(2028, 2, 15)
    assert add_months(date(2027, 5, 10), 24) == date(2029, 5, 10)


def test_the_four_languages():
    assert LANGUAGES == ("en", "tr", "de", "pl")
