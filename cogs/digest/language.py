"""Text and language rules: sentence splitting, language guess, folding, sub-question cues."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Final

from cogs.digest.model import MODEL_TAG

MAX_SENTENCES: Final = 8
MIN_WORDS: Final = 4


# ---------------------------------------------------------------- text


_SENTENCE_RE: Final = re.compile(r"(?<=[.!?…])\s+|\n+")
_WORD_RE: Final = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)


def _words(text: str) -> list[str]:
    return text.split()


_FR_HINTS: Final = frozenset(
    _words(
        "le la les des du un une et est pas pour que qui dans sur avec mais nous vous je j'ai "
        "c'est ce cette mes nos très plus aussi sont ont au aux il elle on mon ma"
    )
)
_EN_HINTS: Final = frozenset(
    _words(
        "the a an and is are not for that which in on with but we you i my our very more also "
        "have has it they this these to of was were be"
    )
)


def sentences(text: str) -> list[str]:
    """Split an answer into sentences, gluing fragments too short to stand alone."""
    parts = [p.strip(" -•*\t") for p in _SENTENCE_RE.split(text.strip())]
    out: list[str] = []
    for part in parts:
        if not part:
            continue
        if out and min(len(_WORD_RE.findall(part)), len(_WORD_RE.findall(out[-1]))) < MIN_WORDS:
            out[-1] = f"{out[-1]} {part}"
        else:
            out.append(part)
    if len(out) > MAX_SENTENCES:  # very long answers: keep the count bounded
        out = [*out[: MAX_SENTENCES - 1], " ".join(out[MAX_SENTENCES - 1 :])]
    return out


def guess_lang(text: str) -> str:
    """``fr`` or ``en`` by the commonest function words (ties: ``fr``)."""
    words = [w.lower().replace("’", "'") for w in _WORD_RE.findall(text)]
    fr = sum(w in _FR_HINTS for w in words)
    en = sum(w in _EN_HINTS for w in words)
    return "en" if en > fr else "fr"


def sentence_lang(text: str, tag: str) -> str:
    """A sentence's language: its answer's (``tag``), unless its own words clearly say otherwise.

    A French answer's English sentence ("As they say, you have to pay to be seen") is English:
    two more function words of the other language than of the tagged one, at least.
    """
    if tag not in ("fr", "en"):
        return tag
    words = [w.lower().replace("’", "'") for w in _WORD_RE.findall(text)]
    fr = sum(w in _FR_HINTS for w in words)
    en = sum(w in _EN_HINTS for w in words)
    if tag == "fr" and en >= fr + 2:
        return "en"
    if tag == "en" and fr >= en + 2:
        return "fr"
    return tag


def fold(text: str) -> str:
    """Lowercase without accents (for cue matching)."""
    decomposed = unicodedata.normalize("NFKD", text.lower().replace("’", "'"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def text_hash(text: str) -> str:
    """What cached vectors of an answer are valid for (its text and the model)."""
    return hashlib.sha1(f"{MODEL_TAG}\n{text}".encode()).hexdigest()[:20]


# ---------------------------------------------------------------- sub-questions

_CUES: Final[dict[str, tuple[str, ...]]] = {
    "missing": (
        "manque",
        "manquer",
        "il faudrait",
        "faudrait",
        "j'aimerais",
        "aimerais",
        "aimerait",
        "je voudrais",
        "voudrais",
        "besoin",
        "souhaite",
        "missing",
        "i miss",
        "we miss",
        "lack",
        "i wish",
        "we wish",
        "would like",
        "would love",
        "we need",
        "i need",
        "there is no",
        "there's no",
        "nothing to",
        "il n'y a pas",
        "il n'existe pas",
        "n'existe",
    ),
    "disappointed": (
        "decu",
        "decue",
        "decevant",
        "deception",
        "disappoint",
        "frustr",
        "regret",
        "let down",
        "letdown",
        "dommage",
        "lasse",
        "fed up",
        "tired of",
        "j'ai quitte",
        "gave up",
        "quit ",
        "abandonne",
        "epuis",
        "exhaust",
    ),
}
_KIND_OF_QUESTION: Final[dict[str, tuple[str, ...]]] = {
    "missing": ("manque", "missing", "lack", "besoin", "need", "miss"),
    "disappointed": ("decu", "decev", "disappoint", "regret", "frustr"),
}


def question_kind(question: str) -> str:
    """``missing``, ``disappointed`` or ``other`` for a sub-question's wording."""
    folded = fold(question)
    for kind, cues in _KIND_OF_QUESTION.items():
        if any(cue in folded for cue in cues):
            return kind
    return "other"


def cue_kinds(sentence: str) -> set[str]:
    """The sub-question kinds a sentence answers, by its wording."""
    folded = " " + fold(sentence) + " "
    return {kind for kind, cues in _CUES.items() if any(cue in folded for cue in cues)}
