"""The bundled bilingual vocabulary of professions (``data/professions.json``), loaded once."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final

from bot.i18n import normalize_locale

DATA_FILE: Final = Path(__file__).parent / "data" / "professions.json"
_KEY_RE: Final = re.compile(r"^[a-z][a-z0-9_]{1,40}$")
_ISCO_RE: Final = re.compile(r"^\d{4}$")
_SPACES_RE: Final = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Casefold, strip accents (NFKD), turn punctuation into spaces and collapse spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = []
    for char in decomposed:
        category = unicodedata.category(char)
        if category == "Mn":
            continue  # a combining accent
        kept.append(char if category[0] in "LN" else " ")
    return _SPACES_RE.sub(" ", "".join(kept)).strip()


@dataclass(frozen=True, slots=True)
class Profession:
    """One canonical profession: a stable key, its ISCO-08 unit group, labels and aliases."""

    key: str
    #: ISCO-08 unit group (4 digits), for interoperability with labour statistics.
    isco: str
    fr: str
    en: str
    aliases: tuple[str, ...]

    def label(self, locale: str | None) -> str:
        """The label in ``locale`` (French unless English)."""
        return self.en if normalize_locale(locale) == "en" else self.fr

    @property
    def names(self) -> tuple[str, ...]:
        """Every way to name it: both labels, the key in words and the aliases."""
        return (self.fr, self.en, self.key.replace("_", " "), *self.aliases)


def _profession(entry: dict[str, Any]) -> Profession:
    key, isco = entry.get("key", ""), entry.get("isco", "")
    fr, en, aliases = entry.get("fr", ""), entry.get("en", ""), entry.get("aliases", [])
    if not isinstance(key, str) or not _KEY_RE.fullmatch(key) or key == "other":
        raise ValueError(f"profession key {key!r} must be a lowercase slug (not 'other')")
    if not isinstance(isco, str) or not _ISCO_RE.fullmatch(isco):
        raise ValueError(f"{key}: isco {isco!r} must be a 4-digit ISCO-08 unit group")
    if not (isinstance(fr, str) and fr.strip() and isinstance(en, str) and en.strip()):
        raise ValueError(f"{key}: both the fr and en labels are required")
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a for a in aliases):
        raise ValueError(f"{key}: aliases must be a list of non-empty strings")
    return Profession(key=key, isco=isco, fr=fr, en=en, aliases=tuple(aliases))


def load(path: Path = DATA_FILE) -> dict[str, Profession]:
    """Read and check a vocabulary file; professions by key, in file order.

    Raises:
        ValueError: a malformed entry or a key given twice.
    """
    entries = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a list of professions")
    professions: dict[str, Profession] = {}
    for entry in entries:
        profession = _profession(entry)
        if profession.key in professions:
            raise ValueError(f"profession key {profession.key!r} given twice")
        professions[profession.key] = profession
    return professions


@cache
def professions() -> dict[str, Profession]:
    """The bundled vocabulary (read once per process)."""
    return load()


def get(key: str) -> Profession | None:
    """The bundled profession with this key."""
    return professions().get(key)
