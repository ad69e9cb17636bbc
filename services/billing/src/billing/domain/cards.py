"""Card details as far as billing may know them: checked (Luhn, expiry), never kept. Only the
brand and the last four digits leave this module."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from portal_runtime.errors import InvalidInput


def luhn_valid(number: str) -> bool:
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def brand_of(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in ("34", "37"):
        return "amex"
    if 51 <= int(number[:2]) <= 55 or 2221 <= int(number[:4]) <= 2720:
        return "mastercard"
    return "other"


@dataclass(frozen=True)
class Card:
    """A card as given for one charge. `number` and `cvc` are kept out of repr() so that a
    logged object never shows them."""

    number: str = field(repr=False)
    expiry_month: int
    expiry_year: int
    cvc: str = field(repr=False)

    @classmethod
    def parse(cls, *, number: str, expiry_month: int, expiry_year: int, cvc: str, today: date) -> Card:
        digits = number.replace(" ", "").replace("-", "")
        if not luhn_valid(digits):
            raise InvalidInput("the card number is not valid", field="card.number")
        if not 1 <= expiry_month <= 12:
            raise InvalidInput("expiry month must be 1 to 12", field="card.expiry_month")
        if (expiry_year, expiry_month) < (today.year, today.month):
            raise InvalidInput("the card has expired", field="card.expiry_year")
        if not (cvc.isdigit() and len(cvc) in (3, 4)):
            raise InvalidInput("cvc must be 3 or 4 digits", field="card.cvc")
        return cls(number=digits, expiry_month=expiry_month, expiry_year=expiry_year, cvc=cvc)

    @property
    def brand(self) -> str:
        return brand_of(self.number)

    @property
    def last4(self) -> str:
        return self.number[-4:]
