"""The client area's emails (issue 12) in every language, read as the customer reads them: order
received, the order's or renewal's invoice (a renewal invoice lists each service and add-on with
the period it pays for), payment received for such an invoice, and one email per service event
naming the service, its domain and its add-ons; money, dates and periods as CLDR writes them for
the language. Which event causes which email (and which causes none: one invoice, one email)."""

from __future__ import annotations

import re

import pytest
from markupsafe import escape
from notify_samples import (
    CLIENT_AREA,
    eur,
    invoice_issued,
    order_invoice,
    order_placed,
    payment_received,
    renewal_invoice,
    service_cancelled,
    service_suspended,
)

from notify.adapters.causes import TEMPLATES, context_of, event_of, template_for
from notify.adapters.templates import TemplateRenderer
from portal_contracts.events.billing import InvoiceIssued, InvoiceIssuedV2
from portal_contracts.events.orders import OrderPlaced

LANGS = ("en", "tr", "de", "pl")
RENDER = TemplateRenderer()
GREETING = {"en": "Hello,", "tr": "Merhaba,", "de": "Guten Tag,", "pl": "Dzień dobry,"}


def cldr(text: str) -> str:
    """CLDR's spaces written visibly in the expectations: `_` a no-break space (before a currency
    sign, between Polish thousands), `^` a thin space (around the dash of a date interval)."""
    return text.replace("_", "\u00a0").replace("^", "\u2009")


def render(event, lang: str):
    return RENDER.render(template_for(event), lang, context_of(event))


