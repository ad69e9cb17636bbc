"""Every template in every language: subject, plain text and HTML, with the event's facts in them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from jinja2 import UndefinedError
from notify_samples import ALL, REQUEST, first_part_paid, invoice_issued, payment_confirmed, payment_received, rest_paid

import notify
from notify.adapters.causes import TEMPLATES, context_of, event_of, template_for
from notify.adapters.templates import TemplateRenderer, format_date, format_money
from portal_contracts.events.billing import PaymentConfirmed, PaymentReceived

LANGS = ("en", "tr", "de", "pl")
RENDER = TemplateRenderer()

SUBJECTS = {
    "request_received": {
        "en": "We received your request",
        "tr": "Talebinizi aldık",
        "de": "Wir haben Ihre Anfrage erhalten",
        "pl": "Otrzymaliśmy Twoje zgłoszenie",
    },
    "information_requested": {
        "en": "We need more information about your request",
        "tr": "Talebiniz için ek bilgiye ihtiyacımız var",
        "de": "Wir benötigen weitere Informationen zu Ihrer Anfrage",
        "pl": "Potrzebujemy więcej informacji o Twoim zgłoszeniu",
    },
    "request_rejected": {
        "en": "Your request was declined",
        "tr": "Talebiniz reddedildi",
        "de": "Ihre Anfrage wurde abgelehnt",
        "pl": "Twoje zgłoszenie zostało odrzucone",
    },
    "invoice_issued": {
        "en": "Your request is approved – invoice INV-2026-0042",
        "tr": "Talebiniz onaylandı – INV-2026-0042 numaralı fatura",
        "de": "Ihre Anfrage wurde genehmigt – Rechnung INV-2026-0042",
        "pl": "Twoje zgłoszenie zostało zatwierdzone – faktura INV-2026-0042",
    },
    "payment_received": {
        "en": "Payment received for invoice INV-2026-0042",
        "tr": "INV-2026-0042 numaralı fatura için ödemeniz alındı",
        "de": "Zahlung für Rechnung INV-2026-0042 erhalten",
        "pl": "Otrzymaliśmy płatność za fakturę INV-2026-0042",
    },
    "services_active": {
        "en": "Your services are active",
        "tr": "Hizmetleriniz aktif",
        "de": "Ihre Dienste sind aktiv",
        "pl": "Twoje usługi są aktywne",
    },
}
GREETING = {"en": "Hello,", "tr": "Merhaba,", "de": "Guten Tag,", "pl": "Dzień dobry,"}
TOTAL_1234_80 = {"en": "1,234.80 EUR", "tr": "1.234,80 EUR", "de": "1.234,80 EUR", "pl": "1 234,80 EUR"}
DUE = {"en": "2026-02-15", "tr": "15.02.2026", "de": "15.02.2026", "pl": "15.02.2026"}
# A phrase of each body, per language: the body is translated, not only the subject.
BODY = {
    "request_received": {
        "en": "Total: 1,333.80 EUR",
        "tr": "Toplam: 1.333,80 EUR",
        "de": "Gesamtbetrag: 1.333,80 EUR",
        "pl": "Razem: 1 333,80 EUR",
    },
    "information_requested": {
        "en": "Please answer in the customer portal.",
        "tr": "Lütfen yanıtınızı müşteri portalı üzerinden iletin.",
        "de": "Bitte antworten Sie uns im Kundenportal.",
        "pl": "Prosimy o odpowiedź w portalu klienta.",
    },
    "request_rejected": {"en": "Reason: ", "tr": "Gerekçe: ", "de": "Begründung: ", "pl": "Powód: "},
    "invoice_issued": {
        "en": "Due date: 2026-02-15",
        "tr": "Son ödeme tarihi: 15.02.2026",
        "de": "Fällig am: 15.02.2026",
        "pl": "Termin płatności: 15.02.2026",
    },
    "payment_received": {
        "en": "The invoice is now paid in full.",
        "tr": "Faturanın tamamı artık ödenmiştir.",
        "de": "Die Rechnung ist damit vollständig bezahlt.",
        "pl": "Faktura została tym samym opłacona w całości.",
    },
    "services_active": {
        "en": "next payment due on 2026-02-10",
        "tr": "sonraki ödeme tarihi 10.02.2026",
        "de": "nächste Zahlung fällig am 10.02.2026",
        "pl": "następna płatność do 10.02.2026",
    },
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


PAID_IN_FULL = BODY["payment_received"]
BANK_TRANSFER = {"en": "Bank transfer", "tr": "Banka havalesi", "de": "Banküberweisung", "pl": "Przelew bankowy"}
RECEIVED = {"en": "Amount received: ", "tr": "Alınan tutar: ", "de": "Erhaltener Betrag: ", "pl": "Otrzymana kwota: "}
METHOD = {"en": "Payment method: ", "tr": "Ödeme yöntemi: ", "de": "Zahlungsart: ", "pl": "Sposób płatności: "}
STILL_DUE = {
    "en": "Balance still due: ",
    "tr": "Kalan tutar: ",
    "de": "Noch offener Betrag: ",
    "pl": "Pozostało do zapłaty: ",
}
EUR_500 = {"en": "500.00 EUR", "tr": "500,00 EUR", "de": "500,00 EUR", "pl": "500,00 EUR"}
EUR_734_80 = {"en": "734.80 EUR", "tr": "734,80 EUR", "de": "734,80 EUR", "pl": "734,80 EUR"}


def render_payment(event, lang: str):
    assert template_for(event) == "payment_received"
    return RENDER.render("payment_received", lang, context_of(event))


def html_line(label: str, value: str) -> str:
    return f"<p><strong>{label.rstrip()}</strong> {value}</p>"


def test_every_payment_has_the_email_and_payment_confirmed_none():
    assert TEMPLATES[PaymentReceived] == "payment_received"
    assert PaymentConfirmed not in TEMPLATES
    assert list(TEMPLATES.values()).count("payment_received") == 1


@pytest.mark.parametrize("lang", LANGS)
def test_a_partial_payment_says_what_was_received_and_the_balance_still_due(lang):
    content = render_payment(first_part_paid(), lang)
    assert content.subject == SUBJECTS["payment_received"][lang]
    assert RECEIVED[lang] + EUR_500[lang] in content.text
    assert METHOD[lang] + BANK_TRANSFER[lang] in content.text
    assert STILL_DUE[lang] + EUR_734_80[lang] in content.text
    assert html_line(RECEIVED[lang], EUR_500[lang]) in content.html
    assert html_line(METHOD[lang], BANK_TRANSFER[lang]) in content.html
    assert html_line(STILL_DUE[lang], EUR_734_80[lang]) in content.html
    for part in (content.text, content.html):
        assert "INV-2026-0042" in part
        assert PAID_IN_FULL[lang] not in part
        assert TOTAL_1234_80[lang] not in part  # neither the invoice total nor the amount paid so far
        assert DUE["en"] not in part and DUE["de"] not in part  # no due date is made up


@pytest.mark.parametrize("lang", LANGS)
def test_the_settling_payment_says_the_invoice_is_paid_in_full(lang):
    content = render_payment(rest_paid(), lang)
    assert content.subject == SUBJECTS["payment_received"][lang]
    assert RECEIVED[lang] + EUR_734_80[lang] in content.text
    assert html_line(RECEIVED[lang], EUR_734_80[lang]) in content.html
    assert METHOD[lang] + BANK_TRANSFER[lang] in content.text
    for part in (content.text, content.html):
        assert "INV-2026-0042" in part and PAID_IN_FULL[lang] in part
        assert STILL_DUE[lang].strip() not in part


def test_the_two_english_and_german_payment_emails_read_as_written():
    assert render_payment(first_part_paid(), "en").text == (
        "Hello,\n\n"
        "Thank you: we have received your payment for invoice INV-2026-0042.\n\n"
        "Amount received: 500.00 EUR\n"
        "Payment method: Bank transfer\n"
        "Balance still due: 734.80 EUR\n\n"
        "Please pay the remaining balance quoting the invoice number INV-2026-0042.\n\n"
        "--\n"
        "This message was sent automatically by the customer portal. Please do not reply to it.\n"
    )
    assert render_payment(rest_paid(), "de").text == (
        "Guten Tag,\n\n"
        "Vielen Dank: Wir haben Ihre Zahlung für die Rechnung INV-2026-0042 erhalten.\n\n"
        "Erhaltener Betrag: 734,80 EUR\n"
        "Zahlungsart: Banküberweisung\n\n"
        "Die Rechnung ist damit vollständig bezahlt.\n\n"
        "--\n"
        "Diese Nachricht wurde automatisch vom Kundenportal versendet. Bitte antworten Sie nicht darauf.\n"
    )


@pytest.mark.parametrize(
    "method, lang, label",
    [
        ("card", "en", "Card payment"),
        ("paypal", "de", "PayPal"),
        ("card", "tr", "Kartla ödeme"),
        ("card", "pl", "Płatność kartą"),
    ],
)
def test_the_payment_method_is_named_in_the_language(method, lang, label):
    content = render_payment(payment_received(method=method), lang)
    assert METHOD[lang] + label in content.text and html_line(METHOD[lang], label) in content.html


def test_payment_fields_are_escaped_in_html_only():
    event = payment_received(method="cash<on>delivery").model_copy(update={"number": "INV-1 & <2>"})
    content = render_payment(event, "en")
    assert "Payment method: cash<on>delivery" in content.text and "invoice INV-1 & <2>." in content.text
    assert "cash&lt;on&gt;delivery" in content.html and "INV-1 &amp; &lt;2&gt;" in content.html
    assert "<on>" not in content.html and "<2>" not in content.html


@pytest.mark.parametrize("lang", LANGS)
def test_invoice_instruction_names_are_escaped_in_html_only(lang):
    from portal_contracts.events.billing import PaymentInstruction

    event = invoice_issued().model_copy(
        update={
            "payment_instructions": [PaymentInstruction(method="cash<on>delivery", details={"<b>desk</b>": "room 1"})]
        }
    )
    content = RENDER.render("invoice_issued", lang, context_of(event))
    assert "cash<on>delivery" in content.text and "<b>desk</b>" in content.text
    assert "cash&lt;on&gt;delivery" in content.html and "&lt;b&gt;desk&lt;/b&gt;" in content.html
    assert "<on>" not in content.html and "<b>desk" not in content.html


@pytest.mark.parametrize("lang", LANGS)
def test_a_waiting_delivery_caused_by_payment_confirmed_still_renders_paid_in_full(lang):
    """Recorded before notify took PaymentReceived; rendered when the recipient's profile comes."""
    stored = payment_confirmed()
    event = event_of(stored.event_type, stored.version, stored.model_dump(mode="json"))
    content = RENDER.render("payment_received", lang, context_of(event))
    for part in (content.text, content.html):
        assert TOTAL_1234_80[lang] in part and PAID_IN_FULL[lang] in part
        assert METHOD[lang].strip() not in part and STILL_DUE[lang].strip() not in part


