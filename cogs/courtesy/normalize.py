"""Undo the disguises people put on words, remembering where every character came from.

Two layers of text, each mapped back to the original character offsets:

* :func:`light` — NFKC (full-width letters, ligatures, mathematical alphabets) with invisible
  characters removed. Personal details (phone numbers, e-mails) are searched in this text.
* :func:`fold` — on top of it: lower case, homoglyphs folded to Latin letters (the Unicode
  confusables table shipped by ``confusable-homoglyphs``), accents stripped.

:func:`tokenize` then cuts the folded text into words and undoes word-level disguises:
leetspeak (``c0nnard``, ``a$$hole``, ``sh!t``), masks (``f*ck``), stretched letters
(``fuuuuck``), letters spaced or dotted out (``c o n n a r d``, ``a.s.s.h.o.l.e``);
:func:`merge_glued` joins words cut by separators (``fu-ck``). Every token keeps the span of
the original text it covers, so a redaction masks exactly what was written.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final

#: Characters that render as nothing (or as a blank) and are used to split words invisibly.
_INVISIBLE: Final = frozenset(
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069"
    "\u206a\u206b\u206c\u206d\u206e\u206f\u3164\ufeff\uffa0\u2800"
)
#: Letters that NFD does not decompose.
_SPECIAL_FOLDS: Final = {
    "œ": "oe",
    "æ": "ae",
    "ß": "ss",
    "ø": "o",
    "đ": "d",
    "ł": "l",
    "ı": "i",
    "ħ": "h",
    "þ": "th",
    "ð": "d",
    "ŀ": "l",
}
#: Lower-case Cyrillic and Greek letters that pass for Latin ones in running text, though the
#: Unicode table only pairs their capitals (``т`` looks like a small ``T``).
_MORE_HOMOGLYPHS: Final = {
    "т": "t",
    "к": "k",
    "м": "m",
    "н": "h",
    "в": "b",
    "п": "n",
    "г": "r",
    "ш": "w",
    "κ": "k",
    "τ": "t",
    "η": "n",
    "ω": "w",
    "υ": "u",
    "ε": "e",
}
#: What leetspeak symbols stand for (the usual reading).
LEET: Final[dict[str, str]] = {
    "0": "o",
    "1": "i",
    "3": "e",
    "4": "a",
    "5": "s",
    "7": "t",
    "9": "g",
    "@": "a",
    "$": "s",
    "€": "e",
    "!": "i",
    "|": "l",
    "+": "t",
}
#: Leetspeak symbols that read either as ``i`` or as ``l``: their second reading.
_SECOND_READING: Final = {"1": "l", "!": "l", "|": "i"}
#: Characters that stand for one hidden letter inside a word.
MASKS: Final = frozenset("*#")
_TOKEN_RE: Final = re.compile(r"(?:[^\W_]|[@$€!|*#+])+")
#: Symbols that cannot start or end a word (``*very*``, ``idiot!``, ``#tag``).
_EDGE_STRIP: Final = "!|*#+"
#: What may separate spaced-out letters: ``c o n``, ``a.s.s``, ``f-u-c-k``, ``s_h_i_t``.
_SPACING_RE: Final = re.compile(r"[\s.\-_·•/~*]+")
#: What may glue the pieces of a word cut in two: ``fu-ck``, ``con.nard``.
_GLUE_RE: Final = re.compile(r"[.\-_·•~]")
#: Punctuation that ends a clause: an insult cue does not reach across it.
_BREAK_RE: Final = re.compile(r"[.,;:!?()\[\]{}\"«»…“”¿¡]")
_STRETCH_RE: Final = re.compile(r"([a-z])\1\1")
_ANY_STRETCH_RE: Final = re.compile(r"(\w)\1\1")
_ANY_GLUE_RE: Final = re.compile(r"\w[.\-_·•~]\w")


@cache
def _homoglyphs() -> dict[str, str]:
    """Non-ASCII characters that look like one ASCII letter or digit, from the Unicode table."""
    # The table of confusable-homoglyphs (Unicode's confusables.txt as JSON), read directly.
    source = resources.files("confusable_homoglyphs").joinpath("confusables.json")
    confusables: dict[str, list[dict[str, str]]] = json.loads(source.read_text("utf-8"))
    table: dict[str, str] = {}
    for char, lookalikes in confusables.items():
        if len(char) != 1 or char.isascii():
            continue
        targets = [
            entry["c"]
            for entry in lookalikes
            if len(entry["c"]) == 1 and entry["c"].isascii() and entry["c"].isalnum()
        ]
        letters = [t for t in targets if t.isalpha()] or targets
        if letters:
            table[char] = letters[0].lower()
    for char, latin in _MORE_HOMOGLYPHS.items():
        table.setdefault(char, latin)
    return table


def _light_char(char: str) -> str:
    if char in _INVISIBLE or unicodedata.category(char) == "Cf":
        return ""
    return "".join(c for c in unicodedata.normalize("NFKC", char) if c not in _INVISIBLE)


def _fold_char(char: str) -> str:
    homoglyphs = _homoglyphs()
    out: list[str] = []
    for c in char.lower():
        c = homoglyphs.get(c, c)
        if c in _SPECIAL_FOLDS:
            out.append(_SPECIAL_FOLDS[c])
            continue
        out.extend(d for d in unicodedata.normalize("NFD", c) if not unicodedata.combining(d))
    return "".join(out).lower()


@dataclass(frozen=True, slots=True)
class Mapped:
    """A transformed text and, for each of its characters, the original span it came from."""

    text: str
    #: ``None`` when every character stayed in place (each maps to itself).
    starts: tuple[int, ...] | None = None
    ends: tuple[int, ...] | None = None

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of ``text[start:end]`` (``end > start``)."""
        if self.starts is None or self.ends is None:
            return start, end
        return self.starts[start], self.ends[end - 1]


