"""Every template in every language: subject, plain text and HTML, with the event's facts in them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from jinja2 import UndefinedError

import notify
from notify.adapters.causes import TEMPLATES, context_of, template_for
from notify.adapters.templates import TemplateRenderer, format_date, format_money
from notify_samples import ALL, REQUEST

LANGS = ("en", "tr", "de", "pl")
RENDER = TemplateRenderer()

SUBJECTS = {
    "request_received": {"en": "We received your request", "tr": "Talebinizi aldık",
                         "de": "Wir haben Ihre Anfrage erhalten", "pl": "Otrzymaliśmy Twoje zgłoszenie"},
    "information_requested": {"en": "We need more information about your request",
                              "tr": "Talebiniz için ek bilgiye ihtiyacımız var",
                              "de": "Wir benötigen weitere Informationen zu Ihrer Anfrage",
                              "pl": "Potrzebujemy więcej informacji o Twoim zgłoszeniu"},
    "request_rejected": {"en": "Your request was declined", "tr": "Talebiniz reddedildi",
                         "de": "Ihre Anfrage wurde abgelehnt", "pl": "Twoje zgłoszenie zostało odrzucone"},
    "invoice_issued": {"en": "Your request is approved – invoice INV-2026-0042",
                       "tr": "Talebiniz onaylandı – INV-2026-0042 numaralı fatura",
                       "de": "Ihre Anfrage wurde genehmigt – Rechnung INV-2026-0042",
                       "pl": "Twoje zgłoszenie zostało zatwierdzone – faktura INV-2026-0042"},
    "payment_received": {"en": "Payment received for invoice INV-2026-0042",
                         "tr": "INV-2026-0042 numaralı fatura için ödemeniz alındı",
                         "de": "Zahlung für Rechnung INV-2026-0042 erhalten",
                         "pl": "Otrzymaliśmy płatność za fakturę INV-2026-0042"},
    "services_active": {"en": "Your services are active", "tr": "Hizmetleriniz aktif",
                        "de": "Ihre Dienste sind aktiv", "pl": "Twoje usługi są aktywne"},
}
GREETING = {"en": "Hello,", "tr": "Merhaba,", "de": "Guten Tag,", "pl": "Dzień dobry,"}
TOTAL_1234_80 = {"en": "1,234.80 EUR", "tr": "1.234,80 EUR", "de": "1.234,80 EUR", "pl": "1 234,80 EUR"}
DUE = {"en": "2026-02-15", "tr": "15.02.2026", "de": "15.02.2026", "pl": "15.02.2026"}
# A phrase of each body, per language: the body is translated, not only the subject.
BODY = {
    "request_received": {"en": "Total: 1,333.80 EUR", "tr": "Toplam: 1.333,80 EUR", "de": "Gesamtbetrag: 1.333,80 EUR",
                         "pl": "Razem: 1 333,80 EUR"},
    "information_requested": {"en": "Please answer in the customer portal.",
                              "tr": "Lütfen yanıtınızı müşteri portalı üzerinden iletin.",
                              "de": "Bitte antworten Sie uns im Kundenportal.",
                              "pl": "Prosimy o odpowiedź w portalu klienta."},
    "request_rejected": {"en": "Reason: ", "tr": "Gerekçe: ", "de": "Begründung: ", "pl": "Powód: "},
    "invoice_issued": {"en": "Due date: 2026-02-15", "tr": "Son ödeme tarihi: 15.02.2026",
                       "de": "Fällig am: 15.02.2026", "pl": "Termin płatności: 15.02.2026"},
    "payment_received": {"en": "paid in full", "tr": "tamamı ödenmiştir", "de": "vollständig bezahlt",
                         "pl": "opłacona w całości"},
    "services_active": {"en": "next payment due on 2026-02-10", "tr": "sonraki ödeme tarihi 10.02.2026",
                        "de": "nächste Zahlung fällig am 10.02.2026", "pl": "następna płatność do 10.02.2026"},
}


def render(template: str, lang: str):
    event = ALL[template]()
    assert template_for(event) == template
    return RENDER.render(template, lang, context_of(event))


def test_every_event_has_a_template_in_every_language():
    root = Path(notify.__file__).parent / "templates"
    assert set(TEMPLATES.values()) == set(ALL) == set(SUBJECTS)
    for lang in LANGS:
        for template in ALL:
            for kind in ("subject", "txt", "html"):
                assert (root / lang / f"{template}.{kind}.j2").is_file(), (lang, template, kind)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("template", sorted(ALL))
def test_subject_text_and_html_are_in_the_language(template, lang):
    content = render(template, lang)
    assert content.subject == SUBJECTS[template][lang]
    assert "\n" not in content.subject
    assert content.text.startswith(GREETING[lang] + "\n")
    assert BODY[template][lang] in content.text
    assert f'<html lang="{lang}">' in content.html
    assert f"<p>{GREETING[lang]}</p>" in content.html
    assert "<title>" in content.html and "{{" not in content.html and "{{" not in content.text


@pytest.mark.parametrize("lang", LANGS)
def test_request_received_lists_each_line_and_the_total(lang):
    content = render("request_received", lang)
    for part in (content.text, content.html):
        assert str(REQUEST) in part
        assert TOTAL_1234_80[lang] in part  # the recurring line's total
        assert "99,00 EUR" in part or "99.00 EUR" in part
    assert content.text.count("\n- ") == 2
    assert content.html.count("<tr><td>") == 2


@pytest.mark.parametrize("lang", LANGS)
def test_invoice_names_number_total_due_date_and_every_payment_instruction(lang):
    content = render("invoice_issued", lang)
    for part in (content.text, content.html):
        assert "INV-2026-0042" in part and TOTAL_1234_80[lang] in part and DUE[lang] in part
        assert "DE89370400440532013000" in part and "https://pay.example/inv/42" in part
    method = {"en": "Bank transfer", "tr": "Banka havalesi", "de": "Banküberweisung", "pl": "Przelew bankowy"}
    assert method[lang] in content.text and method[lang] in content.html


@pytest.mark.parametrize("lang", LANGS)
def test_question_and_reason_are_quoted_and_escaped_in_html_only(lang):
    asked = render("information_requested", lang)
    assert "<b>example.com</b>" in asked.text
    assert "&lt;b&gt;example.com&lt;/b&gt;" in asked.html and "<b>example.com" not in asked.html
    rejected = render("request_rejected", lang)
    assert "region & plan." in rejected.text and "region &amp; plan." in rejected.html
    received = render("request_received", lang)
    assert "SEO <boost>" in received.text and "SEO &lt;boost&gt;" in received.html


@pytest.mark.parametrize("lang", LANGS)
def test_payment_received_names_amount_with_two_decimals(lang):
    content = render("payment_received", lang)
    assert TOTAL_1234_80[lang] in content.text and TOTAL_1234_80[lang] in content.html


def test_unknown_language_falls_back_to_english():
    assert render("services_active", "fr").subject == "Your services are active"


def test_a_missing_variable_fails_loudly():
    with pytest.raises(UndefinedError):
        RENDER.render("request_rejected", "en", {"request_id": REQUEST})


def test_subject_cannot_carry_a_header_break():
    event = ALL["invoice_issued"]().model_copy(update={"number": "INV-1\r\nBcc: someone"})
    assert "\n" not in RENDER.render("invoice_issued", "en", context_of(event)).subject


@pytest.mark.parametrize("amount, lang, expected", [
    (Decimal("0"), "en", "0.00 EUR"),
    (Decimal("5"), "de", "5,00 EUR"),
    (Decimal("1234567.891"), "en", "1,234,567.89 EUR"),
    (Decimal("1234567.885"), "de", "1.234.567,89 EUR"),
    (Decimal("999.995"), "pl", "1 000,00 EUR"),
    (Decimal("-12.5"), "tr", "-12,50 EUR"),
    ("19.9", "xx", "19.90 EUR"),
])
def test_money_has_two_decimals_separators_and_currency(amount, lang, expected):
    assert format_money(amount, "EUR", lang) == expected


def test_dates_follow_the_language():
    assert format_date(date(2026, 3, 4), "en") == "2026-03-04"
    assert format_date(date(2026, 3, 4), "pl") == "04.03.2026"
