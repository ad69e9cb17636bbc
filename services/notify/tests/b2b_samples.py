"""Sample events of the B2B portal's emails (issue 14), shared by notify's tests."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from portal_contracts import Money
from portal_contracts.events.orders import (
    OrderLineV2,
    OrderPlacedV2,
    QuoteExpiring,
    QuoteLine,
    QuoteSent,
    SupportRecipient,
    SupportRequestAnswered,
    SupportRequestReceived,
    UserActivated,
    UserContactChanged,
    UserInvited,
)

AT = datetime(2026, 1, 10, 9, 30, tzinfo=UTC)  # as notify_samples.AT (which imports these samples)


def eur(amount: str) -> Money:
    return Money(amount=Decimal(amount), currency="EUR")


USER = uuid.UUID("99999999-0000-0000-0000-000000000001")
QUOTE = uuid.UUID("99999999-0000-0000-0000-000000000002")
SUPPORT = uuid.UUID("99999999-0000-0000-0000-000000000003")
B2B_ORDER = uuid.UUID("99999999-0000-0000-0000-000000000004")
BOLT = uuid.UUID("99999999-0000-0000-0000-000000000005")
TOKEN = "SeCrEt-set-password-token-0123456789abcdefABCDEF"
EXPIRES = datetime(2026, 1, 13, 9, 30, tzinfo=UTC)


def user_invited(*, token: str | None = TOKEN, email: str = "ayla@acme.test", language: str = "en", at=AT):
    return UserInvited(
        user_id=USER,
        account_id="acme",
        login="ayla",
        name="Ayla <Yılmaz>",
        email=email,
        language=language,
        account_role="buyer",
        set_password_token=token,
        expires_at=EXPIRES if token else None,
        invited_by="admin",
        invited_at=at,
    )


def user_activated(email: str = "ayla@acme.test", at=AT):
    return UserActivated(user_id=USER, account_id="acme", login="ayla", email=email, language="en", activated_at=at)


def user_contact_changed(email: str, language: str = "en", at=AT):
    return UserContactChanged(
        user_id=USER,
        account_id="acme",
        login="ayla",
        name="Ayla <Yılmaz>",
        email=email,
        language=language,
        changed_at=at,
    )


def sender(language: str = "en", email: str = "ayla@acme.test") -> SupportRecipient:
    return SupportRecipient(login="ayla", name="Ayla <Yılmaz>", email=email, language=language)


def support_received(language: str = "en", email: str = "ayla@acme.test"):
    return SupportRequestReceived(
        request_id=SUPPORT,
        number="SR-000001",
        account_id="acme",
        sender=sender(language, email),
        subject="Broken <pallet>",
        message="Two pallets arrived broken.",
        received_at=AT,
    )


def support_answered(language: str = "en", email: str = "ayla@acme.test"):
    return SupportRequestAnswered(
        request_id=SUPPORT,
        number="SR-000001",
        account_id="acme",
        sender=sender(language, email),
        subject="Broken <pallet>",
        answer="We send two new pallets & a credit note.",
        answered_by="admin",
        answered_at=AT,
    )


def quote_line(quantity: int, unit: str, amount: str) -> QuoteLine:
    return QuoteLine(
        line_id=uuid.uuid4(),
        item_id=BOLT,
        sku="BOLT-M8",
        name="Steel bolt <M8>",
        cycle="one_time",
        quantity=quantity,
        unit_price=eur(unit),
        amount=eur(amount),
    )


def quote_sent(note: str = "Delivery within 5 days."):
    return QuoteSent(
        quote_id=QUOTE,
        number="Q-000042",
        account_id="acme",
        currency="EUR",
        lines=[quote_line(1200, "1.25", "1500.00")],
        total=eur("1500.00"),
        valid_until=date(2026, 2, 15),
        note=note,
        sent_by="admin",
        sent_at=AT,
    )


def quote_expiring():
    return QuoteExpiring(
        quote_id=QUOTE,
        number="Q-000042",
        account_id="acme",
        currency="EUR",
        total=eur("1500.00"),
        valid_until=date(2026, 2, 15),
        noticed_at=AT,
    )


def order_placed_v2(source: str = "quote", order_id: uuid.UUID = B2B_ORDER):
    return OrderPlacedV2(
        order_id=order_id,
        number="ORD-2026-0042",
        account_id="acme",
        source=source,
        currency="EUR",
        lines=[
            OrderLineV2(
                line_id=uuid.uuid4(),
                kind="good",
                item_id=BOLT,
                sku="BOLT-M8",
                name="Steel bolt <M8>",
                cycle="one_time",
                quantity=1200,
                unit_price=eur("1.25"),
                amount=eur("1500.00"),
            )
        ],
        total=eur("1500.00"),
        placed_at=AT,
        placed_by="ayla",
        quote_id=QUOTE if source == "quote" else None,
        customer_reference="PO-7781",
    )
