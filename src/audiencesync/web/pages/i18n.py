"""The pages' languages: English (the source) and French, chosen per request.

A remembered choice (the ``lang`` cookie, set by the language switch) wins, then
the browser's ``Accept-Language``, then English. French strings live in
``web/locale/fr/*.po`` (one file per area of the pages, merged), read at first
use: no compile step. Dates, numbers and
counts are formatted per language by Babel.
"""

from __future__ import annotations

import functools
import gettext
from datetime import UTC, datetime
from pathlib import Path

from babel import Locale
from babel.dates import format_datetime
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations
from starlette.requests import Request

LANGUAGES = ("en", "fr")
DEFAULT = "en"
COOKIE = "lang"
CATALOGS = Path(__file__).parent.parent / "locale"


def choose(request: Request) -> str:
    """The request's language: the remembered choice, the browser's, or English."""
    remembered = request.cookies.get(COOKIE)
    if remembered in LANGUAGES:
        return remembered
    header = request.headers.get("accept-language", "")
    return negotiate(header)


def negotiate(header: str) -> str:
    """The best of our languages for an ``Accept-Language`` header."""
    wanted: list[tuple[float, str]] = []
    for part in header.split(","):
        tag, _, quality = part.strip().partition(";q=")
        try:
            weight = float(quality) if quality else 1.0
        except ValueError:
            continue
        wanted.append((weight, tag.strip().lower()[:2]))
    for _, language in sorted(wanted, key=lambda pair: -pair[0]):
        if language in LANGUAGES:
            return language
    return DEFAULT


def catalog_files(language: str) -> list[Path]:
    """The ``.po`` files of ``language``, in a stable order."""
    return sorted((CATALOGS / language).glob("*.po"))


def read_catalogs(language: str) -> list[Catalog]:
    """Every catalog file of ``language``, parsed."""
    catalogs = []
    for path in catalog_files(language):
        with path.open("rb") as source:
            catalogs.append(read_po(source, locale=language))
    return catalogs


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalog of ``language`` (English: the source strings as they are)."""
    if language == DEFAULT:
        return gettext.NullTranslations()
    loaded = Translations()
    store = loaded._catalog
    catalogs = read_catalogs(language)
    for catalog in catalogs:
        for message in catalog:
            key, text = message.id, message.string
            if isinstance(key, tuple) and isinstance(text, tuple | list):  # plurals
                for index, form in enumerate(text):
                    if form:
                        store[(key[0], index)] = form
            elif isinstance(key, str) and key and isinstance(text, str) and text:
                store[key] = text
    plural = catalogs[0].plural_expr if catalogs else "(n != 1)"
    loaded.plural = gettext.c2py(plural)  # type: ignore[assignment]
    return loaded


class Formats:
    """Numbers and dates as ``language`` writes them."""

    def __init__(self, language: str) -> None:
        self.locale = Locale.parse(language)

    def number(self, value: float) -> str:
        """1,234 in English, 1 234 in French."""
        return format_decimal(value, locale=self.locale)

    def when(self, value: datetime | None) -> str:
        """A moment, medium length, in the language's order, in UTC (said)."""
        if value is None:
            return "—"
        shown = format_datetime(value, format="medium", tzinfo=UTC, locale=self.locale)
        return f"{shown} UTC"
