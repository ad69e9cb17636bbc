"""The prepaid units' emails (issue 13) in every language, read as the partner and its billing
contact read them: units credited (granted, purchased, adjusted), the purchase receipt that is the
invoice (its packages, total, card, the units credited and the new balance), a declined purchase,
balance low, a declined automatic top-up (when it is tried again, in the business's time zone, or
that the plan is paused), the plan paused and the monthly cap reached; units, money and dates as
CLDR writes them for the language, units counted with the language's plural forms, no English left
in the other languages. Which event causes which email and which goes to the billing contact too
(a unit purchase's InvoiceIssued causes none: its receipt is its invoice email)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from markupsafe import escape
from notify_samples import (
    CONTACT,
    UNITS,
    invoice_issued,
    renewal_invoice,
    units_balance_low,
    units_cap_reached,
    units_credited,
    units_plan_paused,
    units_purchase_failed,
    units_purchased,
    units_top_up_failed,
)

from notify.adapters import catalogs
from notify.adapters.causes import TEMPLATES, billing_contact_of, context_of, event_of, template_for
from notify.adapters.templates import TemplateRenderer
from notify.adapters.wording import Wording
from notify.domain.deliveries import Audience
from portal_contracts.events.billing import BillTo

LANGS = ("en", "tr", "de", "pl")
RENDER = TemplateRenderer()
BERLIN = TemplateRenderer(ZoneInfo("Europe/Berlin"))
GREETING = {"en": "Hello,", "tr": "Merhaba,", "de": "Guten Tag,", "pl": "Dzień dobry,"}


def cldr(text: str) -> str:
    """CLDR's spaces written visibly in the expectations: `_` a no-break space (before a currency
    sign, between Polish thousands), `~` a narrow no-break space (before AM/PM)."""
    return text.replace("_", "\u00a0").replace("~", "\u202f")


def render(event, lang: str, audience: Audience = Audience.ACCOUNT, renderer: TemplateRenderer = RENDER):
    return renderer.render(template_for(event), lang, context_of(event, audience))


def html_line(label: str, value: str) -> str:
    return f"<p><strong>{label}</strong> {value}</p>"


SUBJECTS = {
    "units_credited": {
        "en": "8,000 units credited to your account",
        "tr": "Hesabınıza 8.000 birim yüklendi",
        "de": "Ihrem Konto wurden 8.000 Einheiten gutgeschrieben",
        "pl": "Na Twoje konto dodano 8_000 jednostek",
    },
    "units_purchased": {
        "en": "Receipt and invoice INV-2026-0200 for your units",
        "tr": "Birimleriniz için makbuz ve INV-2026-0200 numaralı fatura",
        "de": "Quittung und Rechnung INV-2026-0200 für Ihre Einheiten",
        "pl": "Potwierdzenie zakupu i faktura INV-2026-0200 za jednostki",
    },
    "units_purchase_failed": {
        "en": "Your purchase of units could not be completed",
        "tr": "Birim satın alımınız tamamlanamadı",
        "de": "Ihr Kauf von Einheiten konnte nicht abgeschlossen werden",
        "pl": "Nie udało się zrealizować zakupu jednostek",
    },
    "units_balance_low": {
        "en": "Low unit balance: 80 units",
        "tr": "Birim bakiyeniz azaldı: 80 birim",
        "de": "Niedriger Einheitenstand: 80 Einheiten",
        "pl": "Niskie saldo jednostek: 80 jednostek",
    },
    "units_top_up_failed": {
        "en": "Your automatic top-up was declined",
        "tr": "Otomatik yüklemeniz reddedildi",
        "de": "Ihre automatische Aufladung wurde abgelehnt",
        "pl": "Automatyczne doładowanie zostało odrzucone",
    },
    "units_plan_paused": {
        "en": "Your automatic top-up plan is paused",
        "tr": "Otomatik yükleme planınız duraklatıldı",
        "de": "Ihr automatischer Aufladeplan ist pausiert",
        "pl": "Twój plan automatycznego doładowania został wstrzymany",
    },
    "units_cap_reached": {
        "en": "Monthly spending cap reached: no automatic top-ups until February 1, 2026",
        "tr": "Aylık harcama limitine ulaşıldı: 1 Şubat 2026 tarihine kadar otomatik yükleme yok",
        "de": "Monatliches Ausgabenlimit erreicht: keine automatischen Aufladungen bis 1. Februar 2026",
        "pl": "Osiągnięto miesięczny limit wydatków: brak automatycznych doładowań do 1 lutego 2026",
    },
}
# A telling sentence of each body, per language, with its figures as the language writes them.
BODY = {
    "units_credited": {
        "en": "The 8,000 units you bought have been credited to your account.",
        "tr": "Satın aldığınız 8.000 birim hesabınıza yüklendi.",
        "de": "Die 8.000 Einheiten, die Sie gekauft haben, wurden Ihrem Konto gutgeschrieben.",
        "pl": "Kupionych przez Ciebie 8_000 jednostek zostało dodanych do Twojego konta.",
    },
    "units_purchased": {
        "en": "Thank you for your purchase. We have charged your card and credited the units to your account. "
        "This is your invoice INV-2026-0200, paid in full:",
        "tr": "Satın alımınız için teşekkür ederiz. Ödemeyi kartınızdan tahsil ettik ve birimleri hesabınıza "
        "yükledik. Tamamı ödenmiş INV-2026-0200 numaralı faturanız:",
        "de": "Vielen Dank für Ihren Kauf. Wir haben Ihre Karte belastet und die Einheiten Ihrem Konto "
        "gutgeschrieben. Dies ist Ihre Rechnung INV-2026-0200, vollständig bezahlt:",
        "pl": "Dziękujemy za zakup. Obciążyliśmy Twoją kartę i dodaliśmy jednostki do Twojego konta. Oto Twoja "
        "faktura INV-2026-0200, opłacona w całości:",
    },
    "units_purchase_failed": {
        "en": "We could not charge your card for your purchase of units (€1,234.80). The card does not have "
        "sufficient funds.",
        "tr": "Birim satın alımınız için kartınızdan €1.234,80 tahsil edemedik. Kartta yeterli bakiye yok.",
        "de": "Wir konnten Ihre Karte für Ihren Kauf von Einheiten (1.234,80_€) nicht belasten. Die Karte ist nicht "
        "ausreichend gedeckt.",
        "pl": "Nie udało się obciążyć Twojej karty kwotą 1_234,80_€ za zakup jednostek. Na karcie brakuje "
        "wystarczających środków.",
    },
    "units_balance_low": {
        "en": "Your unit balance has reached the level at which you asked us to let you know.",
        "tr": "Birim bakiyeniz, size haber vermemizi istediğiniz seviyeye ulaştı.",
        "de": "Ihr Einheitenstand hat die Schwelle erreicht, ab der wir Sie benachrichtigen sollen.",
        "pl": "Saldo Twoich jednostek osiągnęło ustawiony próg powiadomienia.",
    },
    "units_top_up_failed": {
        "en": "We could not charge the saved card for the automatic top-up of units (€1,234.80). The card issuer "
        "declined the payment.",
        "tr": "Otomatik birim yüklemesi için kayıtlı karttan €1.234,80 tahsil edemedik. Kartı veren banka ödemeyi "
        "reddetti.",
        "de": "Wir konnten die hinterlegte Karte für die automatische Aufladung von Einheiten (1.234,80_€) nicht "
        "belasten. Die kartenausgebende Bank hat die Zahlung abgelehnt.",
        "pl": "Nie udało się obciążyć zapisanej karty kwotą 1_234,80_€ za automatyczne doładowanie jednostek. "
        "Wydawca karty odrzucił płatność.",
    },
    "units_plan_paused": {
        "en": "After 3 declined charges in a row, your automatic top-up plan has been paused: no more units are "
        "bought automatically.",
        "tr": "Art arda 3 ödeme reddedildiği için otomatik yükleme planınız duraklatıldı; artık otomatik olarak "
        "birim satın alınmayacak.",
        "de": "Nach 3 abgelehnten Belastungen in Folge wurde Ihr automatischer Aufladeplan pausiert: Es werden "
        "keine Einheiten mehr automatisch gekauft.",
        "pl": "Po 3 odrzuconych płatnościach z rzędu Twój plan automatycznego doładowania został wstrzymany: "
        "jednostki nie będą już kupowane automatycznie.",
    },
    "units_cap_reached": {
        "en": "Your automatic top-up plan did not buy units: the top-up (€147.00) would take this month's spending "
        "over your monthly cap.",
        "tr": "Otomatik yükleme planınız birim satın almadı: bu yükleme (€147,00) bu ayki harcamanızı aylık "
        "limitinizin üzerine çıkarırdı.",
        "de": "Ihr automatischer Aufladeplan hat keine Einheiten gekauft: Die Aufladung (147,00_€) hätte die "
        "Ausgaben dieses Monats über Ihr monatliches Limit gebracht.",
        "pl": "Twój plan automatycznego doładowania nie kupił jednostek: doładowanie (147,00_€) przekroczyłoby w "
        "tym miesiącu Twój miesięczny limit wydatków.",
    },
}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("template", sorted(UNITS))
def test_subject_text_and_html_are_in_the_language(template, lang):
    event = UNITS[template]()
    assert template_for(event) == template
    content = render(event, lang)
    body = cldr(BODY[template][lang])
    assert content.subject == cldr(SUBJECTS[template][lang])
    assert content.text.startswith(GREETING[lang] + "\n\n")
    assert body in content.text and body in content.html  # the sentences are the catalog's, not escaped
    assert f'<html lang="{lang}">' in content.html
    assert f"<title>{escape(content.subject)}</title>" in content.html
    assert f"<p>{GREETING[lang]}</p>" in content.html
    assert "\n\n\n" not in content.text  # one blank line between paragraphs, whatever is left out
    assert "{{" not in content.html + content.text and "%(" not in content.text + content.html


def english_phrases() -> set[str]:
    """The English of every string the units' emails use (templates and wording), in the pieces
    between their placeholders that are long enough to be telling."""
    pieces = set()
    for message in catalogs.extract():
        if not message.id:
            continue
        if not any("units_" in path or "_layout" in path or "wording" in path for path, _ in message.locations):
            continue
        for text in message.id if isinstance(message.id, tuple) else (message.id,):
            pieces |= {p.strip(" .,:;()") for p in re.split(r"%\(\w+\)s", text) if len(p.strip(" .,:;()")) >= 12}
    return pieces


ENGLISH = english_phrases()


def every_variant(template: str) -> list:
    """Each way the email reads: each kind of credit, a manual and a plan receipt, a top-up to be
    tried again and one that paused the plan."""
    return {
        "units_credited": [
            units_credited(kind="granted"),
            units_credited(),
            units_credited(source="plan"),
            units_credited(kind="adjusted"),
        ],
        "units_purchased": [units_purchased(), units_purchased(source="plan")],
        "units_top_up_failed": [units_top_up_failed(), units_top_up_failed(paused=True)],
    }.get(template, [UNITS[template]()])


@pytest.mark.parametrize("lang", ("tr", "de", "pl"))
@pytest.mark.parametrize("template", sorted(UNITS))
def test_no_english_is_left_in_the_other_languages(template, lang):
    assert len(ENGLISH) > 60  # the extraction found the units' strings
    for event in every_variant(template):
        audiences = [Audience.ACCOUNT] + ([Audience.BILLING_CONTACT] if billing_contact_of(event) else [])
        for audience in audiences:
            content = render(event, lang, audience)
            for part in (content.subject, content.text, content.html):
                left = [phrase for phrase in ENGLISH if phrase in part]
                assert left == [], f"{template} ({audience}) in {lang} still says {left}"


# --- units credited -------------------------------------------------------------------------------

CREDITED = {
    "granted": {
        "en": ("8,000 free units granted to your account", "We have granted your account 8,000 free units."),
        "tr": ("Hesabınıza 8.000 ücretsiz birim tanımlandı", "Hesabınıza 8.000 ücretsiz birim tanımladık."),
        "de": (
            "Ihrem Konto wurden 8.000 kostenlose Einheiten gutgeschrieben",
            "Wir haben Ihrem Konto 8.000 kostenlose Einheiten gutgeschrieben.",
        ),
        "pl": (
            "Na Twoje konto przyznano 8_000 bezpłatnych jednostek",
            "Dodaliśmy do Twojego konta 8_000 bezpłatnych jednostek.",
        ),
    },
    "plan": {
        "en": (
            "8,000 units credited to your account",
            "Your automatic top-up plan has bought 8,000 units, and they have been credited to your account.",
        ),
        "tr": (
            "Hesabınıza 8.000 birim yüklendi",
            "Otomatik yükleme planınız 8.000 birim satın aldı; birimler hesabınıza yüklendi.",
        ),
        "de": (
            "Ihrem Konto wurden 8.000 Einheiten gutgeschrieben",
            "Ihr automatischer Aufladeplan hat 8.000 Einheiten gekauft; sie wurden Ihrem Konto gutgeschrieben.",
        ),
        "pl": (
            "Na Twoje konto dodano 8_000 jednostek",
            "Twój plan automatycznego doładowania kupił 8_000 jednostek; zostały one dodane do Twojego konta.",
        ),
    },
    "adjusted": {
        "en": ("8,000 units added to your account by our team", "Our team has added 8,000 units to your account."),
        "tr": ("Ekibimiz hesabınıza 8.000 birim ekledi", "Ekibimiz hesabınıza 8.000 birim ekledi."),
        "de": (
            "Unser Team hat Ihrem Konto 8.000 Einheiten gutgeschrieben",
            "Unser Team hat Ihrem Konto 8.000 Einheiten gutgeschrieben.",
        ),
        "pl": (
            "Nasz zespół dodał do Twojego konta 8_000 jednostek",
            "Nasz zespół dodał do Twojego konta 8_000 jednostek.",
        ),
    },
}
NEW_BALANCE = {
    "en": "New balance: 7,980 units",
    "tr": "Yeni bakiye: 7.980 birim",
    "de": "Neuer Kontostand: 7.980 Einheiten",
    "pl": "Nowe saldo: 7_980 jednostek",
}
NEVER_EXPIRE = {
    "en": "Units never expire.",
    "tr": "Birimlerin süresi dolmaz.",
    "de": "Einheiten verfallen nicht.",
    "pl": "Jednostki nie wygasają.",
}
RECEIPT_FOLLOWS = {
    "en": "The receipt with the invoice comes in a separate email.",
    "tr": "Faturayı içeren makbuz ayrı bir e-postayla gelir.",
    "de": "Die Quittung mit der Rechnung erhalten Sie in einer eigenen E-Mail.",
    "pl": "Potwierdzenie zakupu z fakturą otrzymasz w osobnej wiadomości.",
}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", sorted(CREDITED))
def test_units_credited_says_which_credit_the_units_and_the_new_balance(kind, lang):
    event = units_credited(source="plan") if kind == "plan" else units_credited(kind=kind)
    content = render(event, lang)
    subject, says = (cldr(part) for part in CREDITED[kind][lang])
    balance = cldr(NEW_BALANCE[lang])
    assert content.subject == subject
    assert f"\n\n{says}" in content.text and says in content.html
    assert f"\n\n{balance}\n" in content.text
    label, value = balance.split(": ")
    assert html_line(f"{label}:", value) in content.html
    for part in (content.text, content.html):
        assert (NEVER_EXPIRE[lang] in part) == (kind == "granted")  # the grant says units keep
        assert (RECEIPT_FOLLOWS[lang] in part) == (kind == "plan")  # a purchase's receipt is its own email


# --- the receipt: the purchase's invoice ---------------------------------------------------------

RECEIPT_LINES = {
    "en": (
        ("Starter pack", "3", "3,000", "€147.00", "Starter pack, 3 × 1,000 units: €147.00"),
        ("Volume &lt;5000&gt;", "1", "5,000", "€199.00", "Volume <5000>, 1 × 5,000 units: €199.00"),
    ),
    "tr": (
        ("Starter pack", "3", "3.000", "€147,00", "Starter pack, 3 × 1.000 birim: €147,00"),
        ("Volume &lt;5000&gt;", "1", "5.000", "€199,00", "Volume <5000>, 1 × 5.000 birim: €199,00"),
    ),
    "de": (
        ("Starter pack", "3", "3.000", "147,00_€", "Starter pack, 3 × 1.000 Einheiten: 147,00_€"),
        ("Volume &lt;5000&gt;", "1", "5.000", "199,00_€", "Volume <5000>, 1 × 5.000 Einheiten: 199,00_€"),
    ),
    "pl": (
        ("Starter pack", "3", "3_000", "147,00_€", "Starter pack, 3 × 1_000 jednostek: 147,00_€"),
        ("Volume &lt;5000&gt;", "1", "5_000", "199,00_€", "Volume <5000>, 1 × 5_000 jednostek: 199,00_€"),
    ),
}
RECEIPT_FIGURES = {
    "en": (
        "Total: €346.00",
        "Payment method: Visa ending in 4242",
        "Date: January 10, 2026",
        "",
        "Units credited: 8,000 units",
        "New balance: 7,980 units",
    ),
    "tr": (
        "Toplam: €346,00",
        "Ödeme yöntemi: 4242 ile biten Visa kart",
        "Tarih: 10 Ocak 2026",
        "",
        "Yüklenen birim: 8.000 birim",
        "Yeni bakiye: 7.980 birim",
    ),
    "de": (
        "Gesamtbetrag: 346,00_€",
        "Zahlungsart: Visa mit den Endziffern 4242",
        "Datum: 10. Januar 2026",
        "",
        "Gutgeschriebene Einheiten: 8.000 Einheiten",
        "Neuer Kontostand: 7.980 Einheiten",
    ),
    "pl": (
        "Razem: 346,00_€",
        "Sposób płatności: Visa z końcówką 4242",
        "Data: 10 stycznia 2026",
        "",
        "Dodane jednostki: 8_000 jednostek",
        "Nowe saldo: 7_980 jednostek",
    ),
}
HEADER = {
    "en": ("Package", "Quantity", "Units", "Amount", "Total"),
    "tr": ("Paket", "Adet", "Birim", "Tutar", "Toplam"),
    "de": ("Paket", "Menge", "Einheiten", "Betrag", "Gesamtbetrag"),
    "pl": ("Pakiet", "Ilość", "Jednostki", "Kwota", "Razem"),
}


@pytest.mark.parametrize("lang", LANGS)
def test_the_receipt_is_the_invoice_with_each_package_the_total_the_card_and_the_new_balance(lang):
    content = render(units_purchased(), lang)
    lines = [tuple(cldr(cell) for cell in line) for line in RECEIPT_LINES[lang]]
    figures = [cldr(f) for f in RECEIPT_FIGURES[lang]]
    listed = "".join(f"- {line[-1]}\n" for line in lines)
    assert f"\n\n{listed}\n" + "\n".join(figures) + "\n" in content.text
    package, quantity, units, amount, total = HEADER[lang]
    assert (
        f'<th align="left">{package}</th><th align="right">{quantity}</th><th align="right">{units}</th>'
        f'<th align="right">{amount}</th>'
    ) in content.html
    for name, count, credited, price, _ in lines:
        assert (
            f'<tr><td>{name}</td><td align="right">{count}</td><td align="right">{credited}</td>'
            f'<td align="right">{price}</td></tr>'
        ) in content.html
    assert f'<th align="left" colspan="3">{total}</th><th align="right">{figures[0].split(": ")[1]}</th>' in (
        content.html
    )
    for figure in figures[1:]:
        if figure:
            label, value = figure.split(": ")
            assert html_line(f"{label}:", value) in content.html
    assert "<5000>" not in content.html and "INV-2026-0200" in content.subject + content.text + content.html


PLAN_RECEIPT = {
    "en": (
        "Automatic top-up: receipt and invoice INV-2026-0200",
        "Your automatic top-up plan has bought units so that your service keeps running without interruption.",
        "The plan buys units again whenever your balance reaches its threshold.",
    ),
    "tr": (
        "Otomatik yükleme: makbuz ve INV-2026-0200 numaralı fatura",
        "Otomatik yükleme planınız, hizmetiniz kesintisiz devam etsin diye birim satın aldı.",
        "Plan, bakiyeniz eşik değerine her ulaştığında yeniden birim satın alır.",
    ),
    "de": (
        "Automatische Aufladung: Quittung und Rechnung INV-2026-0200",
        "Ihr automatischer Aufladeplan hat Einheiten gekauft, damit Ihr Dienst ohne Unterbrechung weiterläuft.",
        "Der Plan kauft jedes Mal erneut Einheiten, wenn Ihr Kontostand seinen Schwellenwert erreicht.",
    ),
    "pl": (
        "Automatyczne doładowanie: potwierdzenie i faktura INV-2026-0200",
        "Twój plan automatycznego doładowania kupił jednostki, aby Twoja usługa działała bez przerwy.",
        "Plan ponownie kupi jednostki za każdym razem, gdy saldo osiągnie jego próg.",
    ),
}


@pytest.mark.parametrize("lang", LANGS)
def test_a_plan_receipt_says_it_was_an_automatic_top_up_with_the_same_figures(lang):
    manual, plan = render(units_purchased(), lang), render(units_purchased(source="plan"), lang)
    subject, automatic, again = PLAN_RECEIPT[lang]
    assert plan.subject == subject and manual.subject != subject
    for part in (plan.text, plan.html):
        assert automatic in part and again in part
    for part in (manual.text, manual.html):
        assert automatic not in part and again not in part
    for figure in RECEIPT_FIGURES[lang]:
        assert cldr(figure) in plan.text


@pytest.mark.parametrize(
    "brand, last4, says",
    [
        ("mastercard", "4444", "Payment method: Mastercard ending in 4444"),
        ("other", "0004", "Payment method: card ending in 0004"),
        ("amex", None, "Payment method: American Express"),
    ],
)
def test_the_card_is_named_by_its_brand_and_last_four_digits(brand, last4, says):
    event = units_purchased().model_copy(update={"card_brand": brand, "card_last4": last4})
    assert f"\n{says}\n" in render(event, "en").text


def test_a_receipt_without_card_details_leaves_the_payment_method_out():
    event = units_purchased().model_copy(update={"card_brand": None, "card_last4": None})
    content = render(event, "en")
    assert "Payment method" not in content.text + content.html and "Total: €346.00\nDate:" in content.text


# --- a declined purchase ---------------------------------------------------------------------------

NOTHING_CREDITED = {
    "en": "No units have been credited, and invoice INV-2026-0201 has been cancelled: you owe nothing for it.",
    "tr": "Hesabınıza birim yüklenmedi ve INV-2026-0201 numaralı fatura iptal edildi; bu fatura için bir ödeme "
    "yapmanız gerekmez.",
    "de": "Ihrem Konto wurden keine Einheiten gutgeschrieben, und die Rechnung INV-2026-0201 wurde storniert: Sie "
    "schulden dafür nichts.",
    "pl": "Na Twoje konto nie dodano żadnych jednostek, a faktura INV-2026-0201 została anulowana: nie musisz za nią "
    "nic płacić.",
}


@pytest.mark.parametrize("lang", LANGS)
def test_a_declined_purchase_says_why_that_nothing_was_credited_and_the_invoice_is_voided(lang):
    content = render(units_purchase_failed(), lang)
    for part in (content.text, content.html):
        assert cldr(BODY["units_purchase_failed"][lang]) in part and NOTHING_CREDITED[lang] in part


@pytest.mark.parametrize(
    "reason, says",
    [
        ("card_declined", "The card issuer declined the payment."),
        ("insufficient_funds", "The card does not have sufficient funds."),
        ("expired_card", "The card has expired."),
        ("incorrect_cvc", "The card's security code was not accepted."),
        ("processing_error", "The payment could not be processed."),
        ("stolen_card", "The payment was declined."),  # never told as such, nor any code we do not know
        ("do_not_honor", "The payment was declined."),
    ],
)
def test_the_decline_reason_is_said_in_words_never_as_the_gateways_code(reason, says):
    content = render(units_purchase_failed(reason=reason), "en")
    assert f"(€1,234.80). {says}\n" in content.text
    assert reason not in content.text + content.html


# --- balance low ----------------------------------------------------------------------------------

LOW = {
    "en": ("Balance: 80 units", "Notice level: 1,000 units"),
    "tr": ("Bakiye: 80 birim", "Bildirim eşiği: 1.000 birim"),
    "de": ("Kontostand: 80 Einheiten", "Benachrichtigungsschwelle: 1.000 Einheiten"),
    "pl": ("Saldo: 80 jednostek", "Próg powiadomienia: 1_000 jednostek"),
}


@pytest.mark.parametrize("lang", LANGS)
def test_balance_low_names_the_balance_and_the_level(lang):
    content = render(units_balance_low(), lang)
    balance, level = (cldr(line) for line in LOW[lang])
    assert f"\n\n{balance}\n{level}\n\n" in content.text
    for line in (balance, level):
        label, value = line.split(": ")
        assert html_line(f"{label}:", value) in content.html


def test_a_balance_below_zero_is_counted_as_its_size():
    content = render(units_balance_low().model_copy(update={"balance": -22}), "pl")
    assert content.subject == "Niskie saldo jednostek: -22 jednostki" and "\nSaldo: -22 jednostki\n" in content.text


# --- a declined top-up, the plan paused, the cap reached --------------------------------------------

TRY_AGAIN = {  # 10:30 UTC, as the business in Berlin reads it
    "en": "We will try again on January 10, 2026, 11:30~AM (Central European Standard Time).",
    "tr": "10 Ocak 2026 11:30 (Orta Avrupa Standart Saati) tarihinde yeniden deneyeceğiz.",
    "de": "Wir versuchen es am 10. Januar 2026, 11:30 (Mitteleuropäische Normalzeit) erneut.",
    "pl": "Spróbujemy ponownie 10 stycznia 2026 11:30 (czas środkowoeuropejski standardowy).",
}
TWICE = {
    "en": "The card has now been declined 2 times in a row.",
    "tr": "Kart art arda 2 kez reddedildi.",
    "de": "Die Karte wurde damit 2 Mal in Folge abgelehnt.",
    "pl": "Karta została odrzucona już 2 razy z rzędu.",
}
PAUSED = {
    "en": "The automatic top-up plan is therefore paused: no more units are bought automatically. Save a new card "
    "in the customer portal to resume it.",
    "tr": "Bu nedenle otomatik yükleme planı duraklatıldı; artık otomatik olarak birim satın alınmayacak. Planı "
    "sürdürmek için müşteri portalından yeni bir kart kaydedin.",
    "de": "Der automatische Aufladeplan ist deshalb pausiert: Es werden keine Einheiten mehr automatisch gekauft. "
    "Hinterlegen Sie im Kundenportal eine neue Karte, um ihn fortzusetzen.",
    "pl": "Dlatego plan automatycznego doładowania został wstrzymany: jednostki nie będą już kupowane automatycznie. "
    "Aby go wznowić, zapisz nową kartę w portalu klienta.",
}


@pytest.mark.parametrize("lang", LANGS)
def test_a_declined_top_up_says_when_it_is_tried_again_in_the_businesss_time_zone(lang):
    content = render(units_top_up_failed(), lang, renderer=BERLIN)
    for part in (content.text, content.html):
        assert cldr(TRY_AGAIN[lang]) in part and TWICE[lang] in part
        assert NOTHING_CREDITED[lang].replace("0201", "0202") in part
        assert PAUSED[lang] not in part


def test_the_next_attempt_is_said_in_utc_when_the_business_keeps_utc():
    content = render(units_top_up_failed(), "en")
    assert cldr("\nWe will try again on January 10, 2026, 10:30~AM (Coordinated Universal Time).\n") in content.text


def test_a_first_decline_is_not_counted_and_one_without_a_next_attempt_says_later():
    event = units_top_up_failed().model_copy(update={"declines_in_a_row": 1, "next_attempt_at": None})
    content = render(event, "de")
    assert "in Folge" not in content.text and "\nWir versuchen es später erneut.\n" in content.text


@pytest.mark.parametrize("lang", LANGS)
def test_the_top_up_that_paused_the_plan_says_so_and_how_to_resume(lang):
    content = render(units_top_up_failed(paused=True), lang)
    subject = {
        "en": "Your automatic top-up was declined and the plan is paused",
        "tr": "Otomatik yüklemeniz reddedildi ve plan duraklatıldı",
        "de": "Ihre automatische Aufladung wurde abgelehnt und der Plan pausiert",
        "pl": "Automatyczne doładowanie zostało odrzucone, a plan wstrzymany",
    }
    assert content.subject == subject[lang]
    for part in (content.text, content.html):
        assert PAUSED[lang] in part and TWICE[lang].replace("2", "3") in part
        assert cldr(TRY_AGAIN[lang])[:12] not in part


RESUME = {
    "en": ("Paused on: January 10, 2026", "To resume the plan, save a new card in the customer portal."),
    "tr": ("Duraklatılma tarihi: 10 Ocak 2026", "Planı sürdürmek için müşteri portalından yeni bir kart kaydedin."),
    "de": (
        "Pausiert seit: 10. Januar 2026",
        "Um den Plan fortzusetzen, hinterlegen Sie im Kundenportal eine neue Karte.",
    ),
    "pl": ("Data wstrzymania: 10 stycznia 2026", "Aby wznowić plan, zapisz nową kartę w portalu klienta."),
}


@pytest.mark.parametrize("lang", LANGS)
def test_plan_paused_says_since_when_and_that_a_new_card_resumes_it(lang):
    content = render(units_plan_paused(), lang)
    since, resume = RESUME[lang]
    assert f"\n\n{since}\n\n{resume}" in content.text
    label, value = since.split(": ")
    assert html_line(f"{label}:", value) in content.html and resume in content.html


def test_a_date_is_the_day_it_falls_on_in_the_businesss_time_zone():
    late = units_plan_paused().model_copy(update={"paused_at": datetime(2026, 1, 10, 23, 30, tzinfo=UTC)})
    assert "\nPaused on: January 11, 2026\n" in render(late, "en", renderer=BERLIN).text
    assert "\nPaused on: January 10, 2026\n" in render(late, "en").text


CAP = {
    "en": (
        "Month: January 2026",
        "Monthly cap: €300.00",
        "Spent by the plan this month: €294.00",
        "Top-up needed: €147.00",
        "No more automatic top-ups are made this month; they resume on February 1, 2026.",
    ),
    "tr": (
        "Ay: Ocak 2026",
        "Aylık limit: €300,00",
        "Planın bu ay harcadığı: €294,00",
        "Gereken yükleme: €147,00",
        "Bu ay başka otomatik yükleme yapılmayacak; yüklemeler 1 Şubat 2026 tarihinde yeniden başlar.",
    ),
    "de": (
        "Monat: Januar 2026",
        "Monatliches Limit: 300,00_€",
        "In diesem Monat vom Plan ausgegeben: 294,00_€",
        "Benötigte Aufladung: 147,00_€",
        "In diesem Monat werden keine automatischen Aufladungen mehr vorgenommen; sie werden am 1. Februar 2026 "
        "fortgesetzt.",
    ),
    "pl": (
        "Miesiąc: styczeń 2026",
        "Miesięczny limit: 300,00_€",
        "Wydane przez plan w tym miesiącu: 294,00_€",
        "Potrzebne doładowanie: 147,00_€",
        "W tym miesiącu nie będzie już automatycznych doładowań; zostaną wznowione 1 lutego 2026.",
    ),
}


@pytest.mark.parametrize("lang", LANGS)
def test_cap_reached_names_the_cap_what_was_spent_what_was_needed_and_when_it_resumes(lang):
    content = render(units_cap_reached(), lang)
    *figures, resumes = (cldr(line) for line in CAP[lang])
    assert "\n\n" + "\n".join(figures) + f"\n\n{resumes}\n" in content.text
    for figure in figures:
        label, value = figure.split(": ")
        assert html_line(f"{label}:", value) in content.html
    assert resumes in content.html


# --- the billing contact's copy -------------------------------------------------------------------

CONTACTS_COPY = {
    "en": (
        "Hello Berta <Billing>,",
        "You receive this email as the billing contact named in the automatic top-up plan of account acme.",
    ),
    "tr": (
        "Merhaba Berta <Billing>,",
        "Bu e-postayı, acme hesabının otomatik yükleme planında fatura ilgilisi olarak belirtildiğiniz için "
        "alıyorsunuz.",
    ),
    "de": (
        "Guten Tag Berta <Billing>,",
        "Sie erhalten diese E-Mail, weil Sie im automatischen Aufladeplan des Kontos acme als Rechnungskontakt "
        "angegeben sind.",
    ),
    "pl": (
        "Dzień dobry Berta <Billing>,",
        "Otrzymujesz tę wiadomość jako osoba kontaktowa ds. rozliczeń wskazana w planie automatycznego doładowania "
        "konta acme.",
    ),
}
FOR_THE_CONTACT = ("units_purchased", "units_top_up_failed", "units_plan_paused", "units_cap_reached")


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("template", FOR_THE_CONTACT)
def test_the_contacts_copy_greets_the_contact_by_name_says_why_and_has_the_same_figures(template, lang):
    event = units_purchased(source="plan") if template == "units_purchased" else UNITS[template]()
    contact, account = render(event, lang, Audience.BILLING_CONTACT), render(event, lang)
    greeting, why = CONTACTS_COPY[lang]
    assert contact.subject == account.subject
    assert contact.text.startswith(f"{greeting}\n\n") and f"\n\n{why}\n\n--\n" in contact.text
    assert f"<p>{escape(greeting)}</p>" in contact.html and f"<p>{why}</p>" in contact.html
    assert "<Billing>" not in contact.html
    assert contact.text.replace(f"{greeting}\n", f"{GREETING[lang]}\n").replace(f"\n\n{why}", "") == account.text
    assert why not in account.text + account.html


# --- units as each language counts them -------------------------------------------------------------


@pytest.mark.parametrize(
    "lang, counts",
    [
        ("en", {1: "1 unit", 2: "2 units", 1000: "1,000 units", -1: "-1 unit", 0: "0 units"}),
        ("tr", {1: "1 birim", 2: "2 birim", 1000: "1.000 birim"}),
        ("de", {1: "1 Einheit", 2: "2 Einheiten", 1000: "1.000 Einheiten", -20: "-20 Einheiten"}),
        (
            "pl",
            {
                1: "1 jednostka",
                2: "2 jednostki",
                4: "4 jednostki",
                5: "5 jednostek",
                12: "12 jednostek",
                22: "22 jednostki",
                -22: "-22 jednostki",
                1000: "1_000 jednostek",
            },
        ),
    ],
)
def test_units_are_counted_with_the_languages_digits_and_plural_forms(lang, counts):
    wording = Wording(lang, catalogs.translations(lang))
    assert {n: wording.units(n) for n in counts} == {n: cldr(said) for n, said in counts.items()}


@pytest.mark.parametrize(
    "lang, subject",
    [
        ("en", "1 unit credited to your account"),
        ("de", "Ihrem Konto wurde 1 Einheit gutgeschrieben"),
        ("pl", "Na Twoje konto dodano 1 jednostkę"),  # the sentence declines it: accusative
    ],
)
def test_one_unit_is_said_in_the_singular_of_the_sentence(lang, subject):
    assert render(units_credited().model_copy(update={"units": 1}), lang).subject == subject


# --- which event causes which email, and who receives it --------------------------------------------


def test_each_units_event_has_its_email_and_a_unit_purchases_invoice_none():
    assert {TEMPLATES[type(make())] for make in UNITS.values()} == set(UNITS)
    top_up = renewal_invoice(source_kind="unit_top_up").model_copy(
        update={
            "bill_to": BillTo(
                name=CONTACT.name,
                email=CONTACT.email,
                line1="Main St 1",
                postal_code="10115",
                city="Berlin",
                country="DE",
            )
        }
    )
    assert template_for(top_up) is None  # InvoiceIssued v2: the receipt is its email
    assert template_for(invoice_issued().model_copy(update={"request_id": None})) is None  # its v1


def test_the_plans_notices_go_to_its_billing_contact_too_and_nothing_else_does():
    assert billing_contact_of(units_purchased(source="plan")) == CONTACT
    for notice in (units_top_up_failed(), units_top_up_failed(paused=True), units_plan_paused(), units_cap_reached()):
        assert billing_contact_of(notice) == CONTACT
    account_only = (units_purchased(), units_credited(), units_purchase_failed(), units_balance_low())
    assert [billing_contact_of(event) for event in account_only] == [None] * 4
    # a manual purchase names no contact; were one named, the receipt would still be the account's alone
    assert billing_contact_of(units_purchased().model_copy(update={"billing_contact": CONTACT})) is None
    with pytest.raises(ValueError):
        context_of(units_balance_low(), Audience.BILLING_CONTACT)


@pytest.mark.parametrize("audience", list(Audience))
@pytest.mark.parametrize("template", FOR_THE_CONTACT)
def test_a_stored_cause_renders_as_the_event_did(template, audience):
    """A delivery that waited for its recipient is rendered later from its stored cause."""
    event = units_purchased(source="plan") if template == "units_purchased" else UNITS[template]()
    stored = event_of(event.event_type, event.version, event.model_dump(mode="json"))
    assert stored == event
    assert RENDER.render(template, "tr", context_of(stored, audience)) == render(event, "tr", audience)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("template", sorted(UNITS))
def test_no_date_or_time_is_left_as_the_events_iso_text(template, lang):
    content = render(UNITS[template](), lang)
    assert not re.search(r"\d{4}-\d{2}(?!\d)", content.text + content.html)  # an invoice number may hold 2026-02..
