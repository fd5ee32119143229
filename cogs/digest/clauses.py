"""The clause of a sentence that says what is missing or what disappointed, as a quote.

"Concrètement, j'aime Instagram mais je suis déçue par l'algorithme ; il cache tout." answers
"what disappointed you?" with "Je suis déçue par l'algorithme…": what comes before the clause
(a lead-in, another thought) is left out at any comma, colon or contrast; what comes after is
cut only at a strong break (a semicolon, a dash, a contrast), so a list inside the clause stays
whole. A clause too short to stand alone ("Déçu ;") keeps what follows it.
"""

from __future__ import annotations

import re
from typing import Final

from cogs.digest.language import cue_kinds

#: Where a clause may begin: after any of these.
_WEAK: Final = re.compile(
    r"\s*[,:;()]\s+|\s+[—–-]\s+|\s+(?:mais|but|sauf que|except that|though|although|"
    r"alors que|whereas|cependant|however)\s+",
    re.IGNORECASE,
)
#: Where a clause ends: only at these.
_STRONG: Final = re.compile(
    r"\s*[;()]\s+|\s+[—–-]\s+|\s+(?:mais|but|sauf que|except that|though|although|"
    r"alors que|whereas|cependant|however)\s+",
    re.IGNORECASE,
)
#: Linking words a clause does not start with once cut out ("and there is no…").
_LEADING: Final = re.compile(
    r"^(?:and|et|so|donc|then|puis|car|because|parce que|mais|but|however|cependant)\s+", re.I
)
#: Fewer words than this cannot stand alone as a quote.
MIN_WORDS: Final = 4


def _starts(text: str, pattern: re.Pattern[str]) -> list[tuple[int, int]]:
    """The pieces of ``text`` between the separators ``pattern`` finds, as (start, end)."""
    spans: list[tuple[int, int]] = []
    at = 0
    for match in pattern.finditer(text):
        if match.start() > at:
            spans.append((at, match.start()))
        at = match.end()
    if at < len(text):
        spans.append((at, len(text)))
    return spans


def clause(sentence: str, kind: str) -> str:
    """The part of ``sentence`` that says ``kind`` (``missing``, ``disappointed``).

    The whole sentence when no piece of it carries the cue on its own (the cue spans a break).
    """
    text = " ".join(sentence.split())
    pieces = _starts(text, _WEAK)
    found = next((s for s in pieces if kind in cue_kinds(text[s[0] : s[1]])), None)
    if found is None:
        return text
    start = found[0]
    end = len(text)
    for _, piece_end in _starts(text[start:], _STRONG):
        end = start + piece_end
        if len(text[start:end].split()) >= MIN_WORDS:
            break
    out = _LEADING.sub("", text[start:end].strip(" ,;:—–-"))
    if not out:
        return text
    out = out[0].upper() + out[1:]
    if end < len(text):
        out = out.rstrip(" ,;:.") + "…"
    return out
