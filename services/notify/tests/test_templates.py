"""Every email in every language, read as the customer reads it: subject, plain text and HTML
with the event's facts in them (names, amounts, dates, how to pay), money and dates as CLDR
writes them; and the templates and catalogs they come from (one template set per email, one
gettext catalog per language, every string translated)."""

from __future__ import annotations

import shutil
import uuid
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from jinja2 import FileSystemLoader, UndefinedError
from notify_samples import (
    ALL,
    REQUEST,
    SELLER_FLOW,
    billed_invoice,
    first_part_paid,
    invoice_issued,
    payment_confirmed,
    payment_received,
    rest_paid,
    services_activated,
)

import notify
from notify.adapters import catalogs
from notify.adapters.causes import (
    ACCESS_GRANTED,
    PARTIALLY_SHIPPED,
    TEMPLATES,
    context_of,
    event_of,
    template_for,
)
from notify.adapters.templates import TemplateRenderer, environment, format_date, format_money
from notify.adapters.wording import Wording
from notify.domain.deliveries import SECRET_SLOT
from notify.domain.recipients import CONFIRMATION_TEMPLATE
from portal_contracts.events.billing import PaymentConfirmed, PaymentInstruction, PaymentReceived
from portal_contracts.events.orders import ActivatedService

LANGS = ("en", "tr", "de", "pl")
RENDER = TemplateRenderer()
NB = "\u00a0"  # CLDR puts a no-break space between amount and sign, and in Polish between thousands


def nb(text: str) -> str:
    """Write CLDR's no-break spaces as `_` in the expectations below."""
    return text.replace("_", NB)


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
TOTAL_1234_80 = {"en": "€1,234.80", "tr": "€1.234,80", "de": nb("1.234,80_€"), "pl": nb("1_234,80_€")}
DUE = {"en": "February 15, 2026", "tr": "15 Şubat 2026", "de": "15. Februar 2026", "pl": "15 lutego 2026"}
# A phrase of each body, per language: the body is translated, not only the subject.
BODY = {
    "request_received": {
        "en": "Total: €1,333.80",
        "tr": "Toplam: €1.333,80",
        "de": nb("Gesamtbetrag: 1.333,80_€"),
        "pl": nb("Razem: 1_333,80_€"),
    },
    "information_requested": {
        "en": "Please answer in the customer portal.",
        "tr": "Lütfen yanıtınızı müşteri portalı üzerinden iletin.",
        "de": "Bitte antworten Sie uns im Kundenportal.",
        "pl": "Prosimy o odpowiedź w portalu klienta.",
    },
    "request_rejected": {"en": "Reason: ", "tr": "Gerekçe: ", "de": "Begründung: ", "pl": "Powód: "},
    "invoice_issued": {
        "en": "Due date: February 15, 2026",
        "tr": "Son ödeme tarihi: 15 Şubat 2026",
        "de": "Fällig am: 15. Februar 2026",
        "pl": "Termin płatności: 15 lutego 2026",
    },
    "payment_received": {
        "en": "The invoice is now paid in full.",
        "tr": "Faturanın tamamı artık ödenmiştir.",
        "de": "Die Rechnung ist damit vollständig bezahlt.",
        "pl": "Faktura została tym samym opłacona w całości.",
    },
    "services_active": {
        "en": "next payment due on February 10, 2026",
        "tr": "sonraki ödeme tarihi 10 Şubat 2026",
        "de": "nächste Zahlung fällig am 10. Februar 2026",
        "pl": "następna płatność do 10 lutego 2026",
    },
}


def render(template: str, lang: str):
    event = ALL[template]()
    assert template_for(event) == template
    return RENDER.render(template, lang, context_of(event))


def render_event(event, lang: str):
    return RENDER.render(template_for(event), lang, context_of(event))


# --- where the emails come from ------------------------------------------------------------