SUBJECTS = {
    "order_received": {
        "en": "We received your order ORD-2026-0007",
        "tr": "ORD-2026-0007 numaralı siparişinizi aldık",
        "de": "Wir haben Ihre Bestellung ORD-2026-0007 erhalten",
        "pl": "Otrzymaliśmy Twoje zamówienie ORD-2026-0007",
    },
    "order_invoice": {
        "en": "Renewal invoice INV-2026-0100, due on March 31, 2026",
        "tr": "INV-2026-0100 numaralı yenileme faturası, son ödeme tarihi 31 Mart 2026",
        "de": "Verlängerungsrechnung INV-2026-0100, fällig am 31. März 2026",
        "pl": "Faktura za odnowienie INV-2026-0100, termin płatności 31 marca 2026",
    },
    "service_activated": {
        "en": "Your service Web Hosting <Pro> (example.com) is active",
        "tr": "Web Hosting <Pro> (example.com) hizmetiniz aktif",
        "de": "Ihr Dienst Web Hosting <Pro> (example.com) ist aktiv",
        "pl": "Twoja usługa Web Hosting <Pro> (example.com) jest aktywna",
    },
    "service_renewed": {
        "en": "Your service Web Hosting <Pro> (example.com) has been renewed",
        "tr": "Web Hosting <Pro> (example.com) hizmetiniz yenilendi",
        "de": "Ihr Dienst Web Hosting <Pro> (example.com) wurde verlängert",
        "pl": "Twoja usługa Web Hosting <Pro> (example.com) została odnowiona",
    },
    "service_overdue": {
        "en": "Payment reminder: Web Hosting <Pro> (example.com)",
        "tr": "Ödeme hatırlatması: Web Hosting <Pro> (example.com)",
        "de": "Zahlungserinnerung: Web Hosting <Pro> (example.com)",
        "pl": "Przypomnienie o płatności: Web Hosting <Pro> (example.com)",
    },
    "service_suspended": {
        "en": "Your service Web Hosting <Pro> (example.com) has been suspended",
        "tr": "Web Hosting <Pro> (example.com) hizmetiniz askıya alındı",
        "de": "Ihr Dienst Web Hosting <Pro> (example.com) wurde gesperrt",
        "pl": "Twoja usługa Web Hosting <Pro> (example.com) została zawieszona",
    },
    "service_reactivated": {
        "en": "Your service Web Hosting <Pro> (example.com) is active again",
        "tr": "Web Hosting <Pro> (example.com) hizmetiniz yeniden aktif",
        "de": "Ihr Dienst Web Hosting <Pro> (example.com) ist wieder aktiv",
        "pl": "Twoja usługa Web Hosting <Pro> (example.com) jest znowu aktywna",
    },
    "service_terminated": {
        "en": "Your service Web Hosting <Pro> (example.com) has been terminated",
        "tr": "Web Hosting <Pro> (example.com) hizmetiniz sonlandırıldı",
        "de": "Ihr Dienst Web Hosting <Pro> (example.com) wurde beendet",
        "pl": "Twoja usługa Web Hosting <Pro> (example.com) została zakończona",
    },
    "service_cancellation_scheduled": {
        "en": "Cancellation of Web Hosting <Pro> (example.com) on April 30, 2026",
        "tr": "Web Hosting <Pro> (example.com) hizmetinin iptali: 30 Nisan 2026",
        "de": "Kündigung von Web Hosting <Pro> (example.com) zum 30. April 2026",
        "pl": "Anulowanie usługi Web Hosting <Pro> (example.com) z dniem 30 kwietnia 2026",
    },
    "service_cancelled": {
        "en": "Your service Web Hosting <Pro> (example.com) has been cancelled",
        "tr": "Web Hosting <Pro> (example.com) hizmetiniz iptal edildi",
        "de": "Ihr Dienst Web Hosting <Pro> (example.com) wurde gekündigt",
        "pl": "Twoja usługa Web Hosting <Pro> (example.com) została anulowana",
    },
}
# A telling phrase of each body, per language, with its dates and amounts as the language writes them.
BODY = {
    "order_received": {
        "en": "Your services become active as soon as the invoice is paid.",
        "tr": "Hizmetleriniz fatura ödenir ödenmez aktif hale gelir.",
        "de": "Ihre Dienste werden aktiv, sobald die Rechnung bezahlt ist.",
        "pl": "Twoje usługi zostaną aktywowane, gdy tylko faktura zostanie opłacona.",
    },
    "order_invoice": {
        "en": "Your services are due for renewal on March 31, 2026. We have issued invoice INV-2026-0100 for their "
        "next period:",
        "tr": "Hizmetlerinizin yenileme tarihi 31 Mart 2026. Bir sonraki dönem için INV-2026-0100 numaralı faturayı "
        "düzenledik:",
        "de": "Ihre Dienste sind am 31. März 2026 zur Verlängerung fällig. Wir haben die Rechnung INV-2026-0100 für "
        "den nächsten Zeitraum ausgestellt:",
        "pl": "Twoje usługi należy odnowić do 31 marca 2026. Wystawiliśmy fakturę INV-2026-0100 za kolejny okres:",
    },
    "service_activated": {
        "en": "You can manage it in the customer portal.",
        "tr": "Hizmetinizi müşteri portalından yönetebilirsiniz.",
        "de": "Sie können ihn im Kundenportal verwalten.",
        "pl": "Możesz nią zarządzać w portalu klienta.",
    },
    "service_renewed": {
        "en": cldr("has been renewed for Mar 31^–^Apr 29, 2026."),
        "tr": cldr("hizmetiniz 31 Mar^–^29 Nis 2026 dönemi için yenilendi."),
        "de": cldr("wurde für den Zeitraum 31. März^–^29. Apr. 2026 verlängert."),
        "pl": "została odnowiona na okres 31 mar–29 kwi 2026.",
    },
    "service_overdue": {
        "en": "Please pay the open invoice before April 7, 2026: otherwise the service will be suspended on that day.",
        "tr": "Lütfen açık faturayı 7 Nisan 2026 tarihinden önce ödeyin; aksi takdirde hizmet o gün askıya "
        "alınacaktır.",
        "de": "Bitte bezahlen Sie die offene Rechnung vor dem 7. April 2026, sonst wird der Dienst an diesem Tag "
        "gesperrt.",
        "pl": "Prosimy opłacić zaległą fakturę przed 7 kwietnia 2026 – w przeciwnym razie usługa zostanie tego dnia "
        "zawieszona.",
    },
    "service_suspended": {
        "en": "Once the invoice is paid, the service is reactivated.",
        "tr": "Fatura ödendiğinde hizmet yeniden etkinleştirilir.",
        "de": "Sobald die Rechnung bezahlt ist, wird der Dienst wieder aktiviert.",
        "pl": "Po opłaceniu faktury usługa zostanie ponownie aktywowana.",
    },
    "service_reactivated": {
        "en": "has been reactivated and can be used again.",
        "tr": "hizmetiniz yeniden etkinleştirildi ve tekrar kullanılabilir.",
        "de": "wurde wieder aktiviert und kann wieder genutzt werden.",
        "pl": "została ponownie aktywowana i można z niej znowu korzystać.",
    },
    "service_terminated": {
        "en": "because its renewal invoice remained unpaid. That invoice has been cancelled.",
        "tr": "yenileme faturası ödenmediği için sonlandırıldı. Bu fatura iptal edildi.",
        "de": "weil seine Verlängerungsrechnung unbezahlt geblieben ist. Diese Rechnung wurde storniert.",
        "pl": "ponieważ faktura za odnowienie pozostała nieopłacona. Ta faktura została anulowana.",
    },
    "service_cancellation_scheduled": {
        "en": "will be cancelled at the end of its current period, on April 30, 2026.",
        "tr": "hizmetiniz mevcut dönemin sonunda, 30 Nisan 2026 tarihinde iptal edilecek.",
        "de": "zum Ende des laufenden Zeitraums am 30. April 2026 gekündigt.",
        "pl": "zostanie anulowana z końcem bieżącego okresu, dnia 30 kwietnia 2026.",
    },
    "service_cancelled": {
        "en": "has ended at the end of its period, as you asked.",
        "tr": "hizmetiniz, isteğiniz üzerine dönem sonunda sona erdi.",
        "de": "ist wie gewünscht zum Ende seines Zeitraums beendet.",
        "pl": "zakończyła się z końcem okresu.",
    },
}
SERVICE_EMAILS = sorted(t for t in CLIENT_AREA if t.startswith("service_"))
ADD_ONS = {
    "en": ("Add-ons:", "Advanced SSL and Backup"),
    "tr": ("Ek hizmetler:", "Advanced SSL ve Backup"),
    "de": ("Zusatzleistungen:", "Advanced SSL und Backup"),
    "pl": ("Dodatki:", "Advanced SSL i Backup"),
}
ENDED_WITH_IT = {
    "en": "Its add-ons ended with it: Advanced SSL and Backup.",
    "tr": "Ek hizmetleri de onunla birlikte sona erdi: Advanced SSL ve Backup.",
    "de": "Seine Zusatzleistungen wurden mit ihm beendet: Advanced SSL und Backup.",
    "pl": "Jej dodatki zakończyły się wraz z nią: Advanced SSL i Backup.",
}
NEXT_DUE = {
    "en": "Next due date: ",
    "tr": "Sonraki ödeme tarihi: ",
    "de": "Nächste Fälligkeit: ",
    "pl": "Następny termin płatności: ",
}
APRIL_30 = {"en": "April 30, 2026", "tr": "30 Nisan 2026", "de": "30. April 2026", "pl": "30 kwietnia 2026"}
MARCH_31 = {"en": "March 31, 2026", "tr": "31 Mart 2026", "de": "31. März 2026", "pl": "31 marca 2026"}


