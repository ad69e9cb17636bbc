"""What an email says that takes a little logic, in the recipient's language: money and dates
as CLDR writes them for the locale (Babel), the name of a payment method, a line's billing
cycle, and how to pay an invoice, written as sentences a person would write to a customer
from the payment instructions billing put in InvoiceIssued.

Every function returns plain text (never markup): the HTML templates escape it like any other
value. Its strings are in the same gettext catalogs as the templates' (notify/locale).

The client area's emails add a service's cycle (`monthly` → "every month", with the same plural
strings as a request line's billing), the period a line pays for (CLDR's date interval; the
contracts' period ends the day before the next due date, so the last day shown is the day before
`period_end`), a service as its name and domain, and a list of add-ons as the language joins a list.

The prepaid units' emails add units as the language counts them ("1,000 units", "1.000 Einheiten",
"1 000 jednostek": CLDR's digits, gettext's plural forms), a moment in the business's time zone
(when a declined top-up is tried again), a month by its name, a card as its brand and last four
digits, and a card's decline reason (billing's gateway code) as a sentence. Times in the emails
are the business's (BUSINESS_TIMEZONE): a datetime's day is the day it falls on there. A
reconciliation statement's period is a span of days with both ends included (`days`)."""

from __future__ import annotations

import functools
import gettext
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as _cldr_date
from babel.dates import format_interval, format_skeleton, format_time, get_datetime_format, get_timezone_name
from babel.lists import format_list
from babel.numbers import format_currency, format_decimal, get_currency_precision

DEFAULT_LANGUAGE = "en"
DATE_FORMAT = "long"  # "15. Februar 2026", "February 15, 2026": unambiguous in every language
PERIOD_SKELETON = "yMMMd"  # "Jan 31 – Feb 27, 2026", "31. Jan. – 27. Feb. 2026": the month named, never a number
MONTH_SKELETON = "yMMMM"  # "March 2026", "März 2026", "marzec 2026"

# A client-area service's cycle (portal_contracts.events.catalog.Cycle) in months.
CYCLE_MONTHS = {"monthly": 1, "quarterly": 3, "semi_annual": 6, "annual": 12, "biennial": 24, "triennial": 36}

# How card brands are written (billing sends them as lower-case keys).
CARD_BRANDS = {
    "visa": "Visa",
    "mastercard": "Mastercard",
    "amex": "American Express",
    "american_express": "American Express",
    "maestro": "Maestro",
    "discover": "Discover",
    "diners": "Diners Club",
    "jcb": "JCB",
    "unionpay": "UnionPay",
}


@functools.cache
def locale_of(language: str) -> Locale:
    """The language's CLDR locale; English for a language CLDR does not know."""
    try:
        return Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT_LANGUAGE)


