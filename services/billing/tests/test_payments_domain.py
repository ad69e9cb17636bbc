import uuid
from datetime import date
from decimal import Decimal

import pytest

from billing.domain.cards import Card, brand_of, luhn_valid
from billing.domain.instructions import Payee, iban_valid, instructions_for
from billing.domain.payments import (
    Forbidden,
    MissingHeader,
    PaymentRequest,
    check_method,
    fingerprint,
    idempotency_key,
)
from portal_runtime.errors import InvalidInput

TODAY = date(2026, 3, 20)
INVOICE = uuid.uuid4()


def card(number="4242424242424242", month=12, year=2030, cvc="123"):
    return Card.parse(number=number, expiry_month=month, expiry_year=year, cvc=cvc, today=TODAY)


def request(**over):
    base = dict(
        invoice_id=INVOICE, method="card", amount=Decimal("10.00"), currency="EUR", payer_reference="acme", card=card()
    )
    return PaymentRequest(**{**base, **over})


# -- cards ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "number, ok",
    [
        ("4242424242424242", True),
        ("4000000000000002", True),
        ("5555555555554444", True),
        ("378282246310005", True),
        ("4242424242424241", False),
        ("1234", False),
        ("42424242424242a2", False),
    ],
)
def test_luhn(number, ok):
    assert luhn_valid(number) is ok


@pytest.mark.parametrize(
    "number, brand",
    [
        ("4242424242424242", "visa"),
        ("5555555555554444", "mastercard"),
        ("2223003122003222", "mastercard"),
        ("378282246310005", "amex"),
        ("6011111111111117", "other"),
    ],
)
def test_brand(number, brand):
    assert brand_of(number) == brand


def test_card_keeps_brand_and_last4_and_hides_number_from_repr():
    c = card("4242 4242 4242 4242")
    assert (c.brand, c.last4) == ("visa", "4242")
    assert "4242424242424242" not in repr(c) and "123" not in repr(c)


@pytest.mark.parametrize(
    "over, field",
    [
        ({"number": "4242424242424241"}, "card.number"),
        ({"month": 13}, "card.expiry_month"),
        ({"month": 2, "year": 2026}, "card.expiry_year"),
        ({"cvc": "12"}, "card.cvc"),
    ],
)
def test_bad_cards_name_the_field_without_echoing_the_number(over, field):
    with pytest.raises(InvalidInput) as err:
        card(**over)
    assert err.value.field == field and "4242" not in err.value.message


def test_card_expiring_this_month_is_still_good():
    assert card(month=3, year=2026).last4 == "4242"


# -- who pays how -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "over, admin, error, field",
    [
        ({"card": None}, False, InvalidInput, "card"),
        ({"method": "paypal"}, False, InvalidInput, "card"),
        ({"method": "bitcoin", "card": None}, False, InvalidInput, "method"),
        ({"payer_reference": "  "}, False, InvalidInput, "payer_reference"),
        ({}, True, Forbidden, "method"),
        ({"method": "bank_transfer", "card": None}, False, Forbidden, "method"),
    ],
)
def test_method_rules(over, admin, error, field):
    with pytest.raises(error) as err:
        check_method(request(**over), is_admin=admin)
    assert err.value.field == field


def test_allowed_methods():
    check_method(request(), is_admin=False)
    check_method(request(method="paypal", card=None), is_admin=False)
    check_method(request(method="bank_transfer", card=None), is_admin=True)


# -- idempotency ------------------------------------------------------------------------------
def test_missing_key_is_a_400_naming_the_header():
    with pytest.raises(MissingHeader) as err:
        idempotency_key(None)
    assert err.value.status_code == 400 and err.value.field == "Idempotency-Key"


@pytest.mark.parametrize("raw", ["", "   ", "x" * 201, "a\x00b"])
def test_bad_keys_are_refused(raw):
    with pytest.raises(InvalidInput) as err:
        idempotency_key(raw)
    assert err.value.field == "Idempotency-Key"


def test_fingerprint_is_stable_and_ignores_amount_notation():
    assert fingerprint(request()) == fingerprint(request(amount=Decimal("10")))


@pytest.mark.parametrize(
    "over",
    [
        {"amount": Decimal("10.01")},
        {"currency": "USD"},
        {"payer_reference": "b"},
        {"invoice_id": uuid.uuid4()},
        {"card": card("5555555555554444")},
        {"card": card(month=11)},
    ],
)
def test_fingerprint_differs_for_a_different_request(over):
    assert fingerprint(request()) != fingerprint(request(**over))


# -- instructions -----------------------------------------------------------------------------
def test_iban_check_digits():
    assert iban_valid("DE89 3704 0044 0532 0130 00")
    assert not iban_valid("DE88370400440532013000")
    with pytest.raises(ValueError):
        Payee(name="x", iban="DE88370400440532013000", bic="x", paypal="x")


def test_instructions_for_card_bank_transfer_and_paypal():
    payee = Payee(
        name="Portal GmbH", iban="DE89 3704 0044 0532 0130 00", bic="COBADEFFXXX", paypal="pay@portal.example"
    )
    by_method = {i.method: i.details for i in instructions_for(invoice_id="abc", number="INV-2026-000007", payee=payee)}
    assert set(by_method) == {"card", "bank_transfer", "paypal"}
    assert by_method["bank_transfer"] == {
        "beneficiary": "Portal GmbH",
        "iban": "DE89370400440532013000",
        "bic": "COBADEFFXXX",
        "reference": "INV-2026-000007",
    }
    assert by_method["paypal"] == {"payee": "pay@portal.example", "reference": "INV-2026-000007"}