def html_line(label: str, value: str) -> str:
    return f"<p><strong>{label}</strong> {value}</p>"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("template", sorted(CLIENT_AREA))
def test_subject_text_and_html_are_in_the_language(template, lang):
    event = CLIENT_AREA[template]()
    assert template_for(event) == template
    content = render(event, lang)
    assert content.subject == SUBJECTS[template][lang]
    assert content.text.startswith(GREETING[lang] + "\n\n")
    assert BODY[template][lang] in content.text
    assert str(escape(BODY[template][lang])) in content.html
    assert f'<html lang="{lang}">' in content.html
    assert f"<title>{escape(content.subject)}</title>" in content.html
    assert f"<p>{GREETING[lang]}</p>" in content.html
    assert "\n\n\n" not in content.text  # one blank line between paragraphs, whatever is left out
    assert "{{" not in content.html + content.text and "%(" not in content.text + content.html


# --- order received -----------------------------------------------------------------------------

ORDER_LINES = {
    "en": (
        "Web Hosting <Pro> (example.com), every month, Jan 31^–^Feb 27, 2026: €1,234.80",
        "Add-on Advanced SSL, every 12 months, Jan 31^–^Mar 2, 2026: €2.75",
        "Total: €1,237.55",
    ),
    "tr": (
        "Web Hosting <Pro> (example.com), aylık, 31 Oca^–^27 Şub 2026: €1.234,80",
        "Ek hizmet Advanced SSL, her 12 ayda bir, 31 Oca^–^2 Mar 2026: €2,75",
        "Toplam: €1.237,55",
    ),
    "de": (
        "Web Hosting <Pro> (example.com), monatlich, 31. Jan.^–^27. Feb. 2026: 1.234,80_€",
        "Zusatzleistung Advanced SSL, alle 12 Monate, 31. Jan.^–^2. März 2026: 2,75_€",
        "Gesamtbetrag: 1.237,55_€",
    ),
    "pl": (
        "Web Hosting <Pro> (example.com), co miesiąc, 31 sty–27 lut 2026: 1_234,80_€",
        "Dodatek Advanced SSL, co 12 miesięcy, 31 sty–2 mar 2026: 2,75_€",
        "Razem: 1_237,55_€",
    ),
}