def test_every_email_is_one_template_set_and_no_folder_per_language_remains():
    root = Path(notify.__file__).parent / "templates"
    assert {*TEMPLATES.values(), PARTIALLY_SHIPPED} == set(ALL)  # OrderShipped causes either of its two
    assert set(SELLER_FLOW) == set(SUBJECTS)  # the client area's: test_client_area_templates.py
    # the confirmation is caused by a profile, the invitation by UserInvited: neither by TEMPLATES
    emails = {*ALL, CONFIRMATION_TEMPLATE, ACCESS_GRANTED}
    partials = {"_shipment.txt.j2", "_shipment.html.j2"}  # a shipment's part of order (partially) shipped
    expected = {"_layout.txt.j2", "_layout.html.j2", *partials} | {
        f"{template}.{kind}.j2" for template in emails for kind in ("subject", "txt", "html")
    }
    assert {p.name for p in root.iterdir()} == expected
    assert not [p for p in root.iterdir() if p.is_dir()]


def test_each_language_has_its_gettext_catalog():
    found = sorted(p.relative_to(catalogs.LOCALE_DIR).as_posix() for p in catalogs.LOCALE_DIR.rglob("*.po"))
    assert found == [f"{lang}/LC_MESSAGES/messages.po" for lang in sorted(LANGS)]
    assert not list(catalogs.LOCALE_DIR.rglob("*.mo"))  # compiled when loaded, never committed


@pytest.mark.parametrize("lang", LANGS)
def test_the_catalog_holds_every_string_of_the_emails_translated(lang):
    assert catalogs.problems(lang) == []


def test_english_is_the_source_and_its_catalog_leaves_the_strings_as_written():
    english = catalogs.read("en")
    source = {m.id for m in catalogs.extract() if m.id}
    assert {m.id for m in english if m.id} == source
    assert all(not m.string or m.string == ("", "") for m in english if m.id)
    assert "We received your request" in source and ("every month", "every %(num)s months") in source


@pytest.fixture
def catalog_copy(tmp_path, monkeypatch):
    """The templates and catalogs copied to tmp_path, the catalogs module pointed at the copy."""
    templates, locale = tmp_path / "templates", tmp_path / "locale"
    shutil.copytree(catalogs.TEMPLATE_DIR, templates)
    shutil.copytree(catalogs.LOCALE_DIR, locale)
    monkeypatch.setattr(catalogs, "TEMPLATE_DIR", templates)
    monkeypatch.setattr(catalogs, "LOCALE_DIR", locale)
    catalogs.translations.cache_clear()
    yield SimpleNamespace(templates=templates, locale=locale)
    catalogs.translations.cache_clear()


def test_a_new_email_is_one_template_set_and_one_entry_per_catalog(catalog_copy):
    for kind in ("subject", "txt"):
        (catalog_copy.templates / f"welcome.{kind}.j2").write_text('{{ _("Welcome, %(name)s!", name=name) }}\n')
    (catalog_copy.templates / "welcome.html.j2").write_text(
        '{% extends "_layout.html.j2" %}{% block body %}<p>{{ _("Welcome, %(name)s!", name=name) }}</p>{% endblock %}'
    )
    catalogs.update()
    assert catalogs.problems("en") == []
    for lang in ("tr", "de", "pl"):  # the new string is in every catalog, waiting for its translation
        assert catalogs.problems(lang) == [f"{lang}: not translated 'Welcome, %(name)s!'"]
    translated = {"tr": "Hoş geldiniz, %(name)s!", "de": "Willkommen, %(name)s!", "pl": "Witamy, %(name)s!"}
    for lang, text in translated.items():
        catalog = catalogs.read(lang)
        catalog["Welcome, %(name)s!"].string = text
        with catalogs.path_of(lang).open("wb") as f:
            catalogs.write(f, catalog)
        assert catalogs.problems(lang) == []
        assert catalog["Hello,"].string == GREETING[lang]  # the translations already there are kept
    catalogs.translations.cache_clear()
    env = environment("de", FileSystemLoader(catalog_copy.templates))
    assert env.get_template("welcome.subject.j2").render(name="Acme <GmbH>") == "Willkommen, Acme <GmbH>!\n"
    html = env.get_template("welcome.html.j2").render(name="Acme <GmbH>", subject="s")
    assert "<p>Willkommen, Acme &lt;GmbH&gt;!</p>" in html and "<p>Guten Tag,</p>" in html