def format_money(amount: Decimal | str | int, currency: str, language: str = DEFAULT_LANGUAGE) -> str:
    """The amount in the currency's decimals (half up), as CLDR writes it for the language:
    `€1,234.50` in English, `1.234,50 €` in German (a no-break space before the sign)."""
    digits = get_currency_precision(currency)
    value = Decimal(str(amount)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return format_currency(value, currency, locale=locale_of(language))


def format_date(value: date | datetime, language: str = DEFAULT_LANGUAGE, tz: tzinfo = UTC) -> str:
    """A date; a datetime as the day it falls on in `tz` (the business's time zone)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(tz)
    return _cldr_date(value, DATE_FORMAT, locale=locale_of(language))


@dataclass(frozen=True)
class WayToPay:
    """One way to pay an invoice: the method's name and what to do, in sentences."""

    method: str
    text: str


class Wording:
    """The phrases of one language, from its translations (a gettext catalog), with times in the
    business's time zone `tz`."""

    def __init__(self, language: str, translations: gettext.NullTranslations, tz: tzinfo = UTC) -> None:
        self.language = language
        self.locale = locale_of(language)
        self.translations = translations
        self.tz = tz

    def money(self, money: Any) -> str:
        return format_money(money.amount, money.currency, self.language)

    def date(self, value: date | datetime) -> str:
        return format_date(value, self.language, self.tz)

    def number(self, value: int) -> str:
        """A whole number with the language's digit grouping: 1,000 / 1.000 / 1 000."""
        return format_decimal(value, locale=self.locale)

    def units(self, count: int) -> str:
        """A number of units as the language counts them: "1 unit", "2.000 Einheiten", "3 jednostki"
        (a negative balance takes the plural form of its size)."""
        said = self.translations.ngettext("%(num)s unit", "%(num)s units", abs(count))
        return said % {"num": self.number(count)}

    def moment(self, value: datetime) -> str:
        """A date and time of day in the business's time zone, the zone named in the language:
        "March 5, 2026, 2:30 PM (Central European Standard Time)"."""
        local = value.astimezone(self.tz)
        zone = get_timezone_name(local, "long", locale=self.locale)
        time_of_day = f"{format_time(local, 'short', locale=self.locale)} ({zone})"
        pattern = get_datetime_format("long", locale=self.locale).replace("'", "")
        return pattern.replace("{1}", format_date(local.date(), self.language)).replace("{0}", time_of_day)

    def month(self, month: str) -> str:
        """A calendar month given as YYYY-MM, by its name: "March 2026", "marzec 2026"."""
        year, number = (int(part) for part in month.split("-"))
        return format_skeleton(MONTH_SKELETON, date(year, number, 1), locale=self.locale)

    def card(self, brand: str | None, last4: str | None) -> str:
        """A card as a person knows it: "Visa ending in 4242"; "card ending in 4242" for a brand
        billing could not tell (`other`)."""
        _ = self.translations.gettext
        name = CARD_BRANDS.get((brand or "").lower())
        if last4 is None:
            return name or _("Card payment")
        if name is None:
            return _("card ending in %(last4)s") % {"last4": last4}
        return _("%(brand)s ending in %(last4)s") % {"brand": name, "last4": last4}

    def decline(self, reason: str) -> str:
        """Why a card was declined, from the gateway's code; a code without its own sentence
        (lost or stolen cards among them: never said to the customer) as a plain decline."""
        _ = self.translations.gettext
        sentences = {
            "card_declined": _("The card issuer declined the payment."),
            "insufficient_funds": _("The card does not have sufficient funds."),
            "expired_card": _("The card has expired."),
            "incorrect_cvc": _("The card's security code was not accepted."),
            "processing_error": _("The payment could not be processed."),
        }
        return sentences.get(reason, _("The payment was declined."))

    def method(self, name: str) -> str:
        """A payment method's name (`bank_transfer` → "Bank transfer"); an unknown one as it came."""
        _ = self.translations.gettext
        names = {
            "bank_transfer": _("Bank transfer"),
            "card": _("Card payment"),
            "paypal": _("PayPal"),
            "direct_debit": _("Direct debit"),
        }
        return names.get(name, name.replace("_", " "))

    def billing(self, line: Any) -> str:
        """How often a request line is billed: "one-time", "every month", "every 3 months"."""
        if line.billing != "recurring":
            return self.translations.gettext("one-time")
        months = line.billing_period_months or 1
        return self.translations.ngettext("every month", "every %(num)s months", months) % {"num": months}

    def cycle(self, cycle: str) -> str:
        """A client-area cycle as a request line's billing is said: "every month", "one-time"."""
        months = CYCLE_MONTHS.get(cycle)
        if months is None:
            return self.translations.gettext("one-time")
        return self.translations.ngettext("every month", "every %(num)s months", months) % {"num": months}

    def period(self, start: date, end: date | None) -> str:
        """The period a line pays for, first to last day (`end` is the day after it); open-ended
        (a one-time line) as its first day."""
        if end is None or end - start <= timedelta(days=1):
            return self.date(start)
        return format_interval(start, end - timedelta(days=1), PERIOD_SKELETON, locale=self.locale)

    def days(self, first: date, last: date) -> str:
        """A span of days, both included (a statement's period): "Jan 1 – 31, 2026"; one day as its date."""
        if last <= first:
            return self.date(first)
        return format_interval(first, last, PERIOD_SKELETON, locale=self.locale)

    def service(self, name: str, domain: str | None = None) -> str:
        """A service as the customer knows it: its name, and its domain if it has one."""
        return f"{name} ({domain})" if domain else name

    def order_line(self, line: Any) -> str:
        """An order line as what it buys, in which cycle, for which period:
        "Add-on SSL (example.com), every month, Jan 10 – Feb 9, 2026"."""
        _ = self.translations.gettext
        if line.kind == "good":
            return self.quote_line(line)
        what = {
            "new": _("%(service)s, %(cycle)s, %(period)s"),
            "renewal": _("Renewal of %(service)s, %(cycle)s, %(period)s"),
            "add_on": _("Add-on %(service)s, %(cycle)s, %(period)s"),
        }[line.kind]
        said = what % {
            "service": self.service(line.name, line.domain),
            "cycle": self.cycle(line.cycle),
            "period": self.period(line.period_start, line.period_end),
        }
        return f"{line.quantity} × {said}" if line.quantity > 1 else said

    def quote_line(self, line: Any) -> str:
        """A line of goods (an order's or a quote's) as quantity × unit price: "3 × Steel bolt M8 at €1.20"."""
        said = self.translations.gettext("%(quantity)s × %(name)s at %(price)s")
        return said % {"quantity": self.number(line.quantity), "name": line.name, "price": self.money(line.unit_price)}

    def description(self, line: Any) -> str:
        """An invoice line's description without the period in ISO form that billing may append to
        it (`Web hosting (example.com), 2026-03-31 – 2026-04-29`): the email names the period in
        the language, beside it."""
        if line.period_start is None or line.period_end is None:
            return line.description
        iso = f", {line.period_start.isoformat()} – {(line.period_end - timedelta(days=1)).isoformat()}"
        return line.description.removesuffix(iso)

    def names(self, things: Iterable[Any]) -> str:
        """Names joined as the language joins a list: "SSL, Backup, and DNS", "SSL, Backup und DNS"."""
        return format_list([thing.name for thing in things], locale=self.locale)

    def ways_to_pay(self, instructions: Iterable[Any], *, number: str, total: Any) -> list[WayToPay]:
        """Each payment instruction as what the customer does: transfer the total to the
        account, quoting the reference; pay by card; send it by PayPal. Billing's field names
        and API paths are never shown; a method notify does not know is shown with its details."""
        amount = self.money(total)
        ways = []
        for instruction in instructions:
            details: Mapping[str, str] = instruction.details
            write = {"bank_transfer": self._transfer, "card": self._card, "paypal": self._paypal}.get(
                instruction.method, self._other
            )
            text = write(details, number=number, amount=amount)
            ways.append(WayToPay(self.method(instruction.method), text))
        return ways

    def _transfer(self, details: Mapping[str, str], *, number: str, amount: str) -> str:
        _ = self.translations.gettext
        if not details.get("iban"):
            return self._other(details, number=number, amount=amount)
        if details.get("bic"):
            account = _("IBAN %(iban)s, BIC %(bic)s") % {"iban": details["iban"], "bic": details["bic"]}
        else:
            account = _("IBAN %(iban)s") % {"iban": details["iban"]}
        beneficiary = details.get("beneficiary") or details.get("account_holder")
        if beneficiary:
            to = _("Please transfer %(amount)s to %(beneficiary)s, %(account)s.") % {
                "amount": amount,
                "beneficiary": beneficiary,
                "account": account,
            }
        else:
            to = _("Please transfer %(amount)s to our account %(account)s.") % {"amount": amount, "account": account}
        quote = _(
            "Please quote %(reference)s as the payment reference so that we can match your payment to the invoice."
        )
        return f"{to} {quote % {'reference': details.get('reference') or number}}"

    def _card(self, details: Mapping[str, str], *, number: str, amount: str) -> str:
        _ = self.translations.gettext
        if details.get("payment_url"):
            how = _("You can pay by card online: %(url)s") % {"url": details["payment_url"]}
        else:
            how = _("Sign in to the customer portal, open invoice %(number)s and pay it by card.") % {"number": number}
        brands = [b.strip() for b in details.get("accepted", "").split(",") if b.strip()]
        if not brands:
            return how
        names = [CARD_BRANDS.get(b.lower(), b.replace("_", " ").title()) for b in brands]
        accepted = _("We accept %(brands)s.") % {"brands": format_list(names, locale=self.locale)}
        return f"{how} {accepted}"

    def _paypal(self, details: Mapping[str, str], *, number: str, amount: str) -> str:
        if not details.get("payee"):
            return self._other(details, number=number, amount=amount)
        send = self.translations.gettext(
            "Please send %(amount)s with PayPal to %(payee)s and add %(reference)s as the note to your payment."
        )
        return send % {"amount": amount, "payee": details["payee"], "reference": details.get("reference") or number}

    def _other(self, details: Mapping[str, str], *, number: str, amount: str) -> str:
        """A method without its own sentences: its details, each with a readable name."""
        _ = self.translations.gettext
        labels = {
            "iban": "IBAN",
            "bic": "BIC",
            "beneficiary": _("Account holder"),
            "account_holder": _("Account holder"),
            "bank_name": _("Bank"),
            "payee": _("Recipient"),
            "reference": _("Payment reference"),
            "payment_url": _("Pay online"),
            "url": _("Pay online"),
        }
        shown = [f"{labels.get(key, key.replace('_', ' '))}: {value}" for key, value in details.items()]
        if not shown:
            return _("Please quote the invoice number %(number)s with your payment.") % {"number": number}
        return "; ".join(shown)
