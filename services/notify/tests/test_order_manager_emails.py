"""The order manager's emails (issue 15) in every language, read as the recipient reads them: order
shipped and partially shipped (shipment number, carrier, tracking number and link, what this shipment
holds, what is still to ship), order cancelled (the admin's reason or the reason in words, and where the
money paid goes), a message in an order's thread (to the account from the business; to the business from
the customer, in the business's language), each with the order's link in the portal."""

from __future__ import annotations

import pytest
from markupsafe import escape
from order_manager_samples import (
    MESSAGE,
    ORDER,
    TRACKING_URL,
    first_shipment,
    last_shipment,
    message,
    order_cancelled,
)

from notify.adapters.causes import TEMPLATES, business_addressed, context_of, dedup_key_of, template_for
from notify.adapters.templates import TemplateRenderer
from notify.domain.deliveries import Audience
from portal_contracts.events.orders import OrderCancelled, OrderMessagePosted, OrderShipped

LANGS = ("en", "tr", "de", "pl")
RENDER = TemplateRenderer(portal_url="https://portal.example.test/")
NBSP = "\u00a0"
LINK = f"https://portal.example.test/orders/{ORDER}"
BODY = "Could you deliver the rest\nbefore <Friday> & call ahead?"


def render(event, lang: str, audience: Audience = Audience.ACCOUNT):
    return RENDER.render(template_for(event), lang, context_of(event, audience))


def untranslated(content, lang: str) -> None:
    assert "{{" not in content.text + content.html and "%(" not in content.text + content.html
    assert f'<html lang="{lang}">' in content.html
    if lang != "en":
        for english in ("Hello", "order", "shipped", "Shipment", "Carrier", "Tracking", "customer portal", "amount"):
            assert english not in content.text.replace(LINK, ""), english