class _CharTable(dict[int, str]):
    """A ``str.translate`` table filled on demand, remembering characters that change length.

    Most characters map to exactly one character (``é`` → ``e``); then the offsets of the
    input still hold and the fast path needs no per-character bookkeeping.
    """

    def __init__(self, convert: Callable[[str], str]) -> None:
        super().__init__()
        self._convert = convert
        self._irregular: set[str] = set()
        self.irregular_re: re.Pattern[str] | None = None

    def __missing__(self, code: int) -> str:
        out = self._convert(chr(code))
        self[code] = out
        if len(out) != 1:
            self._irregular.add(chr(code))
            self.irregular_re = re.compile("[" + re.escape("".join(self._irregular)) + "]")
        return out

    def apply(self, text: str, base: Mapped | None) -> Mapped:
        """Translate ``text``, composing offsets with those of ``base``."""
        result = text.translate(self)
        irregular = self.irregular_re
        if irregular is None or irregular.search(text) is None:
            if base is None:
                return Mapped(result)
            return Mapped(result, base.starts, base.ends)
        return self._slow(text, base)

    def _slow(self, text: str, base: Mapped | None) -> Mapped:
        # Runs of regular characters are translated in bulk (their offsets are a range); only
        # the characters that change length are handled one by one.
        pieces: list[str] = []
        index: list[int] = []
        pos = 0
        irregular = self.irregular_re
        assert irregular is not None
        for match in irregular.finditer(text):
            if match.start() > pos:
                self._run(text, pos, match.start(), pieces, index)
            char_at = match.start()
            out = self[ord(text[char_at])]
            if out:
                pieces.append(out)
                index.extend([char_at] * len(out))
            pos = char_at + 1
        if pos < len(text):
            self._run(text, pos, len(text), pieces, index)
        if base is None or base.starts is None or base.ends is None:
            return Mapped("".join(pieces), tuple(index), tuple(i + 1 for i in index))
        starts, ends = base.starts, base.ends
        return Mapped(
            "".join(pieces), tuple(starts[i] for i in index), tuple(ends[i] for i in index)
        )

    def _run(self, text: str, start: int, end: int, pieces: list[str], index: list[int]) -> None:
        """Translate ``text[start:end]``, believed to keep its length, recording offsets."""
        segment = text[start:end]
        known = len(self._irregular)
        out = segment.translate(self)
        if len(self._irregular) == known:
            pieces.append(out)
            index.extend(range(start, end))
            return
        # A character seen for the first time changed length: go one by one here.
        for offset, char in enumerate(segment):
            mapped = self[ord(char)]
            if mapped:
                pieces.append(mapped)
                index.extend([start + offset] * len(mapped))


