"""Numbers and e-mail addresses written out in words, turned back into digits and symbols.

Members dodge the phone and e-mail patterns by dictating: ``zéro six, douze, trente-quatre``,
``oh seven seven double oh nine``, ``jean point dupont arobase gmail point com``. This module
rewrites such spans into ``0612…`` or ``jean.dupont@gmail.com`` and keeps, for every piece, its
span in the original text, so that the mask covers the words. It decides nothing itself:
:mod:`cogs.courtesy.pii` runs its usual checks on the result.
"""

from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass
from typing import Final

_UNITS: Final = {
    # French
    "zéro": 0, "zero": 0, "un": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6,
    "sept": 7, "huit": 8, "neuf": 9,
    # English ("oh" and "o" are how a 0 is read out in a phone number)
    "oh": 0, "o": 0, "nought": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "seven": 7, "eight": 8, "nine": 9,
}  # fmt: skip
_TEENS: Final = {
    "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15, "seize": 16,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS: Final = {
    "vingt": 20, "vingts": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60,
    # Belgian and Swiss
    "septante": 70, "huitante": 80, "octante": 80, "nonante": 90,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_HUNDREDS: Final = frozenset({"cent", "cents", "hundred"})
_REPEATS: Final = {"double": 2, "triple": 3}
_CONNECTORS: Final = frozenset({"et", "and"})
_PLUS: Final = frozenset({"plus", "+"})
#: Words that count towards the cheap test (``o`` and the connectors are too common).
NUMBER_WORDS: Final = frozenset({w for w in (*_UNITS, *_TEENS, *_TENS, *_HUNDREDS) if w != "o"})
_RUN_WORDS: Final = frozenset(
    {*_UNITS, *_TEENS, *_TENS, *_HUNDREDS, *_REPEATS, *_CONNECTORS, *_PLUS}
)
_TOKEN_RE: Final = re.compile(r"\+|\d+|[^\W\d_]+")
_ROUGH_SEPARATORS: Final = "-,.;:!?()[]<>/'’+"
#: What may stand between two pieces of one dictated number.
_GAP_RE: Final = re.compile(r"[\s,.;:\-–/()]{0,4}")
#: Gaps inside one compound ("soixante-dix-huit", "vingt et un"): no comma, no full stop.
_TIGHT_GAP_RE: Final = re.compile(r"[\s\-]{1,3}")
#: A run needs this many pieces (words or digit groups) to be worth reading.
MIN_PIECES: Final = 5


@dataclass(frozen=True, slots=True)
class Piece:
    """One number read out in a run: its digits and its span in the text."""

    digits: str
    start: int
    end: int
    #: The value for the counting test (``None`` for digit groups and ``+``).
    value: int | None = None
    #: Written in words (not a digit group).
    spelled: bool = True


@dataclass(frozen=True, slots=True)
class _Word:
    text: str
    start: int
    end: int
    #: The gap before this word can join it to the previous one in a compound.
    tight: bool


def rough_tokens(text: str) -> list[str]:
    """``text`` lower-cased and split on spaces and common punctuation, for the cheap tests.

    Several times faster than a regular expression; ``six!`` stays one token, which only makes
    a cheap test a little less eager.
    """
    lowered = text.lower()
    for char in _ROUGH_SEPARATORS:
        if char in lowered:
            lowered = lowered.replace(char, " ")
    return lowered.split()


def might_spell_numbers(tokens: list[str]) -> bool:
    """Cheap test on :func:`rough_tokens`: a run of number words or digits.

    Needs at least :data:`MIN_PIECES` of them one after the other (what lies between is not
    looked at here), one of them a word.
    """
    if NUMBER_WORDS.isdisjoint(tokens):
        return False
    streak = 0
    for token in tokens:
        if token in _RUN_WORDS or token.isdigit():
            streak += 1
            if streak >= MIN_PIECES:
                return True
        else:
            streak = 0
    return False


def number_runs(text: str) -> list[list[Piece]]:
    """Runs of numbers read out one after the other, each piece with its span.

    ``"zéro six, douze"`` gives ``[0, 6, 12]``; ``"soixante-dix-huit"`` is one piece (78),
    ``"double oh"`` one piece (``00``). Runs made only of digit groups are left out (the digit
    patterns handle them), and so are runs of fewer than :data:`MIN_PIECES` words.
    """
    runs: list[list[Piece]] = []
    words: list[_Word] = []
    last_end = -1
    for match in _TOKEN_RE.finditer(text):
        token = match.group().lower()
        if not (token[0].isdigit() or token in _RUN_WORDS):
            _flush(words, runs)
            last_end = -1
            continue
        if words and _GAP_RE.fullmatch(text, last_end, match.start()) is None:
            _flush(words, runs)
        tight = bool(words) and _TIGHT_GAP_RE.fullmatch(text, last_end, match.start()) is not None
        words.append(_Word(token, match.start(), match.end(), tight))
        last_end = match.end()
    _flush(words, runs)
    return runs


def _flush(words: list[_Word], runs: list[list[Piece]]) -> None:
    if len(words) >= MIN_PIECES and any(not w.text[0].isdigit() for w in words):
        for run in _read(words):
            if len(run) >= 2 and any(p.spelled for p in run):
                runs.append(run)
    words.clear()


def _read(words: list[_Word]) -> list[list[Piece]]:
    """The pieces of one run of words; a word that reads as no number splits the run."""
    runs: list[list[Piece]] = [[]]
    index = 0
    while index < len(words):
        word = words[index]
        if word.text[0].isdigit():
            runs[-1].append(Piece(word.text, word.start, word.end, None, spelled=False))
            index += 1
            continue
        if word.text in _PLUS and (index + 1 < len(words)):
            if runs[-1]:
                runs.append([])
            runs[-1].append(Piece("+", word.start, word.end))
            index += 1
            continue
        if word.text in _REPEATS and index + 1 < len(words):
            value, after = _number(words, index + 1)
            if value is not None and value < 10:
                times = _REPEATS[word.text]
                runs[-1].append(Piece(str(value) * times, word.start, words[after - 1].end, value))
                index = after
                continue
        value, after = _number(words, index)
        if value is None:
            runs.append([])
            index += 1
            continue
        runs[-1].append(Piece(str(value), word.start, words[after - 1].end, value))
        index = after
    return [run for run in runs if run]


def _number(words: list[_Word], index: int) -> tuple[int | None, int]:
    """The number starting at ``words[index]`` (up to 999) and the index after it."""
    value, after = _below_hundred(words, index)
    if value is not None and 1 <= value <= 9 and _joined(words, after, _HUNDREDS):
        value, after = value * 100, after + 1
    elif value is None and words[index].text in _HUNDREDS:
        value, after = 100, index + 1
    else:
        return value, after
    if _joined(words, after, _CONNECTORS):
        rest, later = _below_hundred(words, after + 1)
        if rest is not None and rest > 0:
            return value + rest, later
        return value, after
    if after < len(words) and words[after].tight:
        rest, later = _below_hundred(words, after)
        if rest is not None and rest > 0:
            return value + rest, later
    return value, after


def _below_hundred(words: list[_Word], index: int) -> tuple[int | None, int]:
    """A number from 0 to 99 in words ("quatre-vingt-dix-neuf", "twenty one")."""
    text = words[index].text
    if text == "quatre" and _joined(words, index + 1, frozenset({"vingt", "vingts"})):
        tens, after = 80, index + 2
    elif text in _TENS:
        tens, after = _TENS[text], index + 1
    elif text in _TEENS:
        return _teen(words, index)
    elif text in _UNITS:
        return _UNITS[text], index + 1
    else:
        return None, index
    if _joined(words, after, _CONNECTORS):
        # "vingt et un", "soixante et onze"
        if _joined(words, after + 1, frozenset({"un", "one", "onze"})):
            return tens + (1 if words[after + 1].text != "onze" else 11), after + 2
        return tens, after
    if after < len(words) and words[after].tight:
        nxt = words[after].text
        if tens in (60, 80) and nxt in _TEENS and nxt not in ("ten",):
            teen, later = _teen(words, after)
            return tens + (teen or 0), later
        if nxt in _UNITS and _UNITS[nxt] > 0 and nxt not in ("o", "oh"):
            return tens + _UNITS[nxt], after + 1
    return tens, after


def _teen(words: list[_Word], index: int) -> tuple[int, int]:
    value = _TEENS[words[index].text]
    # "dix-sept", "dix huit", "dix-neuf"
    if value == 10 and _joined(words, index + 1, frozenset({"sept", "huit", "neuf"})):
        return 10 + _UNITS[words[index + 1].text], index + 2
    return value, index + 1


def _joined(words: list[_Word], index: int, wanted: frozenset[str]) -> bool:
    return index < len(words) and words[index].tight and words[index].text in wanted


def counting(pieces: list[Piece]) -> bool:
    """The pieces count up or down one by one ("un deux trois quatre...")."""
    values = [p.value for p in pieces if p.value is not None]
    if len(values) != len(pieces) or len(values) < 3:
        return False
    steps = {b - a for a, b in itertools.pairwise(values)}
    return steps in ({1}, {-1})


# ------------------------------------------------------------------ e-mail addresses

_OPEN: Final = r"[\[({<]\s*"
_CLOSE: Final = r"\s*[\])}>]\s*"
#: Spelled e-mail symbols, and the spaces a member puts around real ones. Every branch starts
#: with a space, a bracket or ``@`` (the lookahead lets the search skip other characters).
_EMAIL_SYMBOLS: Final = (
    rf"(?P<at>\s*{_OPEN}(?:at|arobase|chez|@){_CLOSE}|\s*@\s*|\s+arobase\s+)"
    r"|(?P<atword>\s+at\s+)|(?P<chez>\s+chez\s+)"
    rf"|(?P<dot>\s*{_OPEN}(?:dot|point|\.){_CLOSE}|\s+dot\s+|\s+\.\s+)|(?P<point>\s+point\s+)"
    r"|(?P<dash>\s+(?:tiret|dash|hyphen)\s+)"
    r"|(?P<under>\s+(?:underscore|tiret\s+bas)\s+)"
)
_EMAIL_SPELLING_RE: Final = re.compile(rf"(?=[\s\[({{<@])(?:{_EMAIL_SYMBOLS})", re.IGNORECASE)
#: The same, and letters typed one by one ("j e a n").
_EMAIL_SPELLING_LETTERS_RE: Final = re.compile(
    rf"(?=[\s\[({{<@])(?:{_EMAIL_SYMBOLS})"
    r"|(?P<letters>(?<!\S)(?:[A-Za-z0-9]\s){2,}[A-Za-z0-9](?!\S))",
    re.IGNORECASE,
)
_SPACED_LETTERS_RE: Final = re.compile(r"(?:^| )[A-Za-z0-9] [A-Za-z0-9] [A-Za-z0-9](?: |$)")
_SYMBOLS: Final = {
    "at": "@", "atword": "@", "chez": "@", "dot": ".", "point": ".", "dash": "-", "under": "_",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Rewritten:
    """A text with spelled e-mail symbols rewritten; every character keeps its source span.

    Stored as segments: a run of characters copied as written, or one rewritten character
    (``@`` for `` arobase ``, a letter of ``j e a n``).
    """

    text: str
    #: Where each segment starts in :attr:`text`, and in the original text.
    starts: tuple[int, ...]
    sources: tuple[int, ...]
    #: Where each segment ends in the original text.
    source_ends: tuple[int, ...]
    #: How each segment was written: ``""`` (as is), or the spelling's name (``at``, ``dot``...).
    kinds: tuple[str, ...]

    def _segment(self, index: int) -> int:
        return bisect.bisect_right(self.starts, index) - 1

    def origin(self, index: int) -> str:
        """How the character at ``index`` was written (``""``: as is)."""
        return self.kinds[self._segment(index)]

    def origins(self, start: int, end: int) -> set[str]:
        """How the characters of ``self.text[start:end]`` were written."""
        return set(self.kinds[self._segment(start) : self._segment(end - 1) + 1])

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The span in the original text of ``self.text[start:end]``."""
        first, last = self._segment(start), self._segment(end - 1)
        begin = self.sources[first]
        if not self.kinds[first]:
            begin += start - self.starts[first]
        finish = self.source_ends[last]
        if not self.kinds[last]:
            finish = self.sources[last] + end - self.starts[last]
        return begin, finish


def rewrite_email_spelling(text: str) -> Rewritten:
    """``text`` with ``arobase``, ``(at)``, ``dot``, ``j e a n``... written as in an address."""
    out: list[str] = []
    starts: list[int] = []
    sources: list[int] = []
    source_ends: list[int] = []
    kinds: list[str] = []
    length = 0

    def segment(value: str, source: int, source_end: int, kind: str) -> None:
        nonlocal length
        out.append(value)
        starts.append(length)
        sources.append(source)
        source_ends.append(source_end)
        kinds.append(kind)
        length += len(value)

    position = 0
    spelling = _EMAIL_SPELLING_LETTERS_RE if _SPACED_LETTERS_RE.search(text) else _EMAIL_SPELLING_RE
    for match in spelling.finditer(text):
        if match.start() > position:
            segment(text[position : match.start()], position, match.start(), "")
        kind = match.lastgroup or ""
        if kind == "letters":
            for index in range(match.start(), match.end()):
                if not text[index].isspace():
                    segment(text[index], index, index + 1, kind)
        else:
            segment(_SYMBOLS[kind], match.start(), match.end(), kind)
        position = match.end()
    if position < len(text):
        segment(text[position:], position, len(text), "")
    return Rewritten("".join(out), tuple(starts), tuple(sources), tuple(source_ends), tuple(kinds))