SUBJECTS = {
    "order_shipped": {
        "en": "Your order ORD-2026-0042 has been shipped",
        "tr": "ORD-2026-0042 numaralı siparişiniz kargoya verildi",
        "de": "Ihre Bestellung ORD-2026-0042 wurde versandt",
        "pl": "Twoje zamówienie ORD-2026-0042 zostało wysłane",
    },
    "order_partially_shipped": {
        "en": "Part of your order ORD-2026-0042 has been shipped",
        "tr": "ORD-2026-0042 numaralı siparişinizin bir kısmı kargoya verildi",
        "de": "Ein Teil Ihrer Bestellung ORD-2026-0042 wurde versandt",
        "pl": "Część Twojego zamówienia ORD-2026-0042 została wysłana",
    },
    "order_cancelled": {
        "en": "Your order ORD-2026-0042 has been cancelled",
        "tr": "ORD-2026-0042 numaralı siparişiniz iptal edildi",
        "de": "Ihre Bestellung ORD-2026-0042 wurde storniert",
        "pl": "Twoje zamówienie ORD-2026-0042 zostało anulowane",
    },
    "order_message": {
        "en": "New message about your order ORD-2026-0042",
        "tr": "ORD-2026-0042 numaralı siparişiniz hakkında yeni mesaj",
        "de": "Neue Nachricht zu Ihrer Bestellung ORD-2026-0042",
        "pl": "Nowa wiadomość w sprawie Twojego zamówienia ORD-2026-0042",
    },
    "order_message to the business": {
        "en": "New message from customer acme about order ORD-2026-0042",
        "tr": "acme müşterisinden ORD-2026-0042 numaralı sipariş hakkında yeni mesaj",
        "de": "Neue Nachricht des Kunden acme zur Bestellung ORD-2026-0042",
        "pl": "Nowa wiadomość od klienta acme w sprawie zamówienia ORD-2026-0042",
    },
}
# The shipment's facts, each as "label: value" in the text
CARRIER = {"en": "Carrier:", "tr": "Kargo firması:", "de": "Versanddienstleister:", "pl": "Przewoźnik:"}
TRACKING = {"en": "Tracking number:", "tr": "Takip numarası:", "de": "Sendungsnummer:", "pl": "Numer przesyłki:"}
SHIPMENT = {"en": "Shipment:", "tr": "Gönderi:", "de": "Sendung:", "pl": "Przesyłka:"}
TRACK = {
    "en": "Track your parcel",
    "tr": "Gönderinizi takip edin",
    "de": "Sendung verfolgen",
    "pl": "Śledź przesyłkę",
}
IN_SHIPMENT = {
    "en": "In this shipment:",
    "tr": "Bu gönderideki ürünler:",
    "de": "In dieser Sendung:",
    "pl": "W tej przesyłce:",
}
STILL_TO_SHIP = {
    "en": "Still to ship:",
    "tr": "Henüz gönderilmeyenler:",
    "de": "Noch zu versenden:",
    "pl": "Pozostaje do wysłania:",
}
THOUSAND_BOLTS = {
    "en": "1,000 × Steel bolt <M8>",
    "tr": "1.000 × Steel bolt <M8>",
    "de": "1.000 × Steel bolt <M8>",
    "pl": f"1{NBSP}000 × Steel bolt <M8>",
}
EVERYTHING_SHIPPED = {
    "en": "Everything you ordered has now been shipped.",
    "tr": "Sipariş ettiğiniz her şey artık gönderildi.",
    "de": "Damit ist alles versandt, was Sie bestellt haben.",
    "pl": "Wszystkie zamówione produkty zostały już wysłane.",
}
REASON = {"en": "Reason:", "tr": "Gerekçe:", "de": "Begründung:", "pl": "Powód:"}
WHY = {
    "unpaid": {
        "en": "The order was not paid in time.",
        "tr": "Sipariş zamanında ödenmedi.",
        "de": "Die Bestellung wurde nicht rechtzeitig bezahlt.",
        "pl": "Zamówienie nie zostało opłacone w terminie.",
    },
    "terminated": {
        "en": "The services it was for have been terminated.",
        "tr": "Siparişin ait olduğu hizmetler sonlandırıldı.",
        "de": "Die Dienste, für die sie bestimmt war, wurden beendet.",
        "pl": "Usługi, których dotyczyło, zostały zakończone.",
    },
    "admin": {
        "en": "We are unable to fulfil the order.",
        "tr": "Siparişi yerine getiremiyoruz.",
        "de": "Wir können die Bestellung leider nicht ausführen.",
        "pl": "Nie możemy zrealizować zamówienia.",
    },
}
SETTLED = {
    "refund": {
        "en": "The amount paid will be refunded to you.",
        "tr": "Ödediğiniz tutar size iade edilecektir.",
        "de": "Der gezahlte Betrag wird Ihnen erstattet.",
        "pl": "Zapłacona kwota zostanie Ci zwrócona.",
    },
    "credit": {
        "en": "The amount paid will be credited to your account.",
        "tr": "Ödediğiniz tutar hesabınıza alacak olarak kaydedilecektir.",
        "de": "Der gezahlte Betrag wird Ihrem Kundenkonto gutgeschrieben.",
        "pl": "Zapłacona kwota zostanie zaksięgowana na Twoim koncie.",
    },
}
WROTE = {
    "en": "dispatch wrote to you about your order ORD-2026-0042:",
    "tr": "dispatch, ORD-2026-0042 numaralı siparişiniz hakkında size yazdı:",
    "de": "dispatch schreibt Ihnen zu Ihrer Bestellung ORD-2026-0042:",
    "pl": "dispatch pisze do Ciebie w sprawie Twojego zamówienia ORD-2026-0042:",
}
CUSTOMER_WROTE = {
    "en": "Ayla Yılmaz of customer account acme wrote about order ORD-2026-0042:",
    "tr": "acme müşteri hesabından Ayla Yılmaz, ORD-2026-0042 numaralı sipariş hakkında yazdı:",
    "de": "Ayla Yılmaz vom Kundenkonto acme schreibt zur Bestellung ORD-2026-0042:",
    "pl": "Ayla Yılmaz z konta klienta acme pisze w sprawie zamówienia ORD-2026-0042:",
}


@pytest.mark.parametrize("lang", LANGS)
def test_partially_shipped_names_the_shipment_its_tracking_link_its_lines_and_what_is_still_to_ship(lang):
    content = render(first_shipment(), lang)
    assert content.subject == SUBJECTS["order_partially_shipped"][lang]
    text = content.text
    for label, value in (
        (SHIPMENT, "ORD-2026-0042-1"),
        (CARRIER, "DHL"),
        (TRACKING, "JD014600001"),
        (TRACK, TRACKING_URL),
    ):
        sep = ": " if label is TRACK else " "
        assert f"{label[lang]}{sep}{value}\n" in text, (label[lang], text)
    shipped, awaited = text.split(STILL_TO_SHIP[lang])
    assert IN_SHIPMENT[lang] in shipped
    assert f"- {THOUSAND_BOLTS[lang]}\n- 50 × Hex nut M8\n" in shipped
    assert "- 200 × Steel bolt <M8>\n" in awaited and "Hex nut" not in awaited  # the nuts are all shipped
    assert EVERYTHING_SHIPPED[lang] not in text
    html = content.html
    assert f'<a href="{escape(TRACKING_URL)}">{TRACK[lang]}</a>' in html
    assert f"<li>{escape(THOUSAND_BOLTS[lang])}</li>" in html and "<li>200 × Steel bolt &lt;M8&gt;</li>" in html
    assert "<M8>" not in html
    untranslated(content, lang)