def test_a_translation_that_drops_a_placeholder_is_found(catalog_copy):
    catalog = catalogs.read("pl")
    line = "%(quantity)s × %(name)s, active since %(since)s"
    catalog[line].string = "%(quantity)s ×, aktywne od %(since)s"
    catalog["every month"].string = ("co miesiąc", "co %(num)s miesiące", "co kilka miesięcy")
    with catalogs.path_of("pl").open("wb") as f:
        catalogs.write(f, catalog)
    assert catalogs.problems("pl") == [
        f"pl: {line!r} leaves out name",
        "pl: ('every month', 'every %(num)s months') leaves out num",
    ]


# --- what every email says -----------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("template", sorted(SELLER_FLOW))
def test_subject_text_and_html_are_in_the_language(template, lang):
    content = render(template, lang)
    assert content.subject == SUBJECTS[template][lang]
    assert "\n" not in content.subject
    assert content.text.startswith(GREETING[lang] + "\n")
    assert BODY[template][lang] in content.text
    assert f'<html lang="{lang}">' in content.html
    assert f"<title>{content.subject}</title>" in content.html
    assert f"<p>{GREETING[lang]}</p>" in content.html
    assert "{{" not in content.html and "{{" not in content.text and "%(" not in content.text + content.html


REQUEST_LINES = {
    "en": ["2 × SEO <boost> (every month): €617.40 each = €1,234.80", "1 × Setup (one-time): €99.00 each = €99.00"],
    "tr": [
        "2 × SEO <boost> (aylık): €617,40 birim fiyatı = €1.234,80",
        "1 × Setup (tek seferlik): €99,00 birim fiyatı = €99,00",
    ],
    "de": [
        nb("2 × SEO <boost> (monatlich): 617,40_€ pro Stück = 1.234,80_€"),
        nb("1 × Setup (einmalig): 99,00_€ pro Stück = 99,00_€"),
    ],
    "pl": [
        nb("2 × SEO <boost> (co miesiąc): 617,40_€ za sztukę = 1_234,80_€"),
        nb("1 × Setup (jednorazowo): 99,00_€ za sztukę = 99,00_€"),
    ],
}
REQUEST_ROWS = {
    "en": [("SEO &lt;boost&gt; <small>(every month)</small>", "2", "€617.40", "€1,234.80")],
    "tr": [("SEO &lt;boost&gt; <small>(aylık)</small>", "2", "€617,40", "€1.234,80")],
    "de": [("SEO &lt;boost&gt; <small>(monatlich)</small>", "2", nb("617,40_€"), nb("1.234,80_€"))],
    "pl": [("SEO &lt;boost&gt; <small>(co miesiąc)</small>", "2", nb("617,40_€"), nb("1_234,80_€"))],
}


def row(*cells: str) -> str:
    first, *rest = cells
    return f"<tr><td>{first}</td>" + "".join(f'<td align="right">{c}</td>' for c in rest) + "</tr>"


@pytest.mark.parametrize("lang", LANGS)
def test_request_received_lists_each_line_with_its_billing_prices_and_the_total(lang):
    content = render("request_received", lang)
    for line in REQUEST_LINES[lang]:
        assert f"\n- {line}\n" in content.text
    assert content.text.count("\n- ") == 2
    for cells in REQUEST_ROWS[lang]:
        assert row(*cells) in content.html
    assert content.html.count("<tr><td>") == 2
    for part in (content.text, content.html):
        assert str(REQUEST) in part
        assert BODY["request_received"][lang].split(": ")[1] in part  # the total


@pytest.mark.parametrize(
    "lang, cycles",
    [
        ("en", ["every month", "every 3 months", "every 12 months", "one-time"]),
        ("tr", ["aylık", "her 3 ayda bir", "her 12 ayda bir", "tek seferlik"]),
        ("de", ["monatlich", "alle 3 Monate", "alle 12 Monate", "einmalig"]),
        ("pl", ["co miesiąc", "co 3 miesiące", "co 12 miesięcy", "jednorazowo"]),
    ],
)
def test_a_lines_billing_cycle_is_said_with_the_languages_plurals(lang, cycles):
    wording = RENDER.envs[lang].filters["billing"]
    lines = [SimpleNamespace(billing="recurring", billing_period_months=m) for m in (1, 3, 12)]
    lines.append(SimpleNamespace(billing="one_time", billing_period_months=None))
    assert [wording(line) for line in lines] == cycles