def test_unknown_language_falls_back_to_english():
    assert render("services_active", "fr").subject == "Your services are active"


def test_a_missing_variable_fails_loudly():
    with pytest.raises(UndefinedError):
        RENDER.render("request_rejected", "en", {"request_id": REQUEST})


def test_subject_cannot_carry_a_header_break():
    event = ALL["invoice_issued"]().model_copy(update={"number": "INV-1\r\nBcc: someone"})
    assert "\n" not in RENDER.render("invoice_issued", "en", context_of(event)).subject


@pytest.mark.parametrize(
    "amount, lang, expected",
    [
        (Decimal("0"), "en", "0.00 EUR"),
        (Decimal("5"), "de", "5,00 EUR"),
        (Decimal("1234567.891"), "en", "1,234,567.89 EUR"),
        (Decimal("1234567.885"), "de", "1.234.567,89 EUR"),
        (Decimal("999.995"), "pl", "1 000,00 EUR"),
        (Decimal("-12.5"), "tr", "-12,50 EUR"),
        ("19.9", "xx", "19.90 EUR"),
    ],
)
def test_money_has_two_decimals_separators_and_currency(amount, lang, expected):
    assert format_money(amount, "EUR", lang) == expected


def test_dates_follow_the_language():
    assert format_date(date(2026, 3, 4), "en") == "2026-03-04"
    assert format_date(date(2026, 3, 4), "pl") == "04.03.2026"