_LIGHT: Final = _CharTable(_light_char)
_FOLD: Final = _CharTable(_fold_char)


def light(text: str) -> Mapped:
    """NFKC with invisible characters removed; offsets map back to ``text``."""
    if text.isascii():
        return Mapped(text)
    return _LIGHT.apply(text, None)


def fold(lit: Mapped) -> Mapped:
    """Lower case, homoglyphs and accents folded; offsets map back to the original text."""
    if lit.text.isascii():
        return Mapped(lit.text.lower(), lit.starts, lit.ends)
    return _FOLD.apply(lit.text, lit)


def fold_text(text: str) -> str:
    """The folded form of ``text`` (used for word lists and comparisons)."""
    return fold(light(text)).text


def squeeze(word: str) -> str:
    """Every run of a repeated character reduced to one (``connnard`` → ``conard``)."""
    out: list[str] = []
    for char in word:
        if not out or out[-1] != char:
            out.append(char)
    return "".join(out)


def stretched(word: str) -> bool:
    """The word repeats a letter three times or more (``fuuuck``)."""
    return _STRETCH_RE.search(word) is not None


def deleet(word: str) -> tuple[str, ...]:
    """The readings of a word that may use leetspeak: ``sh1t`` → (``shit``, ``shlt``).

    A word without any letter (a number, an amount) is left as it is.
    """
    if word.isalpha() or not any(c.isalpha() for c in word):
        return (word,)
    first = "".join(LEET.get(c, c) for c in word)
    if any(c in _SECOND_READING for c in word):
        second = "".join(_SECOND_READING.get(c, LEET.get(c, c)) for c in word)
        if second != first:
            return (first, second)
    return (first,)


@dataclass(slots=True)
class Token:
    """A word of the message after folding, with the original span it covers."""

    #: The readings of the word: plain, or its leetspeak readings.
    forms: tuple[str, ...]
    #: Span in the original text.
    start: int
    end: int
    #: Span in the folded text.
    fstart: int
    fend: int
    #: Clause punctuation stands between this word and the previous one.
    brk: bool = False
    #: The word hides letters behind ``*``/``#`` (``f*ck``); its forms keep the masks.
    masked: bool = False
    #: Made by joining letters that were spaced or dotted out.
    joined: bool = False
    #: The main form with stretched letters squeezed (``fuuuuck`` → ``fuck``), if stretched.
    squeezed: str | None = None

    @property
    def text(self) -> str:
        """The main reading."""
        return self.forms[0]


def _make_token(
    word: str, span: tuple[int, int], fspan: tuple[int, int], brk: bool, stretch: bool
) -> Token:
    if word.isalpha():
        forms: tuple[str, ...] = (word,)
        masked = False
    else:
        masked = any(c in MASKS for c in word[1:-1])
        if masked:
            hidden = word.replace("*", "\x00").replace("#", "\x01")
            forms = tuple(f.replace("\x00", "*").replace("\x01", "#") for f in deleet(hidden))
        else:
            forms = deleet(word)
    squeezed = squeeze(forms[0]) if stretch and stretched(forms[0]) else None
    return Token(forms, span[0], span[1], fspan[0], fspan[1], brk, masked, False, squeezed)


