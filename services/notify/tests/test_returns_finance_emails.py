"""The emails of returns and the account's money (issue 16) in every language, read as the customer reads
them: RMA received (invoice, lines with their reasons, the problem), approved (what will be done, the expected
completion date written for the language), rejected (the reason), its expected date moved (old and new date),
goods received (the receipt's number and lines, partly or all received), a credit note for returned goods
(number, invoice, lines with tax, the total with tax, what it took off the invoice, refunded or credited) and a
reconciliation statement (number, period, opening balance, debits, credits, closing balance); values the
customer or an admin typed are escaped in the HTML only."""

from __future__ import annotations

import re

import pytest
from markupsafe import escape
from returns_finance_samples import (
    CREDIT_NOTE,
    FIRST_RECEIPT,
    PROBLEM,
    RMA,
    STATEMENT,
    credit_note_issued,
    expected_date_changed,
    goods_received,
    return_approved,
    return_rejected,
    return_requested,
    statement_issued,
)

from notify.adapters.causes import TEMPLATES, business_addressed, context_of, dedup_key_of, template_for
from notify.adapters.templates import TemplateRenderer
from portal_contracts.events.billing import CreditNoteIssued, StatementIssued
from portal_contracts.events.returns import (
    GoodsReceived,
    ReturnApproved,
    ReturnExpectedDateChanged,
    ReturnRejected,
    ReturnRequested,
)

LANGS = ("en", "tr", "de", "pl")
RENDER = TemplateRenderer(portal_url="https://portal.example.test/")
NB = "\u00a0"
RMA_LINK = f"https://portal.example.test/returns/{RMA}"
RECEIPT_LINK = f"https://portal.example.test/goods-receipts/{FIRST_RECEIPT}"
STATEMENT_LINK = f"https://portal.example.test/statements/{STATEMENT}"


def nb(text: str) -> str:
    """CLDR's no-break spaces written as `_` in the expectations."""
    return text.replace("_", NB)


def render(event, lang: str):
    return RENDER.render(template_for(event), lang, context_of(event))


def untranslated(content, lang: str) -> None:
    """No placeholder left, and outside English no English word of the email's own text (the links, and
    the lines' names and the notes the customer or admin typed, are left out)."""
    both = content.text + content.html
    assert "{{" not in both and "%(" not in both
    assert f'<html lang="{lang}">' in content.html and f"<title>{content.subject}</title>" in content.html
    if lang == "en":
        return
    text = re.sub(r"https://\S+", "", content.text)
    for typed in (PROBLEM, "Steel bolt <M8>", "Hex nut M8", "Stripped <threads>"):
        text = text.replace(typed, "")
    for english in ("Hello", "return", "invoice", "credit", "goods", "statement", "balance", "customer portal"):
        assert english not in text, english


