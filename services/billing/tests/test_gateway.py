from datetime import date
from decimal import Decimal

from billing.adapters.gateway import InMemorySandboxGateway
from billing.domain.cards import Card


def card(number):
    return Card.parse(number=number, expiry_month=12, expiry_year=2030, cvc="123", today=date(2026, 1, 1))


async def charge(gw, number, key="k1"):
    return await gw.charge_card(
        card=card(number), amount=Decimal("10.00"), currency="EUR", description="INV", idempotency_key=key
    )


async def test_test_card_approves_with_a_reference():
    result = await charge(InMemorySandboxGateway(), "4242424242424242")
    assert result.approved and result.reference.startswith("sbx_") and result.reason is None


async def test_declining_card_declines_with_a_reason():
    gw = InMemorySandboxGateway()
    result = await charge(gw, "4000000000000002")
    assert not result.approved and result.reason == "card_declined" and gw.charges == []
    assert (await charge(gw, "4000000000009995", key="k2")).reason == "insufficient_funds"


async def test_same_key_returns_the_first_result_and_charges_once():
    gw = InMemorySandboxGateway()
    first = await charge(gw, "4242424242424242")
    again = await charge(gw, "4242424242424242")
    assert again == first and len(gw.charges) == 1


async def test_sandbox_keeps_brand_and_last4_only():
    gw = InMemorySandboxGateway()
    await charge(gw, "5555555555554444")
    assert [(c.method, c.brand, c.last4, c.amount, c.currency) for c in gw.charges] == [
        ("card", "mastercard", "4444", Decimal("10.00"), "EUR")
    ]
    assert "5555555555554444" not in repr(gw.charges)


async def test_paypal_approves_except_the_declining_payer():
    gw = InMemorySandboxGateway()
    ok = await gw.charge_paypal(
        payer="buyer@example.com", amount=Decimal(5), currency="EUR", description="x", idempotency_key="p1"
    )
    no = await gw.charge_paypal(
        payer="declined@paypal.example", amount=Decimal(5), currency="EUR", description="x", idempotency_key="p2"
    )
    assert ok.approved and not no.approved and no.reason == "payer_action_required"