INVOICE_LINE = {
    "en": ("2 × SEO boost: €617.40 each = €1,234.80", ("SEO boost", "2", "€617.40", "€1,234.80")),
    "tr": ("2 × SEO boost: €617,40 birim fiyatı = €1.234,80", ("SEO boost", "2", "€617,40", "€1.234,80")),
    "de": (nb("2 × SEO boost: 617,40_€ pro Stück = 1.234,80_€"), ("SEO boost", "2", nb("617,40_€"), nb("1.234,80_€"))),
    "pl": (nb("2 × SEO boost: 617,40_€ za sztukę = 1_234,80_€"), ("SEO boost", "2", nb("617,40_€"), nb("1_234,80_€"))),
}
METHOD_NAMES = {
    "card": {"en": "Card payment", "tr": "Kartla ödeme", "de": "Kartenzahlung", "pl": "Płatność kartą"},
    "bank_transfer": {"en": "Bank transfer", "tr": "Banka havalesi", "de": "Banküberweisung", "pl": "Przelew bankowy"},
    "paypal": {"en": "PayPal", "tr": "PayPal", "de": "PayPal", "pl": "PayPal"},
}
# How to pay the invoice billing issues (notify_samples.billed_invoice), as the customer reads it.
HOW_TO_PAY = {
    "en": {
        "card": "Sign in to the customer portal, open invoice INV-2026-0042 and pay it by card. "
        "We accept Visa, Mastercard, and American Express.",
        "bank_transfer": "Please transfer €1,234.80 to Portal Demo GmbH, IBAN DE89370400440532013000, "
        "BIC COBADEFFXXX. Please quote INV-2026-0042 as the payment reference so that we can match your "
        "payment to the invoice.",
        "paypal": "Please send €1,234.80 with PayPal to billing@portal.example and add INV-2026-0042 as the "
        "note to your payment.",
    },
    "tr": {
        "card": "Müşteri portalına giriş yapın, INV-2026-0042 numaralı faturayı açın ve kartınızla ödeyin. "
        "Visa, Mastercard ve American Express kartlarını kabul ediyoruz.",
        "bank_transfer": "Lütfen €1.234,80 tutarını Portal Demo GmbH adına şu hesaba havale edin: "
        "IBAN DE89370400440532013000, BIC COBADEFFXXX. Ödemenizi faturayla eşleştirebilmemiz için lütfen "
        "açıklama alanına INV-2026-0042 yazın.",
        "paypal": "Lütfen €1.234,80 tutarını PayPal ile billing@portal.example adresine gönderin ve ödeme "
        "notuna INV-2026-0042 yazın.",
    },
    "de": {
        "card": "Melden Sie sich im Kundenportal an, öffnen Sie die Rechnung INV-2026-0042 und bezahlen Sie "
        "sie mit Ihrer Karte. Wir akzeptieren Visa, Mastercard und American Express.",
        "bank_transfer": nb(
            "Bitte überweisen Sie 1.234,80_€ an Portal Demo GmbH, IBAN DE89370400440532013000, BIC COBADEFFXXX. "
            "Bitte geben Sie als Verwendungszweck INV-2026-0042 an, damit wir Ihre Zahlung der Rechnung "
            "zuordnen können."
        ),
        "paypal": nb(
            "Bitte senden Sie 1.234,80_€ per PayPal an billing@portal.example und geben Sie in der Mitteilung "
            "zur Zahlung INV-2026-0042 an."
        ),
    },
    "pl": {
        "card": "Zaloguj się do portalu klienta, otwórz fakturę INV-2026-0042 i zapłać kartą. "
        "Akceptujemy karty Visa, Mastercard i American Express.",
        "bank_transfer": nb(
            "Prosimy przelać 1_234,80_€ na rachunek odbiorcy Portal Demo GmbH, IBAN DE89370400440532013000, "
            "BIC COBADEFFXXX. W tytule przelewu prosimy podać INV-2026-0042, abyśmy mogli przypisać płatność "
            "do faktury."
        ),
        "paypal": nb(
            "Prosimy wysłać 1_234,80_€ przez PayPal na adres billing@portal.example i wpisać INV-2026-0042 "
            "w wiadomości do płatności."
        ),
    },
}
HOW_TO_PAY_TITLE = {
    "en": "How to pay:",
    "tr": "Ödeme seçenekleri:",
    "de": "So können Sie bezahlen:",
    "pl": "Sposoby płatności:",
}