SUBJECTS = {
    "rma_received": {
        "en": "We received your return request RMA-2026-000001",
        "tr": "RMA-2026-000001 numaralı iade talebinizi aldık",
        "de": "Wir haben Ihre Rücksendeanfrage RMA-2026-000001 erhalten",
        "pl": "Otrzymaliśmy Twoje zgłoszenie zwrotu RMA-2026-000001",
    },
    "rma_approved": {
        "en": "Your return request RMA-2026-000001 has been approved",
        "tr": "RMA-2026-000001 numaralı iade talebiniz onaylandı",
        "de": "Ihre Rücksendeanfrage RMA-2026-000001 wurde genehmigt",
        "pl": "Twoje zgłoszenie zwrotu RMA-2026-000001 zostało zatwierdzone",
    },
    "rma_rejected": {
        "en": "Your return request RMA-2026-000001 has been rejected",
        "tr": "RMA-2026-000001 numaralı iade talebiniz reddedildi",
        "de": "Ihre Rücksendeanfrage RMA-2026-000001 wurde abgelehnt",
        "pl": "Twoje zgłoszenie zwrotu RMA-2026-000001 zostało odrzucone",
    },
    "rma_expected_date_changed": {
        "en": "New expected completion date for your return request RMA-2026-000001",
        "tr": "RMA-2026-000001 numaralı iade talebiniz için yeni tahmini tamamlanma tarihi",
        "de": "Neuer voraussichtlicher Abschluss Ihrer Rücksendeanfrage RMA-2026-000001",
        "pl": "Nowa przewidywana data realizacji zgłoszenia zwrotu RMA-2026-000001",
    },
    "goods_received": {
        "en": "We received goods for your return request RMA-2026-000001",
        "tr": "RMA-2026-000001 numaralı iade talebinizin ürünlerini teslim aldık",
        "de": "Ware zu Ihrer Rücksendeanfrage RMA-2026-000001 erhalten",
        "pl": "Otrzymaliśmy towary z Twojego zgłoszenia zwrotu RMA-2026-000001",
    },
    "credit_note_issued": {
        "en": "Credit note CN-2026-000007 for invoice INV-2026-000042",
        "tr": "INV-2026-000042 numaralı fatura için CN-2026-000007 numaralı alacak dekontu",
        "de": "Gutschrift CN-2026-000007 zur Rechnung INV-2026-000042",
        "pl": "Faktura korygująca CN-2026-000007 do faktury INV-2026-000042",
    },
    "statement_issued": {
        "en": "Reconciliation statement ST-2026-000003",
        "tr": "ST-2026-000003 numaralı mutabakat ekstresi",
        "de": "Saldenbestätigung ST-2026-000003",
        "pl": "Potwierdzenie salda ST-2026-000003",
    },
}
EVENTS = {
    "rma_received": return_requested,
    "rma_approved": return_approved,
    "rma_rejected": return_rejected,
    "rma_expected_date_changed": expected_date_changed,
    "goods_received": goods_received,
    "credit_note_issued": credit_note_issued,
    "statement_issued": statement_issued,
}
THOUSAND = {"en": "1,000", "tr": "1.000", "de": "1.000", "pl": nb("1_000")}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("template", sorted(EVENTS))
def test_every_email_has_its_subject_in_the_language_and_nothing_left_in_english(template, lang):
    content = render(EVENTS[template](), lang)
    assert content.subject == SUBJECTS[template][lang]
    untranslated(content, lang)


RMA_RECEIVED = {
    "en": "We have received your return request RMA-2026-000001 for invoice INV-2026-000042.",
    "tr": "INV-2026-000042 numaralı faturaya ait RMA-2026-000001 numaralı iade talebinizi aldık.",
    "de": "Wir haben Ihre Rücksendeanfrage RMA-2026-000001 zur Rechnung INV-2026-000042 erhalten.",
    "pl": "Otrzymaliśmy Twoje zgłoszenie zwrotu RMA-2026-000001 do faktury INV-2026-000042.",
}
PROBLEM_LABEL = {
    "en": "The problem you described:",
    "tr": "Belirttiğiniz sorun:",
    "de": "Das von Ihnen beschriebene Problem:",
    "pl": "Opisany przez Ciebie problem:",
}


@pytest.mark.parametrize("lang", LANGS)
def test_rma_received_names_the_invoice_each_line_with_its_reason_and_the_problem(lang):
    content = render(return_requested(), lang)
    text = content.text
    assert RMA_RECEIVED[lang] in text
    assert f"- {THOUSAND[lang]} × Steel bolt <M8>: Stripped <threads>\n- 20 × Hex nut M8: Wrong size\n" in text
    assert f"{PROBLEM_LABEL[lang]}\n{PROBLEM}\n" in text
    assert f"{RMA_LINK}\n" in text and f'<a href="{RMA_LINK}">{RMA_LINK}</a>' in content.html
    html = content.html
    assert escape(PROBLEM) in html and "<most>" not in html and "<threads>" not in html and "<M8>" not in html
    assert f"<li>{escape(THOUSAND[lang])} × Steel bolt &lt;M8&gt;: Stripped &lt;threads&gt;</li>" in html


