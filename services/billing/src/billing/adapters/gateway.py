"""The payment gateway behind card and PayPal payments, and a sandbox that behaves like a
provider's test mode.

Charges carry an idempotency key: asking again with the same key returns the first result and
moves no more money (a real provider keeps these; so does the sandbox, per process)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from billing.domain.cards import Card


@dataclass(frozen=True)
class GatewayResult:
    approved: bool
    reference: str | None = None
    reason: str | None = None


class PaymentGateway(Protocol):
    async def charge_card(
        self, *, card: Card, amount: Decimal, currency: str, description: str, idempotency_key: str
    ) -> GatewayResult: ...

    async def charge_paypal(
        self, *, payer: str, amount: Decimal, currency: str, description: str, idempotency_key: str
    ) -> GatewayResult: ...


# Test numbers in the style of the big providers' test modes.
DECLINING_CARDS = {
    "4000000000000002": "card_declined",
    "4000000000009995": "insufficient_funds",
    "4000000000000069": "expired_card",
    "4000000000000119": "processing_error",
}
DECLINING_PAYPAL = {"declined@paypal.example": "payer_action_required"}


class SandboxGateway:
    """Approves every valid card except the declining test numbers (4242424242424242 approves,
    4000000000000002 declines); PayPal approves every payer except declined@paypal.example.
    Keeps brand and last four digits only."""

    def __init__(self) -> None:
        self._results: dict[str, GatewayResult] = {}
        self.charges: list[dict[str, str]] = []  # what a provider's dashboard would show

    async def charge_card(
        self, *, card: Card, amount: Decimal, currency: str, description: str, idempotency_key: str
    ) -> GatewayResult:
        reason = DECLINING_CARDS.get(card.number)
        return self._charge(
            idempotency_key,
            reason,
            {"method": "card", "brand": card.brand, "last4": card.last4, "amount": str(amount), "currency": currency},
        )

    async def charge_paypal(
        self, *, payer: str, amount: Decimal, currency: str, description: str, idempotency_key: str
    ) -> GatewayResult:
        reason = DECLINING_PAYPAL.get(payer.strip().lower())
        return self._charge(
            idempotency_key, reason, {"method": "paypal", "payer": payer, "amount": str(amount), "currency": currency}
        )

    def _charge(self, key: str, reason: str | None, record: dict[str, str]) -> GatewayResult:
        if key in self._results:
            return self._results[key]
        if reason:
            result = GatewayResult(approved=False, reason=reason)
        else:
            result = GatewayResult(approved=True, reference=f"sbx_{uuid.uuid4().hex[:16]}")
            self.charges.append(record)
        self._results[key] = result
        return result