@pytest.mark.parametrize("lang", LANGS)
def test_invoice_names_its_lines_total_and_due_date(lang):
    content = render("invoice_issued", lang)
    text_line, cells = INVOICE_LINE[lang]
    assert f"\n- {text_line}\n" in content.text and row(*cells) in content.html
    for part in (content.text, content.html):
        assert "INV-2026-0042" in part and TOTAL_1234_80[lang] in part and DUE[lang] in part


@pytest.mark.parametrize("lang", LANGS)
def test_invoice_says_how_to_pay_in_sentences_of_the_language(lang):
    content = render_event(billed_invoice(), lang)
    assert f"\n\n{HOW_TO_PAY_TITLE[lang]}\n\n* " in content.text
    for method in ("card", "bank_transfer", "paypal"):
        name, prose = METHOD_NAMES[method][lang], HOW_TO_PAY[lang][method]
        assert f"\n* {name}: {prose}\n" in content.text
        assert f"<li><strong>{name}:</strong> {prose}</li>" in content.html
    # billing's field names, its API and its raw values are nowhere in what the customer reads
    for part in (content.text.lower(), content.html.lower()):
        for raw in ("post ", "/v1/", "/payments", "method card", "visa, mastercard, amex", "_"):
            assert raw not in part, raw
        for instruction in billed_invoice().payment_instructions:
            for key in instruction.details:
                assert f"{key}:" not in part, key


@pytest.mark.parametrize(
    "lang, transfer, card",
    [
        (
            "en",
            "Please transfer €1,234.80 to our account IBAN DE89370400440532013000. Please quote INV-2026-0042 "
            "as the payment reference so that we can match your payment to the invoice.",
            "You can pay by card online: https://pay.example/inv/42",
        ),
        (
            "tr",
            "Lütfen €1.234,80 tutarını şu hesabımıza havale edin: IBAN DE89370400440532013000. Ödemenizi "
            "faturayla eşleştirebilmemiz için lütfen açıklama alanına INV-2026-0042 yazın.",
            "Kartınızla çevrim içi ödeme yapabilirsiniz: https://pay.example/inv/42",
        ),
        (
            "de",
            nb(
                "Bitte überweisen Sie 1.234,80_€ auf unser Konto IBAN DE89370400440532013000. Bitte geben Sie "
                "als Verwendungszweck INV-2026-0042 an, damit wir Ihre Zahlung der Rechnung zuordnen können."
            ),
            "Sie können online mit Ihrer Karte bezahlen: https://pay.example/inv/42",
        ),
        (
            "pl",
            nb(
                "Prosimy przelać 1_234,80_€ na nasz rachunek IBAN DE89370400440532013000. W tytule przelewu "
                "prosimy podać INV-2026-0042, abyśmy mogli przypisać płatność do faktury."
            ),
            "Możesz zapłacić kartą online: https://pay.example/inv/42",
        ),
    ],
)
def test_invoice_instructions_without_beneficiary_or_bic_and_with_a_payment_link(lang, transfer, card):
    content = render("invoice_issued", lang)
    bank, by_card = METHOD_NAMES["bank_transfer"][lang], METHOD_NAMES["card"][lang]
    assert f"\n* {bank}: {transfer}\n" in content.text and f"\n* {by_card}: {card}\n" in content.text
    assert f"<li><strong>{bank}:</strong> {transfer}</li>" in content.html
    assert f"<li><strong>{by_card}:</strong> {card}</li>" in content.html


