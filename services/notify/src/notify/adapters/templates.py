"""Rendering an email (subject, plain text, HTML) in the recipient's language.

Each email is one set of templates, package data in templates/: <email>.subject.j2,
<email>.txt.j2 and <email>.html.j2 (on the shared _layout.txt.j2 / _layout.html.j2). Their
strings are English, marked for translation (`_()` / `{% trans %}`, jinja2.ext.i18n), and
looked up in the language's gettext catalog (notify.adapters.catalogs); money and dates are
formatted by Babel (CLDR) for the language. One Jinja environment per language, each with its
catalog installed. Only `.html.j2` templates are autoescaped; subjects are collapsed to one line
(no header injection; CLDR's no-break spaces, as in "8 000 jednostek", stay) and the HTML's title
is the subject. Times are written in the business's time zone (BUSINESS_TIMEZONE), which the
renderer is given.

The layout greets `addressee` by name when the context names one (an email to a unit plan's
billing contact, `notify.adapters.causes.context_of`), and then says why that person receives it; it
greets `person` by name (a user of a customer account: its invitation, its support requests) without
that note. `portal_url` (PORTAL_URL) is every template's, for links into the customer portal (an order's
page); a context may name its own."""

from __future__ import annotations

import re
from datetime import UTC, tzinfo
from typing import Any

from jinja2 import BaseLoader, Environment, PackageLoader, StrictUndefined, select_autoescape

from notify.adapters import catalogs
from notify.adapters.wording import DEFAULT_LANGUAGE, Wording, format_date, format_money
from notify.domain.deliveries import Content
from notify.domain.recipients import LANGUAGES

__all__ = ["DEFAULT_LANGUAGE", "TemplateRenderer", "format_date", "format_money"]

# Any run of white space but the no-break ones CLDR writes inside numbers, money and times.
DEFAULT_PORTAL_URL = "http://127.0.0.1:3000"  # as NotifySettings.portal_url
_BREAKING_SPACE = re.compile(r"[^\S\u00a0\u202f]+")


def environment(
    language: str, loader: BaseLoader | None = None, tz: tzinfo = UTC, portal_url: str = DEFAULT_PORTAL_URL
) -> Environment:
    """The templates as the language reads them, times in `tz`, links into the portal at `portal_url`."""
    env = Environment(
        loader=loader or PackageLoader("notify", "templates"),
        extensions=["jinja2.ext.i18n"],
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.policies["ext.i18n.trimmed"] = True  # as catalogs.extract() reads them
    wording = Wording(language, catalogs.translations(language), tz)
    env.install_gettext_translations(wording.translations, newstyle=True)
    env.globals.update(
        lang=language,
        ways_to_pay=wording.ways_to_pay,
        period=wording.period,
        days=wording.days,
        card=wording.card,
        addressee=None,
        person=None,
        portal_url=portal_url.rstrip("/"),
    )
    env.filters.update(
        money=wording.money,
        date=wording.date,
        method=wording.method,
        billing=wording.billing,
        cycle=wording.cycle,
        service=wording.service,
        order_line=wording.order_line,
        quote_line=wording.quote_line,
        description=wording.description,
        names=wording.names,
        number=wording.number,
        units=wording.units,
        moment=wording.moment,
        month=wording.month,
        decline=wording.decline,
    )
    return env


class TemplateRenderer:
    def __init__(self, tz: tzinfo = UTC, portal_url: str = DEFAULT_PORTAL_URL) -> None:
        loader = PackageLoader("notify", "templates")
        self.envs = {language: environment(language, loader, tz, portal_url) for language in LANGUAGES}

    def render(self, template: str, language: str, context: dict[str, Any]) -> Content:
        env = self.envs.get(language) or self.envs[DEFAULT_LANGUAGE]

        def part(kind: str, variables: dict[str, Any]) -> str:
            return env.get_template(f"{template}.{kind}.j2").render(variables)

        subject = _BREAKING_SPACE.sub(" ", part("subject", context)).strip()
        variables = {**context, "subject": subject}
        return Content(subject=subject, text=part("txt", variables), html=part("html", variables))
