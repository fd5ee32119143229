"""French and English message catalogs (gettext ``.po`` files read with Babel).

Message ids are the English text, so English needs no translation file entry to work; the
French catalog is complete (a test extracts every marked string and checks it). The locale
is chosen per circle, so translation happens at send time, never at import time: code marks
strings with :func:`N_` where they are declared and translates them with a
:class:`Translator` when it knows who reads them.

To add strings: mark them with ``_``/``N_`` (or ``ngettext``), then ``make i18n`` updates
``bot/locales/*/LC_MESSAGES/cercle.po``; fill in the French ``msgstr``.
"""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path
from typing import Any, Final, Literal

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

Locale = Literal["fr", "en"]
SUPPORTED_LOCALES: Final[tuple[Locale, ...]] = ("fr", "en")
DEFAULT_LOCALE: Final[Locale] = "fr"
DOMAIN: Final = "cercle"
LOCALES_DIR: Final = Path(__file__).parent / "locales"


def N_(message: str) -> str:
    """Mark a string for translation without translating it now."""
    return message


def normalize_locale(value: str | None) -> Locale:
    """Map ``fr_CA``, ``EN`` or ``None`` to a supported locale (French by default)."""
    if value:
        short = value.replace("-", "_").split("_", 1)[0].lower()
        for locale in SUPPORTED_LOCALES:
            if short == locale:
                return locale
    return DEFAULT_LOCALE


@cache
def _translations(locale: Locale) -> gettext.NullTranslations:
    path = LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=locale, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


class Translator:
    """Translates marked strings into one locale and fills their ``{placeholders}``."""

    __slots__ = ("_t", "locale")

    def __init__(self, locale: str | None) -> None:
        self.locale: Locale = normalize_locale(locale)
        self._t = _translations(self.locale)

    def _(self, message: str, /, **params: Any) -> str:
        """Translate ``message`` and format it with ``params``."""
        text = self._t.gettext(message)
        return text.format(**params) if params else text

    def ngettext(self, singular: str, plural: str, n: int, /, **params: Any) -> str:
        """Translate a message whose form depends on ``n`` (available as ``{n}``)."""
        return self._t.ngettext(singular, plural, n).format(n=n, **params)


@cache
def translator(locale: str | None) -> Translator:
    """The shared translator for a locale."""
    return Translator(locale)