def test_an_invoice_without_instructions_asks_to_quote_its_number():
    content = render_event(invoice_issued().model_copy(update={"payment_instructions": []}), "de")
    assert "So können Sie bezahlen" not in content.text and "So können Sie bezahlen" not in content.html
    assert "Bitte geben Sie bei der Zahlung die Rechnungsnummer INV-2026-0042 an." in content.text
    assert "<p>Bitte geben Sie bei der Zahlung die Rechnungsnummer INV-2026-0042 an.</p>" in content.html


@pytest.mark.parametrize("lang", LANGS)
def test_invoice_instruction_of_an_unknown_method_shows_its_details_escaped_in_html_only(lang):
    event = invoice_issued().model_copy(
        update={
            "payment_instructions": [PaymentInstruction(method="cash<on>delivery", details={"<b>desk</b>": "room 1"})]
        }
    )
    content = RENDER.render("invoice_issued", lang, context_of(event))
    assert "* cash<on>delivery: <b>desk</b>: room 1\n" in content.text
    assert "<li><strong>cash&lt;on&gt;delivery:</strong> &lt;b&gt;desk&lt;/b&gt;: room 1</li>" in content.html
    assert "<on>" not in content.html and "<b>desk" not in content.html


def test_invoice_instruction_values_are_escaped_in_html_only():
    event = billed_invoice().model_copy(update={"number": "INV-1 & <2>"})
    details = {"beneficiary": "Müller & <Söhne>", "iban": "DE89370400440532013000", "reference": "INV-1 & <2>"}
    event = event.model_copy(
        update={"payment_instructions": [PaymentInstruction(method="bank_transfer", details=details)]}
    )
    content = render_event(event, "en")
    assert "to Müller & <Söhne>, IBAN" in content.text and "quote INV-1 & <2> as" in content.text
    assert "to Müller &amp; &lt;Söhne&gt;, IBAN" in content.html and "quote INV-1 &amp; &lt;2&gt; as" in content.html
    assert "<Söhne>" not in content.html and "<2>" not in content.html


@pytest.mark.parametrize("lang", LANGS)
def test_question_and_reason_are_quoted_and_escaped_in_html_only(lang):
    asked = render("information_requested", lang)
    assert "<b>example.com</b>" in asked.text
    assert "&lt;b&gt;example.com&lt;/b&gt;" in asked.html and "<b>example.com" not in asked.html
    assert str(REQUEST) in asked.text and str(REQUEST) in asked.html
    rejected = render("request_rejected", lang)
    reason = "The add-on is not available in your region & plan."
    assert BODY["request_rejected"][lang] + reason in rejected.text
    assert "region &amp; plan." in rejected.html and str(REQUEST) in rejected.html
    received = render("request_received", lang)
    assert "SEO <boost>" in received.text and "SEO &lt;boost&gt;" in received.html


SERVICES = {
    "en": (
        "2 × SEO boost, active since January 10, 2026, next payment due on February 10, 2026",
        "1 × Store <setup>, active since January 12, 2026",
    ),
    "tr": (
        "2 × SEO boost, başlangıç tarihi 10 Ocak 2026, sonraki ödeme tarihi 10 Şubat 2026",
        "1 × Store <setup>, başlangıç tarihi 12 Ocak 2026",
    ),
    "de": (
        "2 × SEO boost, aktiv seit 10. Januar 2026, nächste Zahlung fällig am 10. Februar 2026",
        "1 × Store <setup>, aktiv seit 12. Januar 2026",
    ),
    "pl": (
        "2 × SEO boost, aktywne od 10 stycznia 2026, następna płatność do 10 lutego 2026",
        "1 × Store <setup>, aktywne od 12 stycznia 2026",
    ),
}


@pytest.mark.parametrize("lang", LANGS)
def test_services_active_names_each_service_with_its_dates(lang):
    event = services_activated()
    one_time = ActivatedService(
        subscription_id=uuid.uuid4(),
        item_id=uuid.uuid4(),
        name="Store <setup>",
        quantity=1,
        activated_on=date(2026, 1, 12),
        next_due_on=None,
    )
    content = render_event(event.model_copy(update={"services": [*event.services, one_time]}), lang)
    recurring, once = SERVICES[lang]
    assert f"\n\n- {recurring}\n- {once}\n\n" in content.text
    assert f"<li>{recurring}</li>" in content.html
    assert f"<li>{once.replace('<setup>', '&lt;setup&gt;')}</li>" in content.html
    assert str(REQUEST) in content.text and str(REQUEST) in content.html