@pytest.mark.parametrize("lang", LANGS)
def test_order_received_lists_each_line_with_its_cycle_period_and_amount_and_the_total(lang):
    content = render(order_placed(), lang)
    new, add_on, total = (cldr(part) for part in ORDER_LINES[lang])
    assert f"\n\n- {new}\n- {add_on}\n\n{total}\n\n" in content.text
    for line in (new, add_on):
        what, amount = line.rsplit(": ", 1)
        assert f'<tr><td>{escape(what)}</td><td align="right">{amount}</td></tr>' in content.html
    assert total.split(": ")[1] in content.html
    assert "ORD-2026-0007" in content.text and "ORD-2026-0007" in content.html


def test_an_order_line_renewing_a_service_or_bought_more_than_once_says_so():
    event = order_placed()
    renewal = event.lines[0].model_copy(update={"kind": "renewal", "domain": None, "quantity": 2})
    content = render(event.model_copy(update={"lines": [renewal]}), "de")
    assert cldr("\n- 2 × Verlängerung von Web Hosting <Pro>, monatlich, 31. Jan.^–^27. Feb. 2026: 1.234,80_€\n") in (
        content.text
    )


def test_a_one_time_line_names_its_day_not_a_period():
    event = order_placed()
    setup = event.lines[0].model_copy(update={"name": "Setup", "cycle": "one_time", "domain": None, "period_end": None})
    content = render(event.model_copy(update={"lines": [setup]}), "en")
    assert "\n- Setup, one-time, January 31, 2026: €1,234.80\n" in content.text


# --- the invoice of an order or a renewal --------------------------------------------------------

