"""Rendering an email (subject, plain text, HTML) from Jinja2 templates in the recipient's language.

Templates are package data: templates/<lang>/<template>.{subject,txt,html}.j2. Only `.html.j2`
templates are autoescaped; subjects are collapsed to one line (no header injection)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context, select_autoescape

from notify.domain.deliveries import Content
from notify.domain.recipients import LANGUAGES

DEFAULT_LANGUAGE = "en"
# (thousands separator, decimal separator) per language
_NUMBER = {"en": (",", "."), "de": (".", ","), "tr": (".", ","), "pl": (" ", ",")}
_DATE = {"en": "%Y-%m-%d", "de": "%d.%m.%Y", "tr": "%d.%m.%Y", "pl": "%d.%m.%Y"}


def format_money(amount: Decimal | str | int, currency: str, language: str = DEFAULT_LANGUAGE) -> str:
    """Two decimals (half up), the language's separators, then the currency: `1.234,50 EUR`."""
    thousands, decimal = _NUMBER.get(language, _NUMBER[DEFAULT_LANGUAGE])
    value = Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    whole, cents = f"{abs(value):.2f}".split(".")
    groups = []
    while len(whole) > 3:
        whole, groups = whole[:-3], [whole[-3:], *groups]
    return f"{sign}{thousands.join([whole, *groups])}{decimal}{cents} {currency}"


def format_date(value: date | datetime, language: str = DEFAULT_LANGUAGE) -> str:
    return value.strftime(_DATE.get(language, _DATE[DEFAULT_LANGUAGE]))


@pass_context
def _money(ctx: Any, money: Any) -> str:
    return format_money(money.amount, money.currency, ctx["lang"])


@pass_context
def _date(ctx: Any, value: date | datetime) -> str:
    return format_date(value, ctx["lang"])


class TemplateRenderer:
    def __init__(self) -> None:
        self.env = Environment(
            loader=PackageLoader("notify", "templates"),
            autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False, default=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.env.filters["money"] = _money
        self.env.filters["date"] = _date

    def render(self, template: str, language: str, context: dict[str, Any]) -> Content:
        lang = language if language in LANGUAGES else DEFAULT_LANGUAGE
        variables = {**context, "lang": lang}

        def part(kind: str) -> str:
            return self.env.get_template(f"{lang}/{template}.{kind}.j2").render(variables)

        return Content(subject=" ".join(part("subject").split()), text=part("txt"), html=part("html"))
