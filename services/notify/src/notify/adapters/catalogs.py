"""The emails' message catalogs: one gettext catalog per language,
`notify/locale/<lang>/LC_MESSAGES/messages.po`, English being the source strings (its catalog
leaves them untranslated). The .po files are what is edited and committed; each is compiled in
memory (Babel) when notify loads it, so there is no .mo to build.

The strings are those the templates mark (`_()` / `{% trans %}`) and those of
`notify.adapters.wording`. After adding or changing one:

    uv run --frozen python -m notify.adapters.catalogs update   # every catalog gets the new strings
    uv run --frozen python -m notify.adapters.catalogs check    # what is missing or untranslated

then write the translations into the tr, de and pl catalogs."""

from __future__ import annotations

import functools
import io
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from babel.support import Translations

import notify
from notify.domain.recipients import LANGUAGES

PACKAGE = Path(notify.__file__).resolve().parent
LOCALE_DIR = PACKAGE / "locale"
TEMPLATE_DIR = PACKAGE / "templates"
PYTHON_SOURCES = (PACKAGE / "adapters" / "wording.py",)
DOMAIN = "messages"
SOURCE_LANGUAGE = "en"
PLACEHOLDER = re.compile(r"%\((\w+)\)")

# As the renderer's Environment parses the templates, so that the extracted msgids are the ones looked up.
JINJA_OPTIONS = {
    "extensions": "jinja2.ext.i18n",
    "newstyle_gettext": "true",
    "trimmed": "true",
    "trim_blocks": "true",
    "lstrip_blocks": "true",
    "keep_trailing_newline": "true",
}


def path_of(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def read(language: str) -> Catalog:
    with path_of(language).open("rb") as f:
        return read_po(f, locale=language, domain=DOMAIN)


@functools.cache
def translations(language: str) -> Translations:
    """The language's catalog, compiled in memory (fuzzy entries are left out, as msgfmt does)."""
    buffer = io.BytesIO()
    write_mo(buffer, read(language))
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def new_catalog(language: str | None = None) -> Catalog:
    name = Locale.parse(language).english_name if language else "any language"
    catalog = Catalog(
        locale=language,
        domain=DOMAIN,
        header_comment=f"# The emails of notify, in {name}.\n"
        "# Source strings: the templates (notify/templates) and notify/adapters/wording.py.",
        project="portal-notify",
        version="0.1.0",
        msgid_bugs_address="",
        last_translator="",
        language_team="",
        fuzzy=False,
    )
    return catalog


def extract() -> Catalog:
    """Every string the emails use, from the templates and the wording module."""
    catalog = new_catalog()
    found = [
        (f"templates/{name}", line, message, comments, context)
        for name, line, message, comments, context in extract_from_dir(
            TEMPLATE_DIR, method_map=[("**.j2", "jinja2")], options_map={"**.j2": JINJA_OPTIONS}
        )
    ]
    for source in PYTHON_SOURCES:
        relative = source.relative_to(PACKAGE).as_posix()
        found += [(relative, *rest) for rest in extract_from_file("python", source)]
    for filename, line, message, comments, context in found:
        catalog.add(message, locations=[(filename, line)], auto_comments=comments, context=context)
    return catalog


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def _key(message) -> tuple:
    return (message.id, message.context)


def problems(language: str) -> list[str]:
    """What keeps the language's catalog from covering the emails: strings missing from it or
    left in it after their template dropped them, untranslated or fuzzy ones (outside English),
    and translations whose placeholders differ from the source's."""
    catalog, source = read(language), extract()
    wanted = {_key(m) for m in source if m.id}
    held = {_key(m) for m in catalog if m.id}
    found = [f"{language}: missing {key[0]!r}" for key in sorted(wanted - held, key=str)]
    found += [f"{language}: not used any more {key[0]!r}" for key in sorted(held - wanted, key=str)]
    for message in catalog:
        if not message.id or language == SOURCE_LANGUAGE:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            found.append(f"{language}: not translated {message.id!r}")
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        # form 0 says what the singular says, the others what the plural says
        for original, translated in zip((ids[0], *[ids[-1]] * (len(strings) - 1)), strings, strict=True):
            left_out = _placeholders(original) - _placeholders(translated)
            if translated and left_out:
                found.append(f"{language}: {message.id!r} leaves out {', '.join(sorted(left_out))}")
    for message, errors in catalog.check():  # unknown or mismatched placeholders
        found += [f"{language}: {message.id!r}: {error}" for error in errors]
    return found


def write(f, catalog: Catalog) -> None:
    """As the catalogs are kept: unwrapped lines, the files a string is in (not the lines)."""
    write_po(f, catalog, width=0, include_lineno=False, include_previous=False)


def update(languages=LANGUAGES) -> None:
    """Bring every catalog to the strings the emails use now: new ones added (untranslated),
    dropped ones removed, translations kept."""
    source = extract()
    for language in languages:
        path = path_of(language)
        if path.exists():
            catalog = read(language)
        else:
            catalog = new_catalog(language)
            path.parent.mkdir(parents=True, exist_ok=True)
        source.creation_date = catalog.creation_date  # no churn in the header
        catalog.update(source, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        catalog.revision_date = datetime.now(UTC)
        with path.open("wb") as f:
            write(f, catalog)
    translations.cache_clear()


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "update":
        update()
        return 0
    if command == "check":
        found = [p for language in LANGUAGES for p in problems(language)]
        print("\n".join(found) or "every catalog holds every string, translated")
        return 1 if found else 0
    print("usage: python -m notify.adapters.catalogs [check|update]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