RENEWAL_LINES = {
    "en": (
        ("Web Hosting Pro (example.com)", "Mar 31^–^Apr 29, 2026", "€1,204.80"),
        ("Advanced SSL", "Mar 31, 2026^–^Mar 30, 2027", "€20.00"),
        ("Backup", "Mar 31^–^Apr 29, 2026", "€10.00"),
    ),
    "tr": (
        ("Web Hosting Pro (example.com)", "31 Mar^–^29 Nis 2026", "€1.204,80"),
        ("Advanced SSL", "31 Mar 2026^–^30 Mar 2027", "€20,00"),
        ("Backup", "31 Mar^–^29 Nis 2026", "€10,00"),
    ),
    "de": (
        ("Web Hosting Pro (example.com)", "31. März^–^29. Apr. 2026", "1.204,80_€"),
        ("Advanced SSL", "31. März 2026^–^30. März 2027", "20,00_€"),
        ("Backup", "31. März^–^29. Apr. 2026", "10,00_€"),
    ),
    "pl": (
        ("Web Hosting Pro (example.com)", "31 mar–29 kwi 2026", "1_204,80_€"),
        ("Advanced SSL", "31 mar 2026–30 mar 2027", "20,00_€"),
        ("Backup", "31 mar–29 kwi 2026", "10,00_€"),
    ),
}
TOTAL = {
    "en": "Total: €1,234.80",
    "tr": "Toplam: €1.234,80",
    "de": "Gesamtbetrag: 1.234,80_€",
    "pl": "Razem: 1_234,80_€",
}
DUE_DATE = {"en": "Due date: ", "tr": "Son ödeme tarihi: ", "de": "Fällig am: ", "pl": "Termin płatności: "}
TRANSFER = {
    "en": "Please transfer €1,234.80 to our account IBAN DE89370400440532013000. Please quote INV-2026-0100",
    "tr": "Lütfen €1.234,80 tutarını şu hesabımıza havale edin: IBAN DE89370400440532013000.",
    "de": "Bitte überweisen Sie 1.234,80_€ auf unser Konto IBAN DE89370400440532013000.",
    "pl": "Prosimy przelać 1_234,80_€ na nasz rachunek IBAN DE89370400440532013000.",
}
KEEP_RUNNING = {
    "en": "Please pay the invoice by the due date so that your services keep running without interruption.",
    "tr": "Hizmetlerinizin kesintisiz devam etmesi için lütfen faturayı son ödeme tarihine kadar ödeyin.",
    "de": "Bitte bezahlen Sie die Rechnung bis zum Fälligkeitsdatum, damit Ihre Dienste ohne Unterbrechung "
    "weiterlaufen.",
    "pl": "Prosimy opłacić fakturę w terminie, aby Twoje usługi działały bez przerwy.",
}


@pytest.mark.parametrize("lang", LANGS)
def test_a_renewal_invoice_lists_each_service_and_add_on_with_its_period(lang):
    content = render(renewal_invoice(), lang)
    lines = [tuple(cldr(cell) for cell in line) for line in RENEWAL_LINES[lang]]
    listed = "".join(f"- {what}, {period}: {amount}\n" for what, period, amount in lines)
    assert f"\n\n{listed}\n{cldr(TOTAL[lang])}\n{DUE_DATE[lang]}{MARCH_31[lang]}\n" in content.text
    for what, period, amount in lines:
        assert f'<tr><td>{what}</td><td>{period}</td><td align="right">{amount}</td></tr>' in content.html
    assert html_line(DUE_DATE[lang].strip(), MARCH_31[lang]) in content.html
    for part in (content.text, content.html):
        assert cldr(TRANSFER[lang]) in part and "https://pay.example/inv/100" in part
        assert KEEP_RUNNING[lang] in part
        assert BODY["order_received"][lang] not in part  # that is a new order's


def test_the_period_billing_writes_into_a_description_is_said_once_in_the_language():
    event = renewal_invoice()
    hosting = event.lines[0]
    described = hosting.model_copy(update={"description": "Web Hosting Pro (example.com), 2026-03-31 – 2026-04-29"})
    twice = hosting.model_copy(update={"quantity": 2, "description": "Backup"})
    content = render(event.model_copy(update={"lines": [described, twice]}), "de")
    assert cldr("\n- Web Hosting Pro (example.com), 31. März^–^29. Apr. 2026: 1.204,80_€\n") in content.text
    assert cldr("\n- 2 × Backup, 31. März^–^29. Apr. 2026: 1.204,80_€\n") in content.text
    assert "2026-03-31" not in content.text + content.html
    assert "<tr><td>2 × Backup</td>" in content.html