def test_rma_received_without_a_problem_says_none_and_an_unnumbered_request_causes_no_email():
    assert PROBLEM_LABEL["en"] not in render(return_requested(problem=None), "en").text
    assert template_for(return_requested(number=None)) is None  # requested before RMAs were numbered


EXPECTED = {
    "en": "Expected completion date: February 15, 2026\n",
    "tr": "Tahmini tamamlanma tarihi: 15 Şubat 2026\n",
    "de": "Voraussichtlicher Abschluss: 15. Februar 2026\n",
    "pl": "Przewidywana data realizacji: 15 lutego 2026\n",
}
RESOLUTIONS = {
    "refund": {
        "en": "Once they have arrived, we will refund them to you.",
        "tr": "Ürünler bize ulaştığında bedelini size iade edeceğiz.",
        "de": "Sobald sie bei uns eingetroffen ist, erstatten wir Ihnen den Betrag.",
        "pl": "Gdy do nas dotrą, zwrócimy Ci za nie pieniądze.",
    },
    "credit": {
        "en": "Once they have arrived, we will credit their value to your account.",
        "tr": "Ürünler bize ulaştığında bedelini hesabınıza alacak olarak kaydedeceğiz.",
        "de": "Sobald sie bei uns eingetroffen ist, schreiben wir ihren Wert Ihrem Kundenkonto gut.",
        "pl": "Gdy do nas dotrą, zaksięgujemy ich wartość na Twoim koncie.",
    },
    "replace": {
        "en": "Once they have arrived, we will send you replacements.",
        "tr": "Ürünler bize ulaştığında yerine yenilerini size göndereceğiz.",
        "de": "Sobald sie bei uns eingetroffen ist, senden wir Ihnen Ersatz.",
        "pl": "Gdy do nas dotrą, wyślemy Ci towary zastępcze.",
    },
    "repair": {
        "en": "Once they have arrived, we will repair them and send them back to you.",
        "tr": "Ürünler bize ulaştığında onarıp size geri göndereceğiz.",
        "de": "Sobald sie bei uns eingetroffen ist, reparieren wir sie und senden sie Ihnen zurück.",
        "pl": "Gdy do nas dotrą, naprawimy je i odeślemy do Ciebie.",
    },
}
NOTE = {"en": "Note:", "tr": "Not:", "de": "Hinweis:", "pl": "Uwaga:"}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("resolution", sorted(RESOLUTIONS))
def test_rma_approved_says_what_will_be_done_and_the_expected_completion_date_in_the_language(lang, resolution):
    content = render(return_approved(resolution), lang)
    assert content.subject == SUBJECTS["rma_approved"][lang]
    text = content.text
    assert EXPECTED[lang] in text
    assert RESOLUTIONS[resolution][lang] in text and RESOLUTIONS[resolution][lang] in content.html
    assert not [r for r in RESOLUTIONS if r != resolution and RESOLUTIONS[r][lang] in text]
    assert f"- {THOUSAND[lang]} × Steel bolt <M8>\n- 20 × Hex nut M8\n" in text
    assert f"{NOTE[lang]} Use the <blue> label\n" in text and "Use the &lt;blue&gt; label" in content.html
    untranslated(content, lang)


def test_rma_approved_without_a_note_shows_none():
    assert "Note:" not in render(return_approved(note=None), "en").text


REASON = {"en": "Reason:", "tr": "Gerekçe:", "de": "Begründung:", "pl": "Powód:"}


@pytest.mark.parametrize("lang", LANGS)
def test_rma_rejected_gives_the_reason_escaped_in_html_only(lang):
    content = render(return_rejected(), lang)
    assert f"{REASON[lang]} Bought more than <90> days ago & used\n" in content.text
    assert "Bought more than &lt;90&gt; days ago &amp; used" in content.html and "<90>" not in content.html