@pytest.mark.parametrize("lang", LANGS)
def test_payment_received_names_amount_in_the_currencys_decimals(lang):
    content = render("payment_received", lang)
    assert TOTAL_1234_80[lang] in content.text and TOTAL_1234_80[lang] in content.html


PAID_IN_FULL = BODY["payment_received"]
BANK_TRANSFER = METHOD_NAMES["bank_transfer"]
RECEIVED = {"en": "Amount received: ", "tr": "Alınan tutar: ", "de": "Erhaltener Betrag: ", "pl": "Otrzymana kwota: "}
METHOD = {"en": "Payment method: ", "tr": "Ödeme yöntemi: ", "de": "Zahlungsart: ", "pl": "Sposób płatności: "}
STILL_DUE = {
    "en": "Balance still due: ",
    "tr": "Kalan tutar: ",
    "de": "Noch offener Betrag: ",
    "pl": "Pozostało do zapłaty: ",
}
EUR_500 = {"en": "€500.00", "tr": "€500,00", "de": nb("500,00_€"), "pl": nb("500,00_€")}
EUR_734_80 = {"en": "€734.80", "tr": "€734,80", "de": nb("734,80_€"), "pl": nb("734,80_€")}


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
        "Amount received: €500.00\n"
        "Payment method: Bank transfer\n"
        "Balance still due: €734.80\n\n"
        "Please pay the remaining balance quoting the invoice number INV-2026-0042.\n\n"
        "--\n"
        "This message was sent automatically by the customer portal. Please do not reply to it.\n"
    )
    assert render_payment(rest_paid(), "de").text == (
        "Guten Tag,\n\n"
        "Vielen Dank: Wir haben Ihre Zahlung für die Rechnung INV-2026-0042 erhalten.\n\n"
        f"Erhaltener Betrag: 734,80{NB}€\n"
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
        ("direct_debit", "de", "Lastschrift"),
        ("cash_on_delivery", "pl", "cash on delivery"),
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
    assert "<title>Payment received for invoice INV-1 &amp; &lt;2&gt;</title>" in content.html


@pytest.mark.parametrize("lang", LANGS)
def test_a_waiting_delivery_caused_by_payment_confirmed_still_renders_paid_in_full(lang):
    """Recorded before notify took PaymentReceived; rendered when the recipient's profile comes."""
    stored = payment_confirmed()
    event = event_of(stored.event_type, stored.version, stored.model_dump(mode="json"))
    content = RENDER.render("payment_received", lang, context_of(event))
    for part in (content.text, content.html):
        assert TOTAL_1234_80[lang] in part and PAID_IN_FULL[lang] in part
        assert METHOD[lang].strip() not in part and STILL_DUE[lang].strip() not in part


# --- the confirmation of an address ----------------------------------------------------------

CONFIRM_SUBJECT = {
    "en": "Please confirm your email address",
    "tr": "Lütfen e-posta adresinizi onaylayın",
    "de": "Bitte bestätigen Sie Ihre E-Mail-Adresse",
    "pl": "Potwierdź swój adres e-mail",
}
# the token's life, with the language's plural forms (Polish has three)
VALID_FOR = {
    ("en", 1): "work for 1 hour.",
    ("en", 48): "work for 48 hours.",
    ("tr", 48): "48 saat geçerlidir.",
    ("de", 1): "1 Stunde lang gültig.",
    ("de", 48): "48 Stunden lang gültig.",
    ("pl", 1): "przez 1 godzinę.",
    ("pl", 24): "przez 24 godziny.",
    ("pl", 48): "przez 48 godzin.",
}


def render_confirmation(lang: str, hours: int = 48, email: str = "ops@acme.test"):
    link = f"https://portal.test/confirm?token={SECRET_SLOT}"
    context = {"email": email, "link": link, "code": SECRET_SLOT, "hours": hours}
    return RENDER.render(CONFIRMATION_TEMPLATE, lang, context)


@pytest.mark.parametrize("lang", LANGS)
def test_the_confirmation_names_the_address_and_holds_the_tokens_slot_in_link_and_code(lang):
    content = render_confirmation(lang)
    assert content.subject == CONFIRM_SUBJECT[lang] and f"<title>{content.subject}</title>" in content.html
    assert content.text.startswith(GREETING[lang] + "\n") and f'<html lang="{lang}">' in content.html
    for part in (content.text, content.html):
        assert "ops@acme.test" in part
        assert f"https://portal.test/confirm?token={SECRET_SLOT}" in part  # the link
        assert part.count(SECRET_SLOT) == 2  # the link and the code: filled in when the email is sent
        assert VALID_FOR[(lang, 48)] in part
    assert f'<a href="https://portal.test/confirm?token={SECRET_SLOT}"' in content.html


@pytest.mark.parametrize("lang, hours", sorted(VALID_FOR))
def test_the_confirmation_says_how_long_it_works_with_the_languages_plurals(lang, hours):
    assert VALID_FOR[(lang, hours)] in render_confirmation(lang, hours).text


def test_the_confirmations_address_is_escaped_in_html_only():
    content = render_confirmation("en", email='"x<b>"@acme.test')
    assert '"x<b>"@acme.test' in content.text
    assert "&#34;x&lt;b&gt;&#34;@acme.test" in content.html and "<b>" not in content.html


def test_unknown_language_falls_back_to_english():
    content = render("services_active", "fr")
    assert content.subject == "Your services are active" and BODY["services_active"]["en"] in content.text


def test_a_missing_variable_fails_loudly():
    with pytest.raises(UndefinedError):
        RENDER.render("request_rejected", "en", {"request_id": REQUEST})


def test_subject_cannot_carry_a_header_break():
    event = ALL["invoice_issued"]().model_copy(update={"number": "INV-1\r\nBcc: someone"})
    assert "\n" not in RENDER.render("invoice_issued", "en", context_of(event)).subject


# --- money and dates as CLDR writes them ---------------------------------------------------


@pytest.mark.parametrize(
    "amount, currency, lang, expected",
    [
        (Decimal("1234.5"), "EUR", "de", nb("1.234,50_€")),
        (Decimal("1234.5"), "EUR", "en", "€1,234.50"),
        (Decimal("1234.5"), "EUR", "tr", "€1.234,50"),
        (Decimal("1234.5"), "EUR", "pl", nb("1_234,50_€")),
        (Decimal("0"), "EUR", "en", "€0.00"),
        (Decimal("5"), "EUR", "de", nb("5,00_€")),
        (Decimal("1234567.891"), "EUR", "en", "€1,234,567.89"),
        (Decimal("1234567.885"), "EUR", "de", nb("1.234.567,89_€")),  # half up, not to even
        (Decimal("999.995"), "EUR", "pl", nb("1_000,00_€")),
        (Decimal("-12.5"), "EUR", "tr", "-€12,50"),
        ("19.9", "EUR", "xx", "€19.90"),  # an unknown language: English
        (Decimal("1234.5"), "JPY", "en", "¥1,235"),  # the currency's own decimals
        (Decimal("1234.5"), "TRY", "tr", "₺1.234,50"),
        (12, "USD", "pl", nb("12,00_USD")),
    ],
)
def test_money_is_written_as_cldr_writes_it_for_the_language(amount, currency, lang, expected):
    assert format_money(amount, currency, lang) == expected


@pytest.mark.parametrize(
    "lang, expected",
    [
        ("en", "March 4, 2026"),
        ("tr", "4 Mart 2026"),
        ("de", "4. März 2026"),
        ("pl", "4 marca 2026"),
        ("xx", "March 4, 2026"),
    ],
)
def test_dates_are_written_as_cldr_writes_them_for_the_language(lang, expected):
    assert format_date(date(2026, 3, 4), lang) == expected
    assert format_date(datetime(2026, 3, 4, 23, 30), lang) == expected


def test_money_in_an_email_follows_the_events_currency():
    wording = Wording("de", catalogs.translations("de"))
    assert wording.money(SimpleNamespace(amount=Decimal("1234.5"), currency="USD")) == nb("1.234,50_$")