ORDER_INVOICE = {
    "en": ("Invoice INV-2026-0100 for your order", "Thank you for your order. We have issued invoice INV-2026-0100:"),
    "tr": (
        "Siparişinizin faturası: INV-2026-0100",
        "Siparişiniz için teşekkür ederiz. INV-2026-0100 numaralı faturayı düzenledik:",
    ),
    "de": (
        "Rechnung INV-2026-0100 zu Ihrer Bestellung",
        "Vielen Dank für Ihre Bestellung. Wir haben die Rechnung INV-2026-0100 ausgestellt:",
    ),
    "pl": (
        "Faktura INV-2026-0100 za Twoje zamówienie",
        "Dziękujemy za zamówienie. Wystawiliśmy fakturę INV-2026-0100:",
    ),
}
FEBRUARY_15 = {"en": "February 15, 2026", "tr": "15 Şubat 2026", "de": "15. Februar 2026", "pl": "15 lutego 2026"}


@pytest.mark.parametrize("lang", LANGS)
def test_a_cart_orders_invoice_thanks_for_the_order_and_says_payment_activates_it(lang):
    content = render(order_invoice(), lang)
    subject, intro = ORDER_INVOICE[lang]
    assert content.subject == subject
    for part in (content.text, content.html):
        assert intro in part and BODY["order_received"][lang] in part
        assert f"{FEBRUARY_15[lang]}" in part and cldr(TOTAL[lang]).split(": ")[1] in part
        assert KEEP_RUNNING[lang] not in part and BODY["order_invoice"][lang] not in part


def test_invoice_lines_and_number_are_escaped_in_html_only():
    event = renewal_invoice().model_copy(update={"number": "INV <1> & 2"})
    line = event.lines[0].model_copy(update={"description": "Shop <b>x</b> & co"})
    content = render(event.model_copy(update={"lines": [line]}), "en")
    assert "- Shop <b>x</b> & co, " in content.text and "INV <1> & 2" in content.text
    assert "<td>Shop &lt;b&gt;x&lt;/b&gt; &amp; co</td>" in content.html and "<b>x" not in content.html
    assert "<title>Renewal invoice INV &lt;1&gt; &amp; 2, due on March 31, 2026</title>" in content.html


# --- payment received, for an order's or a renewal's invoice --------------------------------------

STILL_DUE = {
    "en": "Balance still due: €734.80",
    "tr": "Kalan tutar: €734,80",
    "de": "Noch offener Betrag: 734,80_€",
    "pl": "Pozostało do zapłaty: 734,80_€",
}
PAID_IN_FULL = {
    "en": "The invoice is now paid in full.",
    "tr": "Faturanın tamamı artık ödenmiştir.",
    "de": "Die Rechnung ist damit vollständig bezahlt.",
    "pl": "Faktura została tym samym opłacona w całości.",
}


def renewal_payment(**amounts):
    """A payment on the renewal invoice INV-2026-0100 (no service request behind it)."""
    return payment_received(**amounts).model_copy(update={"number": "INV-2026-0100", "request_id": None})


@pytest.mark.parametrize("lang", LANGS)
def test_a_part_payment_of_a_renewal_invoice_says_the_balance_due_and_the_rest_paid_in_full(lang):
    assert template_for(renewal_payment()) == "payment_received"
    part = render(renewal_payment(amount="500", paid="500", due="734.80"), lang)
    assert cldr(STILL_DUE[lang]) in part.text and "INV-2026-0100" in part.subject
    label, amount = cldr(STILL_DUE[lang]).split(": ")
    assert html_line(label + ":", amount) in part.html
    assert PAID_IN_FULL[lang] not in part.text
    rest = render(renewal_payment(amount="734.80", paid="1234.80", due="0"), lang)
    assert PAID_IN_FULL[lang] in rest.text and PAID_IN_FULL[lang] in rest.html
    assert label not in rest.text


