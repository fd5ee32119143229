"""Tests for the catalogs: every marked string is in French, placeholders survive translation."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import LOCALES_DIR, N_, Translator, normalize_locale, translator

ROOT = Path(__file__).parents[2]
SOURCES = ("bot", "cogs")
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def extracted() -> dict[str | tuple[str, ...], list[str]]:
    """Every marked message id in the sources, with where it is used."""
    found: dict[str | tuple[str, ...], list[str]] = {}
    for source in SOURCES:
        for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT / source, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            key = message if isinstance(message, str) else tuple(message)
            found.setdefault(key, []).append(f"{source}/{filename}:{lineno}")
    return found


def catalog(locale: str) -> Catalog:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "cercle.po").open("rb") as po:
        return read_po(po, locale=locale, domain="cercle")


def fields(text: str) -> list[str]:
    """The names of the ``{placeholders}`` of a format string, sorted."""
    return sorted(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)


MESSAGES = extracted()
FRENCH = catalog("fr")


def test_extraction_finds_the_marked_strings() -> None:
    # A sanity check that extraction works at all, so the next tests cannot pass vacuously.
    assert "Usage: {usage}" in MESSAGES
    assert "Show the commands I know, or the details of one." in MESSAGES
    assert len(MESSAGES) >= 20


def forms(value: object) -> tuple[str, ...]:
    """A catalog id or string as its forms (one, or one per plural form)."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return ()


def test_every_marked_string_has_a_french_translation() -> None:
    missing = []
    for msgid, where in MESSAGES.items():
        entry = FRENCH.get(msgid)
        translations = forms(entry.string) if entry is not None else ()
        if entry is None or entry.fuzzy or not translations or not all(translations):
            missing.append(f"{msgid!r} ({', '.join(where)})")
    assert not missing, "missing French translations:\n" + "\n".join(missing)


def test_runtime_uses_the_french_catalog() -> None:
    t = translator("fr")
    different = []
    for msgid in MESSAGES:
        if isinstance(msgid, str):
            entry = FRENCH.get(msgid)
            if entry is not None and entry.string and t._(msgid) != entry.string:
                different.append(msgid)
    assert not different, different


def test_french_placeholders_match_the_english_ones() -> None:
    wrong = []
    for entry in FRENCH:
        ids = forms(entry.id)
        if not ids or not ids[0]:
            continue  # the header
        plural = len(ids) > 1
        # A plural form may say "one" instead of "{n}": ``n`` is always passed anyway.
        expected = {name for msgid in ids for name in fields(msgid)}
        for text in forms(entry.string):
            if not text:
                continue
            try:
                got = set(fields(text))
            except ValueError as error:  # an unbalanced brace
                wrong.append(f"{entry.id!r}: {text!r} ({error})")
                continue
            same = got - {"n"} == expected - {"n"} if plural else got == expected
            if not same:
                wrong.append(f"{entry.id!r}: {sorted(expected)} != {sorted(got)} in {text!r}")
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong)


def test_every_french_message_formats_with_its_placeholders() -> None:
    t = translator("fr")
    for msgid in MESSAGES:
        if isinstance(msgid, str):
            params = {name: "X" for name in fields(msgid)}
            assert t._(msgid, **params) if params else t._(msgid)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("fr_CA", "fr"),
        ("fr-BE", "fr"),
        ("FR", "fr"),
        ("EN", "en"),
        ("en_US", "en"),
        ("en", "en"),
        (None, "fr"),
        ("", "fr"),
        ("de", "fr"),
        ("english", "fr"),
    ],
)
def test_normalize_locale(value: str | None, expected: str) -> None:
    assert normalize_locale(value) == expected


def test_french_translator_translates_and_fills_placeholders() -> None:
    assert translator("fr")._("Usage: {usage}", usage="x") == "Utilisation : x"
    assert translator("fr_CA")._("Usage: {usage}", usage="/help") == "Utilisation : /help"


def test_english_translator_keeps_the_message_id() -> None:
    assert translator("en")._("Usage: {usage}", usage="x") == "Usage: x"
    assert translator("en")._("Not in any catalog {x}", x=1) == "Not in any catalog 1"


def test_unknown_locale_speaks_french() -> None:
    t = Translator("de")
    assert t.locale == "fr"
    assert t._("**Commands**") == "**Commandes**"


def test_translator_is_shared_per_locale() -> None:
    assert translator("fr") is translator("fr")
    assert translator("fr").locale == "fr"
    assert translator("en").locale == "en"


def test_ngettext_picks_the_form() -> None:
    t = translator("en")
    assert t.ngettext("{n} answer", "{n} answers", 1) == "1 answer"
    assert t.ngettext("{n} answer", "{n} answers", 3) == "3 answers"


@pytest.mark.parametrize(
    ("locale", "number", "shown"),
    [
        ("fr", "0.00", "Règle x (y) : z, 0.00 point d’avertissement."),
        ("fr", "1.5", "Règle x (y) : z, 1.5 point d’avertissement."),
        ("fr", "2", "Règle x (y) : z, 2 points d’avertissement."),
        ("en", "0", "Rule x (y): z, 0 strikes."),
        ("en", "1", "Rule x (y): z, 1 strike."),
        ("en", "1.00", "Rule x (y): z, 1.00 strikes."),
    ],
)
def test_a_decimal_count_takes_its_languages_plural(locale: str, number: str, shown: str) -> None:
    said = translator(locale).ngettext_decimal(
        "Rule {rule} ({category}): {action}, {strikes} strike.",
        "Rule {rule} ({category}): {action}, {strikes} strikes.",
        number,
        rule="x",
        category="y",
        action="z",
        strikes=number,
    )
    assert said == shown


def test_n_marks_without_translating() -> None:
    assert N_("Usage: {usage}") == "Usage: {usage}"
