"""Statements drafted from a round's answers, extractive, pure functions.

The digest's analysis already finds the round's leading themes and quotes each with its
most representative sentence. A statement is one clause of that sentence: cut at ``;``,
``:``, a dash or a bracket, then (when still long) at a comma or a conjunction; it must
carry no ``@mention``, no link and no member's name, and be written in the circle's
language. One statement per theme, leading themes first, never one the round already has.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

MIN_DRAFT: Final = 3
MAX_DRAFT: Final = 6
MAX_CHARS: Final = 140
MIN_WORDS: Final = 4

#: Where a sentence falls into clauses.
_CLAUSE_BREAK: Final = re.compile(r"\s*(?:;|:|\s[—–-]\s|\(|\)|\[|\]|\.{3}|…|\?|!)\s*")
#: Where a long clause may still be cut, keeping its first part.
_SOFT_BREAK: Final = re.compile(
    r",\s+|\s+(?:mais|car|donc|parce que|alors que|tandis que|but|because|whereas|while)\s+",
    re.IGNORECASE,
)
_MENTION: Final = re.compile(r"(?:^|\s)@\S|<@|https?://|www\.", re.IGNORECASE)
_WORD: Final = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Source:
    """A leading theme of the round: its representative sentence and that sentence's language."""

    text: str
    lang: str


def fold(text: str) -> str:
    """Lowercase letters and digits only, accents dropped (to compare statements)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if ch.isalnum())


def _names(names: Iterable[str]) -> list[re.Pattern[str]]:
    patterns = []
    for name in names:
        for part in _WORD.findall(name):
            if len(part) >= 3 and not part.isdigit():
                patterns.append(re.compile(rf"(?<!\w){re.escape(part)}(?!\w)", re.IGNORECASE))
    return patterns


def anonymous(text: str, names: Sequence[re.Pattern[str]]) -> bool:
    """No mention, no link, no member's name."""
    return not _MENTION.search(text) and not any(p.search(text) for p in names)


def _shorten(clause: str, limit: int) -> str:
    """The clause within ``limit`` characters, cut where a sentence allows; else empty."""
    while len(clause) > limit:
        cuts = [m.start() for m in _SOFT_BREAK.finditer(clause) if m.start() > 0]
        if not cuts:
            return ""
        clause = clause[: cuts[-1]].rstrip(" ,")
    return clause


def one_clause(sentence: str, names: Sequence[re.Pattern[str]] = (), limit: int = MAX_CHARS) -> str:
    """The first clause of ``sentence`` that can stand as a statement, or ``""``.

    It has at least :data:`MIN_WORDS` words, at most ``limit`` characters, names nobody (a
    sentence with a mention or a link gives none), and reads as a sentence (capital first, a
    full stop last).
    """
    flat = " ".join(sentence.split()).strip(" \"'«»“”‘’")
    if _MENTION.search(flat):  # a link or a mention anywhere: its clauses point at someone
        return ""
    for piece in _CLAUSE_BREAK.split(flat):
        clause = _shorten(piece.strip(" .,\"'«»“”‘’"), limit)
        if len(_WORD.findall(clause)) < MIN_WORDS or not anonymous(clause, names):
            continue
        return clause[0].upper() + clause[1:] + "."
    return ""


def draft(
    sources: Sequence[Source],
    *,
    locale: str,
    names: Iterable[str] = (),
    existing: Iterable[str] = (),
    limit: int = MAX_DRAFT,
) -> list[str]:
    """Up to ``limit`` new statements, one per source in order, in the circle's language."""
    patterns = _names(names)
    seen = {fold(text) for text in existing}
    out: list[str] = []
    for source in sources:
        if len(out) >= limit:
            break
        if source.lang != locale:
            continue
        statement = one_clause(source.text, patterns)
        key = fold(statement)
        if not statement or key in seen:
            continue
        seen.add(key)
        out.append(statement)
    return out