MOVED = {
    "en": "has changed from February 15, 2026 to March 1, 2026.",
    "tr": "tahmini tamamlanma tarihi değişti: 15 Şubat 2026 yerine 1 Mart 2026.",
    "de": "hat sich vom 15. Februar 2026 auf den 1. März 2026 verschoben.",
    "pl": "zmieniła się z 15 lutego 2026 na 1 marca 2026.",
}


@pytest.mark.parametrize("lang", LANGS)
def test_the_expected_date_change_gives_the_old_and_the_new_date(lang):
    content = render(expected_date_changed(), lang)
    assert MOVED[lang] in content.text and MOVED[lang] in content.html
    assert f"{NOTE[lang]} Waiting for the carrier\n" in content.text
    assert NOTE["en"] not in render(expected_date_changed(note=None), "en").text


RECEIVED = {
    "en": "(goods receipt GR-2026-000001):",
    "tr": "(mal kabul belgesi GR-2026-000001):",
    "de": "(Wareneingangsbeleg GR-2026-000001):",
    "pl": "(dokument przyjęcia GR-2026-000001):",
}
PARTLY = {
    "en": "We are still waiting for the rest of the goods approved for return.",
    "tr": "İadesi onaylanan ürünlerin geri kalanını hâlâ bekliyoruz.",
    "de": "Den Rest der zur Rücksendung freigegebenen Ware erwarten wir noch.",
    "pl": "Nadal czekamy na pozostałe towary zatwierdzone do zwrotu.",
}
ALL_RECEIVED = {
    "en": "We have now received all the goods approved for return.",
    "tr": "İadesi onaylanan tüm ürünleri artık teslim aldık.",
    "de": "Damit haben wir die gesamte zur Rücksendung freigegebene Ware erhalten.",
    "pl": "Otrzymaliśmy już wszystkie towary zatwierdzone do zwrotu.",
}
CREDIT_FOLLOWS = {
    "en": "A credit note for the goods received will follow.",
    "tr": "Teslim alınan ürünler için alacak dekontu ayrıca gönderilecektir.",
    "de": "Eine Gutschrift für die erhaltene Ware folgt.",
    "pl": "Fakturę korygującą za przyjęte towary wyślemy osobno.",
}


@pytest.mark.parametrize("lang", LANGS)
def test_goods_received_names_the_receipt_and_its_lines_and_says_partly_or_all(lang):
    first = render(goods_received("first"), lang)
    assert RECEIVED[lang] in first.text and "- 600 × Steel bolt <M8>\n- 20 × Hex nut M8\n" in first.text
    assert PARTLY[lang] in first.text and ALL_RECEIVED[lang] not in first.text
    assert CREDIT_FOLLOWS[lang] in first.text  # refund: billing's credit note follows
    assert f'<a href="{RECEIPT_LINK}">' in first.html and "<li>600 × Steel bolt &lt;M8&gt;</li>" in first.html
    last = render(goods_received("last", "replace"), lang)
    assert "GR-2026-000002" in last.text and "- 400 × Steel bolt <M8>\n" in last.text
    assert ALL_RECEIVED[lang] in last.text and PARTLY[lang] not in last.text
    assert CREDIT_FOLLOWS[lang] not in last.text  # replaced: no credit note
    untranslated(last, lang)


