"""The B2B portal's emails (issue 14) in every language, read as the recipient reads them: portal
access granted (the set-password link and code, or the identity provider's sign-in), support request
received and answered (to its sender), quote sent and expiring, order received for OrderPlaced v2
(goods as quantity × unit price); money and dates as CLDR writes them for the language."""

from __future__ import annotations

import pytest
from b2b_samples import (
    order_placed_v2,
    quote_expiring,
    quote_sent,
    support_answered,
    support_received,
    user_invited,
)
from markupsafe import escape

from notify.adapters.causes import ACCESS_GRANTED, TEMPLATES, context_of, dedup_key_of, template_for
from notify.adapters.templates import TemplateRenderer
from notify.domain.deliveries import SECRET_SLOT
from portal_contracts.events.orders import OrderPlacedV2

LANGS = ("en", "tr", "de", "pl")
RENDER = TemplateRenderer()
NBSP = "\u00a0"


def render(event, lang: str):
    return RENDER.render(template_for(event), lang, context_of(event))


def invitation(lang: str, token: bool = True):
    event = user_invited(language=lang, token="t" if token else None)
    url = "http://127.0.0.1:3000"
    context = {
        **{k: v for k, v in dict(event).items() if k != "set_password_token"},
        "person": event.name,
        "portal_url": url,
        "link": f"{url}/set-password?token={SECRET_SLOT}" if token else None,
        "code": SECRET_SLOT if token else None,
    }
    return RENDER.render(ACCESS_GRANTED, lang, context)


def untranslated(content, lang: str) -> None:
    assert "{{" not in content.text + content.html and "%(" not in content.text + content.html
    assert f'<html lang="{lang}">' in content.html
    if lang != "en":
        for english in ("Hello", "Thank you", "customer portal", "Total", "valid until", "Subject:", "Note:"):
            assert english not in content.text, english


SUBJECTS = {
    "quote_sent": {
        "en": "Your quote Q-000042",
        "tr": "Q-000042 numaralı teklifiniz",
        "de": "Ihr Angebot Q-000042",
        "pl": "Twoja oferta Q-000042",
    },
    "quote_expiring": {
        "en": "Your quote Q-000042 expires on February 15, 2026",
        "tr": "Q-000042 numaralı teklifinizin süresi 15 Şubat 2026 tarihinde doluyor",
        "de": "Ihr Angebot Q-000042 läuft am 15. Februar 2026 ab",
        "pl": "Twoja oferta Q-000042 wygasa 15 lutego 2026",
    },
    "support_request_received": {
        "en": "We received your support request SR-000001",
        "tr": "SR-000001 numaralı destek talebinizi aldık",
        "de": "Wir haben Ihre Supportanfrage SR-000001 erhalten",
        "pl": "Otrzymaliśmy Twoje zgłoszenie SR-000001",
    },
    "support_request_answered": {
        "en": "Your support request SR-000001 has been answered",
        "tr": "SR-000001 numaralı destek talebiniz yanıtlandı",
        "de": "Ihre Supportanfrage SR-000001 wurde beantwortet",
        "pl": "Mamy odpowiedź na Twoje zgłoszenie SR-000001",
    },
    "order_received": {
        "en": "We received your order ORD-2026-0042",
        "tr": "ORD-2026-0042 numaralı siparişinizi aldık",
        "de": "Wir haben Ihre Bestellung ORD-2026-0042 erhalten",
        "pl": "Otrzymaliśmy Twoje zamówienie ORD-2026-0042",
    },
    ACCESS_GRANTED: {
        "en": "Your access to the customer portal",
        "tr": "Müşteri portalı erişiminiz",
        "de": "Ihr Zugang zum Kundenportal",
        "pl": "Twój dostęp do portalu klienta",
    },
}
GOODS_LINE = {
    "en": "1,200 × Steel bolt <M8> at €1.25: €1,500.00",
    "tr": "1.200 × Steel bolt <M8>, birim fiyatı €1,25: €1.500,00",
    "de": f"1.200 × Steel bolt <M8> zu je 1,25{NBSP}€: 1.500,00{NBSP}€",
    "pl": f"1{NBSP}200 × Steel bolt <M8> po 1,25{NBSP}€: 1{NBSP}500,00{NBSP}€",
}
VALID_UNTIL = {"en": "February 15, 2026", "tr": "15 Şubat 2026", "de": "15. Februar 2026", "pl": "15 lutego 2026"}
EXPIRY = {
    "en": "January 13, 2026",
    "tr": "13 Ocak 2026",
    "de": "13. Januar 2026",
    "pl": "13 stycznia 2026",
}
GREET_USER = {
    "en": "Hello Ayla <Yılmaz>,",
    "tr": "Merhaba Ayla <Yılmaz>,",
    "de": "Guten Tag Ayla <Yılmaz>,",
    "pl": "Dzień dobry Ayla <Yılmaz>,",
}


