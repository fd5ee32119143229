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
from collections.abc import Iterable, Mapping
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Final, Literal

from babel import Locale as BabelLocale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

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

    def ngettext_decimal(self, singular: str, plural: str, number: str, /, **params: Any) -> str:
        """:meth:`ngettext` for a decimal written as ``number`` (``"0.40"``, ``"1.5"``).

        Its form follows the locale's rules for decimals, which gettext's integer ``n``
        cannot say: « 0,40 point » and « 1,5 point » in French, "1.00 strikes" in English.
        """
        form = BabelLocale.parse(self.locale).plural_form(Decimal(number))
        return self._t.ngettext(singular, plural, 1 if form == "one" else 2).format(**params)


@cache
def translator(locale: str | None) -> Translator:
    """The shared translator for a locale."""
    return Translator(locale)


#: French names of command words, options and the ``other`` value. Discord shows them to
#: French clients; text platforms accept them beside the English ones, and French help
#: writes options with them. Each is a valid Discord name (lowercase, no spaces) and no two
#: English names share a French one, so a French name always leads back to its command.
FRENCH_NAMES: Final[Mapping[str, str]] = {
    # command words
    "answer": "répondre",
    "charter": "charte",
    "circle": "cercle",
    "forget": "oublier",
    "health": "santé",
    "mydata": "mes-données",
    "setup": "réglages",
    "status": "état",
    "digest": "synthèse",
    "credit": "crédit",
    "export": "exporter",
    "now": "maintenant",
    "preview": "aperçu",
    "help": "aide",
    "allow": "autoriser",
    "approve": "approuver",
    "log": "journal",
    "queue": "file",
    "reject": "refuser",
    "rule": "règle",
    "semantic": "sémantique",
    "strikes": "avertissements",
    "test": "tester",
    "threshold": "seuil",
    "profession": "métier",
    "add": "ajouter",
    "list": "liste",
    "me": "moi",
    "merge": "fusionner",
    "proposals": "propositions",
    "set": "définir",
    "prompt": "question",
    "next": "prochaine",
    "remove": "retirer",
    "skip": "passer",
    "suggest": "proposer",
    "report": "signaler",
    "statement": "énoncé",
    "drop": "écarter",
    "edit": "modifier",
    "vote": "voter",
    # options
    "text": "texte",
    "reset": "rétablir",
    "confirm": "confirmer",
    "language": "langue",
    "timezone": "fuseau",
    "schedule": "calendrier",
    "round_days": "jours",
    "reminder_hours": "rappel",
    "day": "jour",
    "time": "heure",
    "mention_role": "rôle_mention",
    "named": "nommé",
    "round": "tour",
    "command": "commande",
    "word": "mot",
    "id": "numéro",
    "member": "membre",
    "reason": "motif",
    "family": "famille",
    "value": "valeur",
    "label": "libellé",
    "into": "dans",
    "name": "nom",
    "as": "comme",
    "sub1": "sous1",
    "sub2": "sous2",
    "sub3": "sous3",
    "choice": "choix",
    # values
    "other": "autre",
    "yes": "oui",
}
_ENGLISH_NAMES: Final[Mapping[str, str]] = {fr: en for en, fr in FRENCH_NAMES.items()}


def local_name(name: str, locale: str | None) -> str:
    """A command word or option name as a member of ``locale`` reads it."""
    return FRENCH_NAMES.get(name, name) if normalize_locale(locale) == "fr" else name


def english_name(name: str) -> str:
    """The English name behind a French one (English names are returned as they are)."""
    return _ENGLISH_NAMES.get(name.lower(), name)


def decimal(value: float, locale: str | None, places: int = 2) -> str:
    """A number as the reader writes it: ``0,80`` in French, ``0.80`` in English."""
    return format_decimal(value, "0." + "0" * places, locale=normalize_locale(locale))


def quoted(text: str, locale: str | None) -> str:
    """``text`` between quotation marks: « … » in French, “…” in English."""
    return f"« {text} »" if normalize_locale(locale) == "fr" else f"“{text}”"


def english_path(words: Iterable[str]) -> list[str]:
    """A command path typed in either language, in English: ``question ajouter`` → prompt add."""
    return [english_name(word) for word in words]