CREDIT_LINES = {
    "en": ["- 600 × Steel bolt <M8>: €600.00 plus tax €114.00", "- 20 × Hex nut M8: €10.00 plus tax €0.70"],
    "tr": ["- 600 × Steel bolt <M8>: €600,00 + vergi €114,00", "- 20 × Hex nut M8: €10,00 + vergi €0,70"],
    "de": [
        nb("- 600 × Steel bolt <M8>: 600,00_€ zzgl. Steuer 114,00_€"),
        nb("- 20 × Hex nut M8: 10,00_€ zzgl. Steuer 0,70_€"),
    ],
    "pl": [
        nb("- 600 × Steel bolt <M8>: 600,00_€ + podatek 114,00_€"),
        nb("- 20 × Hex nut M8: 10,00_€ + podatek 0,70_€"),
    ],
}
GROSS = {
    "en": "Total with tax: €724.70",
    "tr": "Vergiler dahil toplam: €724,70",
    "de": nb("Gesamtbetrag inkl. Steuer: 724,70_€"),
    "pl": nb("Razem z podatkiem: 724,70_€"),
}
APPLIED = {
    "en": "€500.00 of it reduces what invoice INV-2026-000042 still owes.",
    "tr": "Bunun €500,00 tutarındaki kısmı, INV-2026-000042 numaralı faturanın kalan borcundan düşülür.",
    "de": nb("Davon werden 500,00_€ mit dem noch offenen Betrag der Rechnung INV-2026-000042 verrechnet."),
    "pl": nb("Z tego 500,00_€ pomniejsza kwotę pozostałą do zapłaty z faktury INV-2026-000042."),
}
REFUNDED = {
    "en": "€224.70 will be refunded to you.",
    "tr": "€224,70 tutarı size iade edilecektir.",
    "de": nb("Der Betrag von 224,70_€ wird Ihnen erstattet."),
    "pl": nb("Kwota 224,70_€ zostanie Ci zwrócona."),
}
CREDITED = {
    "en": "€724.70 has been credited to your account and will pay your next invoices.",
    "tr": "€724,70 tutarı hesabınıza alacak olarak kaydedildi ve sonraki faturalarınızın ödemesinde kullanılacak.",
    "de": nb(
        "Der Betrag von 724,70_€ wurde Ihrem Kundenkonto gutgeschrieben und wird mit Ihren nächsten Rechnungen "
        "verrechnet."
    ),
    "pl": nb("Kwota 724,70_€ została zaksięgowana na Twoim koncie i posłuży do zapłaty kolejnych faktur."),
}


@pytest.mark.parametrize("lang", LANGS)
def test_a_refunded_credit_note_gives_its_lines_with_tax_the_total_with_tax_what_it_took_off_and_the_refund(lang):
    content = render(credit_note_issued("refund", applied="500.00", rest="224.70"), lang)
    text = content.text
    assert "\n".join(CREDIT_LINES[lang]) + "\n" in text
    assert f"{GROSS[lang]}\n" in text and "GR-2026-000001" in text
    assert APPLIED[lang] in text and REFUNDED[lang] in text and CREDITED[lang] not in text
    html = content.html
    assert APPLIED[lang] in html and REFUNDED[lang] in html and "<M8>" not in html
    untranslated(content, lang)


@pytest.mark.parametrize("lang", LANGS)
def test_a_credited_credit_note_on_a_paid_invoice_says_it_stays_on_the_account(lang):
    content = render(credit_note_issued("credit", applied="0.00", rest="724.70"), lang)
    assert CREDITED[lang] in content.text and CREDITED[lang] in content.html
    assert APPLIED[lang] not in content.text and REFUNDED[lang] not in content.text
    assert "INV-2026-000042" in content.text  # still named as the invoice credited


def test_only_a_credit_note_for_returned_goods_has_its_own_email():
    assert template_for(credit_note_issued()) == "credit_note_issued"
    # a cancelled order's credit note is told by "order cancelled" (where the amount paid goes)
    assert template_for(credit_note_issued(reason="cancelled_order")) is None