@pytest.mark.parametrize("lang", LANGS)
def test_shipped_says_everything_is_shipped_and_without_a_tracking_url_gives_no_link(lang):
    content = render(last_shipment(), lang)
    assert content.subject == SUBJECTS["order_shipped"][lang]
    assert f"{CARRIER[lang]} UPS\n" in content.text and f"{TRACKING[lang]} 1Z999AA10123456784\n" in content.text
    assert "- 200 × Steel bolt <M8>\n" in content.text and EVERYTHING_SHIPPED[lang] in content.text
    assert STILL_TO_SHIP[lang] not in content.text
    assert TRACK[lang] not in content.text + content.html and "<a href" not in content.html
    untranslated(content, lang)


def test_a_partial_shipment_of_fully_shipped_lines_lists_nothing_as_still_to_ship():
    event = first_shipment().model_copy(update={"lines": [first_shipment().lines[1]]})
    content = render(event, "en")
    assert "Still to ship:" not in content.text
    assert "We will ship the rest of your order as soon as it is ready." in content.text  # other lines wait


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("settlement", ["refund", "credit"])
def test_cancelled_by_an_admin_gives_the_admins_reason_and_where_the_money_paid_goes(lang, settlement):
    content = render(order_cancelled(settlement=settlement), lang)
    assert content.subject == SUBJECTS["order_cancelled"][lang]
    assert f"{REASON[lang]} Out of <stock> & discontinued\n" in content.text
    assert "Out of &lt;stock&gt; &amp; discontinued" in content.html and "<stock>" not in content.html
    assert SETTLED[settlement][lang] in content.text and SETTLED[settlement][lang] in content.html
    other = "credit" if settlement == "refund" else "refund"
    assert SETTLED[other][lang] not in content.text
    untranslated(content, lang)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("reason", ["unpaid", "terminated", "admin"])
def test_cancelled_without_a_note_says_the_reason_in_words_and_nothing_of_money_when_none_was_paid(lang, reason):
    content = render(order_cancelled(reason, note=None), lang)
    assert content.subject == SUBJECTS["order_cancelled"][lang]
    assert WHY[reason][lang] in content.text and WHY[reason][lang] in content.html
    assert REASON[lang] not in content.text
    assert not any(SETTLED[s][lang] in content.text for s in SETTLED)
    untranslated(content, lang)


@pytest.mark.parametrize("lang", LANGS)
def test_the_business_message_to_the_account_names_its_author_the_body_and_the_orders_link(lang):
    content = render(message("business"), lang)
    assert content.subject == SUBJECTS["order_message"][lang]
    assert f"{WROTE[lang]}\n\n{BODY}\n" in content.text
    assert f"{LINK}\n" in content.text and f'<a href="{LINK}">{LINK}</a>' in content.html
    assert escape(BODY) in content.html and "<Friday>" not in content.html
    untranslated(content, lang)


@pytest.mark.parametrize("lang", LANGS)
def test_the_customers_message_to_the_business_names_the_account_and_the_users_name(lang):
    content = render(message("customer", author_name="Ayla Yılmaz"), lang, Audience.BUSINESS)
    assert content.subject == SUBJECTS["order_message to the business"][lang]
    assert f"{CUSTOMER_WROTE[lang]}\n\n{BODY}\n" in content.text
    assert f'<a href="{LINK}">{LINK}</a>' in content.html
    untranslated(content, lang)


def test_a_message_without_the_authors_name_names_its_login():
    assert "ayla of customer account acme wrote" in render(message("customer"), "en", Audience.BUSINESS).text


def test_which_events_cause_which_email_and_what_makes_each_one():
    assert TEMPLATES[OrderShipped] == "order_shipped" and TEMPLATES[OrderMessagePosted] == "order_message"
    assert TEMPLATES[OrderCancelled] == "order_cancelled"
    assert template_for(first_shipment()) == "order_partially_shipped"
    assert template_for(last_shipment()) == "order_shipped"
    for reason in ("unpaid", "terminated", "admin"):
        assert template_for(order_cancelled(reason, note=None)) == "order_cancelled"
    assert template_for(order_cancelled(number=None)) is None  # published before the order manager: no number
    assert dedup_key_of(first_shipment()) == f"shipment:{first_shipment().shipment_id}"
    assert dedup_key_of(order_cancelled()) == f"order-cancelled:{ORDER}"
    assert dedup_key_of(message()) == f"order-message:{MESSAGE}"
    assert business_addressed(message("customer")) and not business_addressed(message("business"))
    assert not business_addressed(first_shipment()) and not business_addressed(order_cancelled())