# --- every service email names the service, its domain and its add-ons ---------------------------


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("template", SERVICE_EMAILS)
def test_a_service_email_names_the_service_its_domain_and_its_add_ons(template, lang):
    content = render(CLIENT_AREA[template](), lang)
    assert "Web Hosting <Pro> (example.com)" in content.text
    assert "Web Hosting &lt;Pro&gt; (example.com)" in content.html and "<Pro>" not in content.html
    label, names = ADD_ONS[lang]
    if template in ("service_terminated", "service_cancelled"):
        assert ENDED_WITH_IT[lang] in content.text and ENDED_WITH_IT[lang] in content.html
    else:
        assert f"\n{label} {names}\n" in content.text and html_line(label, names) in content.html


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("template", SERVICE_EMAILS)
def test_a_service_without_domain_or_add_ons_leaves_them_out(template, lang):
    event = CLIENT_AREA[template]().model_copy(update={"domain": None, "add_ons": []})
    content = render(event, lang)
    label, _ = ADD_ONS[lang]
    for part in (content.text, content.html):
        assert "(example.com)" not in part and label not in part and ENDED_WITH_IT[lang][:12] not in part
    assert "Web Hosting <Pro>" in content.subject and "\n\n\n" not in content.text


PRICE = {
    "en": "Price: €1,234.80 (every month)",
    "tr": "Fiyat: €1.234,80 (aylık)",
    "de": "Preis: 1.234,80_€ (monatlich)",
    "pl": "Cena: 1_234,80_€ (co miesiąc)",
}
FEBRUARY_28 = {"en": "February 28, 2026", "tr": "28 Şubat 2026", "de": "28. Februar 2026", "pl": "28 lutego 2026"}


@pytest.mark.parametrize("lang", LANGS)
def test_service_active_says_its_price_cycle_and_next_due_date(lang):
    content = render(CLIENT_AREA["service_activated"](), lang)
    assert f"\n{cldr(PRICE[lang])}\n{NEXT_DUE[lang]}{FEBRUARY_28[lang]}\n" in content.text
    assert html_line(NEXT_DUE[lang].strip(), FEBRUARY_28[lang]) in content.html


@pytest.mark.parametrize("lang", LANGS)
def test_renewed_names_the_new_due_date(lang):
    content = render(CLIENT_AREA["service_renewed"](), lang)
    assert f"\n{NEXT_DUE[lang]}{APRIL_30[lang]}\n" in content.text
    assert html_line(NEXT_DUE[lang].strip(), APRIL_30[lang]) in content.html


@pytest.mark.parametrize("lang", LANGS)
def test_the_overdue_reminder_names_the_due_date_and_the_day_it_will_be_suspended(lang):
    content = render(CLIENT_AREA["service_overdue"](), lang)
    april_7 = {"en": "April 7, 2026", "tr": "7 Nisan 2026", "de": "7. April 2026", "pl": "7 kwietnia 2026"}
    for part in (content.text, content.html):
        assert MARCH_31[lang] in part and april_7[lang] in part
        assert NEXT_DUE[lang].strip() not in part  # the due date passed: only the reminder's two dates


@pytest.mark.parametrize("lang", LANGS)
def test_the_cancellation_scheduled_names_its_end_date_and_no_further_invoice(lang):
    content = render(CLIENT_AREA["service_cancellation_scheduled"](), lang)
    no_invoice = {
        "en": "no further invoice will be issued for it.",
        "tr": "bunun için yeni bir fatura düzenlenmez.",
        "de": "wir stellen dafür keine weitere Rechnung aus.",
        "pl": "nie wystawimy za nią kolejnej faktury.",
    }
    for part in (content.text, content.html):
        assert APRIL_30[lang] in part and no_invoice[lang] in part