STATEMENT_FIGURES = {
    "en": ["Opening balance: €1,000.00", "Debits: €2,234.50", "Credits: €2,000.00", "Closing balance: €1,234.50"],
    "tr": [
        "Açılış bakiyesi: €1.000,00",
        "Borç toplamı: €2.234,50",
        "Alacak toplamı: €2.000,00",
        "Kapanış bakiyesi: €1.234,50",
    ],
    "de": [nb("Anfangssaldo: 1.000,00_€"), nb("Soll: 2.234,50_€"), nb("Haben: 2.000,00_€"), nb("Endsaldo: 1.234,50_€")],
    "pl": [
        nb("Saldo początkowe: 1_000,00_€"),
        nb("Obciążenia: 2_234,50_€"),
        nb("Uznania: 2_000,00_€"),
        nb("Saldo końcowe: 1_234,50_€"),
    ],
}
PERIOD = {
    "en": "for Jan 1\u2009–\u200931, 2026.",  # CLDR's thin spaces around the dash
    "tr": "1–31 Oca 2026 dönemine",
    "de": "für den Zeitraum 1.–31. Jan. 2026",
    "pl": "za okres 1–31 sty 2026.",
}
OWED = {
    "en": "The closing balance of €1,234.50 is what you owe us.",
    "tr": "€1.234,50 tutarındaki kapanış bakiyesi bize olan borcunuzdur.",
    "de": nb("Der Endsaldo von 1.234,50_€ ist der Betrag, den Sie uns schulden."),
    "pl": nb("Saldo końcowe 1_234,50_€ to kwota należna nam od Ciebie."),
}
IN_FAVOUR = {
    "en": "The closing balance of €20.00 is in your favour.",
    "tr": "€20,00 tutarındaki kapanış bakiyesi sizin lehinizedir.",
    "de": nb("Der Endsaldo von 20,00_€ besteht zu Ihren Gunsten."),
    "pl": nb("Saldo końcowe 20,00_€ jest na Twoją korzyść."),
}


@pytest.mark.parametrize("lang", LANGS)
def test_a_statement_gives_its_period_and_figures_and_what_the_closing_balance_means(lang):
    content = render(statement_issued(), lang)
    text = content.text
    assert "\n".join(STATEMENT_FIGURES[lang]) + "\n" in text
    assert PERIOD[lang] in text and OWED[lang] in text and IN_FAVOUR[lang] not in text
    assert f"{STATEMENT_LINK}\n" in text and f'<a href="{STATEMENT_LINK}">' in content.html
    in_favour = render(statement_issued("-20.00"), lang)
    assert IN_FAVOUR[lang] in in_favour.text and OWED[lang] not in in_favour.text
    balanced = render(statement_issued("0.00"), lang)
    assert IN_FAVOUR[lang] not in balanced.text and OWED[lang] not in balanced.text
    untranslated(balanced, lang)


def test_which_events_cause_which_email_and_what_makes_each_one_once():
    assert {TEMPLATES[t] for t in (ReturnRequested, ReturnApproved, ReturnRejected, ReturnExpectedDateChanged)} == {
        "rma_received",
        "rma_approved",
        "rma_rejected",
        "rma_expected_date_changed",
    }
    assert (TEMPLATES[GoodsReceived], TEMPLATES[CreditNoteIssued], TEMPLATES[StatementIssued]) == (
        "goods_received",
        "credit_note_issued",
        "statement_issued",
    )
    assert dedup_key_of(return_requested()) == f"rma-requested:{RMA}"
    assert dedup_key_of(return_approved()) == f"rma-approved:{RMA}"
    assert dedup_key_of(return_rejected()) == f"rma-rejected:{RMA}"
    assert dedup_key_of(goods_received()) == f"goods-receipt:{FIRST_RECEIPT}"
    assert dedup_key_of(credit_note_issued()) == f"credit-note:{CREDIT_NOTE}"
    assert dedup_key_of(statement_issued()) == f"statement:{STATEMENT}"
    # each move of the expected date is its own email; the same move told again is not
    moved, again = expected_date_changed(), expected_date_changed(note="other words")
    later = expected_date_changed(at=moved.changed_at.replace(hour=15))
    assert dedup_key_of(moved) == dedup_key_of(again) != dedup_key_of(later)
    assert not any(business_addressed(make()) for make in EVENTS.values())
