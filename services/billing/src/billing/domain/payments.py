"""Rules of a payment request before any money moves: who may pay how, what a card payment
needs, and what makes two payment requests "the same" for an Idempotency-Key (the key's claim,
stored answer and replay are the runtime's: `portal_runtime.idempotency`)."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal

from billing.domain.cards import Card
from billing.domain.invoices import METHODS
from portal_runtime.errors import DomainError, InvalidInput

IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200


class Forbidden(DomainError):
    """The caller may not do this (names the field that makes it so)."""

    status_code = 403


class MissingHeader(DomainError):
    status_code = 400


@dataclass(frozen=True)
class PaymentRequest:
    invoice_id: uuid.UUID
    method: str
    amount: Decimal
    currency: str
    payer_reference: str
    card: Card | None = None


def check_method(request: PaymentRequest, *, is_admin: bool) -> None:
    """Customers pay their own invoices by card or PayPal; a bank transfer arrives at the bank
    and is recorded by an admin, for any account."""
    if request.method not in METHODS:
        raise InvalidInput(f"method must be one of {', '.join(METHODS)}", field="method")
    if request.method == "card" and request.card is None:
        raise InvalidInput("a card payment needs the card", field="card")
    if request.method != "card" and request.card is not None:
        raise InvalidInput("card details belong to card payments only", field="card")
    if not request.payer_reference.strip():
        raise InvalidInput("payer_reference must not be empty", field="payer_reference")
    if is_admin and request.method != "bank_transfer":
        raise Forbidden("admins record bank transfers; card and PayPal are paid by the customer", field="method")
    if not is_admin and request.method == "bank_transfer":
        raise Forbidden("a bank transfer is recorded by the business when the money arrives", field="method")


def idempotency_key(raw: str | None) -> str:
    if raw is None:
        raise MissingHeader(f"the {IDEMPOTENCY_HEADER} header is required", field=IDEMPOTENCY_HEADER)
    key = raw.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput(
            f"{IDEMPOTENCY_HEADER} must be 1 to {MAX_KEY_LENGTH} printable characters", field=IDEMPOTENCY_HEADER
        )
    return key


def fingerprint(request: PaymentRequest) -> str:
    """What makes two requests "the same": everything asked for, with the card reduced to
    brand, last four digits and expiry (the number and cvc are never hashed or kept)."""
    card = request.card
    canonical = {
        "invoice_id": str(request.invoice_id),
        "method": request.method,
        "amount": format(request.amount.normalize(), "f"),  # 10, 10.0 and 10.00 are one amount
        "currency": request.currency,
        "payer_reference": request.payer_reference,
        "card": None if card is None else [card.brand, card.last4, card.expiry_month, card.expiry_year],
    }
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()