ADMIN_SUSPENDED = {
    "en": ("Your service Web Hosting <Pro> (example.com) has been suspended.", "Reason:"),
    "tr": ("Web Hosting <Pro> (example.com) hizmetiniz askıya alındı.", "Gerekçe:"),
    "de": ("Ihr Dienst Web Hosting <Pro> (example.com) wurde gesperrt.", "Begründung:"),
    "pl": ("Twoja usługa Web Hosting <Pro> (example.com) została zawieszona.", "Powód:"),
}


@pytest.mark.parametrize("lang", LANGS)
def test_suspended_by_an_admin_gives_the_admins_reason_escaped_in_html_only(lang):
    content = render(service_suspended(reason="Abuse report <#12> & more"), lang)
    sentence, label = ADMIN_SUSPENDED[lang]
    assert f"{sentence}\n{label} Abuse report <#12> & more\n" in content.text
    assert html_line(label, "Abuse report &lt;#12&gt; &amp; more") in content.html
    assert BODY["service_suspended"][lang] not in content.text  # paying does not reactivate this one


@pytest.mark.parametrize(
    "lang, says",
    [
        ("en", "Your service Web Hosting <Pro> (example.com) has been cancelled by our team."),
        ("tr", "Web Hosting <Pro> (example.com) hizmetiniz ekibimiz tarafından iptal edildi."),
        ("de", "Ihr Dienst Web Hosting <Pro> (example.com) wurde von unserem Team gekündigt."),
        ("pl", "Twoja usługa Web Hosting <Pro> (example.com) została anulowana przez nasz zespół."),
    ],
)
def test_cancelled_by_an_admin_says_so(lang, says):
    content = render(service_cancelled(reason="admin"), lang)
    assert says in content.text and BODY["service_cancelled"][lang] not in content.text


# --- which event causes which email --------------------------------------------------------------


def test_one_invoice_is_one_email_whichever_version_says_it():
    seller = invoice_issued()
    assert template_for(seller) == "invoice_issued"  # the seller flow's, from v1, as before
    assert template_for(seller.model_copy(update={"request_id": None})) is None  # v2 of it says what it is
    assert template_for(renewal_invoice()) == "order_invoice"
    assert template_for(order_invoice()) == "order_invoice"
    for other in ("service_request", "unit_top_up"):  # the seller flow's has its v1 email
        assert template_for(renewal_invoice(source_kind=other)) is None
    assert {TEMPLATES[InvoiceIssued], TEMPLATES[InvoiceIssuedV2]} == {"invoice_issued", "order_invoice"}


def test_a_renewal_order_is_told_by_its_invoice_and_a_cart_order_by_order_received():
    assert template_for(order_placed(source="cart")) == "order_received"
    assert template_for(order_placed(source="renewal")) is None
    assert TEMPLATES[OrderPlaced] == "order_received"


@pytest.mark.parametrize("template", sorted(CLIENT_AREA))
def test_a_stored_cause_renders_as_the_event_did(template):
    """A delivery that waited for its recipient is rendered later from its stored cause."""
    event = CLIENT_AREA[template]()
    stored = event_of(event.event_type, event.version, event.model_dump(mode="json"))
    assert type(stored) is type(event)
    assert RENDER.render(template, "pl", context_of(stored)) == render(event, "pl")


def test_money_follows_the_events_currency():
    lira = eur("9.9").model_copy(update={"currency": "TRY"})
    event = CLIENT_AREA["service_activated"]().model_copy(update={"price": lira})
    assert "Fiyat: ₺9,90 (aylık)" in render(event, "tr").text


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("template", sorted(CLIENT_AREA))
def test_no_date_is_left_as_the_events_iso_text(template, lang):
    content = render(CLIENT_AREA[template](), lang)
    assert not re.search(r"\d{4}-\d{2}-\d{2}", content.text + content.html)