@pytest.mark.parametrize("lang", LANGS)
def test_quote_sent_lists_quantities_prices_total_validity_and_note(lang):
    content = render(quote_sent(), lang)
    assert content.subject == SUBJECTS["quote_sent"][lang]
    assert f"- {GOODS_LINE[lang]}\n" in content.text
    what, amount = GOODS_LINE[lang].rsplit(": ", 1)
    assert f'<tr><td>{escape(what)}</td><td align="right">{amount}</td></tr>' in content.html
    assert VALID_UNTIL[lang] in content.text and "Delivery within 5 days." in content.text
    untranslated(content, lang)


def test_a_quote_without_note_says_none():
    assert "Note:" not in render(quote_sent(note=""), "en").text


@pytest.mark.parametrize("lang", LANGS)
def test_quote_expiring_names_the_total_and_the_last_day(lang):
    content = render(quote_expiring(), lang)
    assert content.subject == SUBJECTS["quote_expiring"][lang]
    assert VALID_UNTIL[lang] in content.text and GOODS_LINE[lang].rsplit(": ", 1)[1] in content.text
    untranslated(content, lang)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("sample", [support_received, support_answered])
def test_support_emails_greet_the_sender_name_the_number_and_the_subject_escaped_in_html_only(sample, lang):
    event = sample(lang)
    content = render(event, lang)
    assert content.subject == SUBJECTS[template_for(event)][lang]
    assert content.text.startswith(GREET_USER[lang] + "\n\n")
    assert "SR-000001" in content.text and "Broken <pallet>" in content.text
    assert "Broken &lt;pallet&gt;" in content.html and "<pallet>" not in content.html
    if sample is support_answered:
        assert "We send two new pallets & a credit note." in content.text
        assert "We send two new pallets &amp; a credit note." in content.html
    assert "billing contact" not in content.text
    untranslated(content, lang)


@pytest.mark.parametrize("lang", LANGS)
def test_order_received_v2_shows_goods_as_quantity_times_unit_price(lang):
    content = render(order_placed_v2(), lang)
    assert content.subject == SUBJECTS["order_received"][lang]
    assert f"- {GOODS_LINE[lang]}\n" in content.text and "PO-7781" in content.text
    untranslated(content, lang)


@pytest.mark.parametrize("lang", LANGS)
def test_portal_access_granted_carries_login_link_code_and_expiry(lang):
    content = invitation(lang)
    assert content.subject == SUBJECTS[ACCESS_GRANTED][lang]
    assert content.text.startswith(GREET_USER[lang] + "\n\n")
    assert "ayla" in content.text and EXPIRY[lang] in content.text
    assert f"http://127.0.0.1:3000/set-password?token={SECRET_SLOT}" in content.text
    assert f'href="http://127.0.0.1:3000/set-password?token={SECRET_SLOT}"' in content.html
    assert f"<code>{SECRET_SLOT}</code>" in content.html
    untranslated(content, lang)


@pytest.mark.parametrize("lang", LANGS)
def test_portal_access_granted_with_an_identity_provider_says_where_to_sign_in(lang):
    content = invitation(lang, token=False)
    assert "http://127.0.0.1:3000" in content.text and "set-password" not in content.text + content.html
    assert SECRET_SLOT not in content.text
    untranslated(content, lang)


def test_which_order_placed_v2_causes_order_received():
    assert TEMPLATES[OrderPlacedV2] == "order_received"
    for source in ("cart", "quote", "reorder", "channel"):
        assert template_for(order_placed_v2(source)) == "order_received"
    assert template_for(order_placed_v2("renewal")) is None  # told by its invoice
    assert dedup_key_of(order_placed_v2()) == f"order:{order_placed_v2().order_id}"
