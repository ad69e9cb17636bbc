"""How an invoice can be paid: card, bank transfer to the business's account with the invoice
number as reference, or PayPal."""

from __future__ import annotations

from dataclasses import dataclass

from billing.domain.invoices import Instruction


def iban_valid(iban: str) -> bool:
    """ISO 13616 check digits (mod 97)."""
    s = iban.replace(" ", "").upper()
    if not (15 <= len(s) <= 34 and s[:2].isalpha() and s[2:4].isdigit() and s.isalnum()):
        return False
    digits = "".join(str(int(ch, 36)) for ch in s[4:] + s[:4])
    return int(digits) % 97 == 1


@dataclass(frozen=True)
class Payee:
    """The business being paid (from settings)."""

    name: str
    iban: str
    bic: str
    paypal: str

    def __post_init__(self) -> None:
        if not iban_valid(self.iban):
            raise ValueError(f"the business IBAN {self.iban!r} fails its check digits")


def instructions_for(*, invoice_id: str, number: str, payee: Payee) -> list[Instruction]:
    return [
        Instruction(
            "card",
            {
                "how": f"POST /v1/invoices/{invoice_id}/payments with method card",
                "accepted": "visa, mastercard, amex",
            },
        ),
        Instruction(
            "bank_transfer",
            {
                "beneficiary": payee.name,
                "iban": payee.iban.replace(" ", "").upper(),
                "bic": payee.bic,
                "reference": number,
            },
        ),
        Instruction(
            "paypal",
            {
                "payee": payee.paypal,
                "reference": number,
            },
        ),
    ]