def tokenize(folded: Mapped, *, skip: list[tuple[int, int]] | None = None) -> list[Token]:
    """Cut folded text into words, undoing word-level disguises.

    ``skip`` lists spans of the *original* text to leave out (e-mail addresses, links).
    """
    text = folded.text
    tokens: list[Token] = []
    gaps: list[str] = []
    previous_end = 0
    run = longest = 0
    starts, ends = folded.starts, folded.ends
    # Leetspeak digits can stretch a word too, so any repeated character is worth a look.
    stretch = _ANY_STRETCH_RE.search(text) is not None
    edge = _EDGE_STRIP
    for match in _TOKEN_RE.finditer(text):
        start, end = match.span()
        word = match.group()
        if word[0] in edge or word[-1] in edge:
            while start < end and text[start] in edge:
                start += 1
            while end > start and text[end - 1] in edge:
                end -= 1
            if start == end:
                continue
            word = text[start:end]
        if starts is None or ends is None:
            ostart, oend = start, end
        else:
            ostart, oend = starts[start], ends[end - 1]
        if skip and any(a < oend and ostart < b for a, b in skip):
            continue
        gap = text[previous_end:start]
        brk = gap != " " and gap != "" and _BREAK_RE.search(gap) is not None
        if word.isalpha() and not stretch:
            tokens.append(Token((word,), ostart, oend, start, end, brk))
        else:
            tokens.append(_make_token(word, (ostart, oend), (start, end), brk, stretch))
        gaps.append(gap)
        previous_end = end
        if end - start == 1:
            run += 1
            if run > longest:
                longest = run
        else:
            run = 0
    return _join_spaced(tokens, gaps) if longest >= 3 else tokens


def _spaced_letter(token: Token) -> bool:
    return len(token.text) == 1 and token.text.isalnum()


def _join_spaced(tokens: list[Token], gaps: list[str]) -> list[Token]:
    """Join runs of three or more single letters (``c o n n a r d``) into one word."""
    out: list[Token] = []
    index = 0
    count = len(tokens)
    while index < count:
        token = tokens[index]
        if _spaced_letter(token) and token.text.isalpha():
            end = index + 1
            while (
                end < count
                and _spaced_letter(tokens[end])
                and _SPACING_RE.fullmatch(gaps[end]) is not None
            ):
                end += 1
            if end - index >= 3:
                word = "".join(LEET.get(t.text, t.text) for t in tokens[index:end])
                last = tokens[end - 1]
                out.append(
                    Token(
                        (word,),
                        token.start,
                        last.end,
                        token.fstart,
                        last.fend,
                        token.brk,
                        joined=True,
                        squeezed=squeeze(word) if stretched(word) else None,
                    )
                )
                index = end
                continue
        out.append(token)
        index += 1
    return out


def glued(tokens: list[Token], text: str) -> list[tuple[int, int, str]]:
    """Words cut by separators without spaces (``fu-ck``): (first, last token index, joined)."""
    found: list[tuple[int, int, str]] = []
    if _ANY_GLUE_RE.search(text) is None:
        return found
    index = 0
    count = len(tokens)
    while index < count - 1:
        end = index
        while end + 1 < count:
            gap = text[tokens[end].fend : tokens[end + 1].fstart]
            if len(gap) != 1 or _GLUE_RE.fullmatch(gap) is None:
                break
            end += 1
        if end > index:
            found.append((index, end, "".join(t.text for t in tokens[index : end + 1])))
        index = end + 1
    return found


def merge_glued(tokens: list[Token], text: str, known: Callable[[str], bool]) -> list[Token]:
    """Replace the pieces of a word cut by separators (``fu-ck``) by the word, if ``known``."""
    groups = [g for g in glued(tokens, text) if known(g[2])]
    if not groups:
        return tokens
    out: list[Token] = []
    index = 0
    for first, last, word in groups:
        out.extend(tokens[index:first])
        head, tail = tokens[first], tokens[last]
        out.append(
            Token((word,), head.start, tail.end, head.fstart, tail.fend, head.brk, joined=True)
        )
        index = last + 1
    out.extend(tokens[index:])
    return out
