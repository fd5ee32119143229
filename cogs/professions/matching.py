"""Case-, accent- and typo-tolerant matching of a member's wording against the vocabulary.

Text is normalised (casefolded, accents stripped, punctuation dropped), then scored with
rapidfuzz's ``WRatio`` against every name of every profession (labels, key, aliases). Short
abbreviations (``IDE``, ``SWE``) only count as whole words, never as fuzzy fragments.

A score is then checked word by word. A name that explains none of the words saying *what* the
member does (``astronaute``) is capped at :data:`NO_OVERLAP_CAP`; one that leaves some of them
unexplained (``chef`` for "chef de projet") at :data:`PARTIAL_CAP`, below :data:`CONFIDENT`;
one that says more than the wording ("ingénieur BTP" for "ingénieur") at :data:`SUBSET_CAP`,
so that several such names tie and the member is asked. Status words ("libérale",
"freelance", "senior") and small words ("de", "the") never count against a match: "infirmière
libérale" and "développeuse web freelance" are confident matches, and the member's own wording
is kept for display.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Final

from rapidfuzz import fuzz, process

from cogs.professions import vocabulary
from cogs.professions.tags import tag_for_key
from cogs.professions.vocabulary import normalize

__all__ = ["Confidence", "Match", "Resolution", "normalize", "rank", "resolve", "suggest"]

#: At or above, with :data:`MARGIN` over the next profession: a confident match.
CONFIDENT: Final = 85.0
#: The best profession must beat the next one by this much to be confident.
MARGIN: Final = 5.0
#: At or above (and not confident): offer suggestions rather than guess.
SUGGEST: Final = 60.0
#: A name that explains only some of the words that matter.
PARTIAL_CAP: Final = 80.0
#: A name that explains none of them.
NO_OVERLAP_CAP: Final = 50.0
#: A name with meaningful words the wording does not have.
SUBSET_CAP: Final = 90.0
#: How close two words must be (``fuzz.ratio``) for one to explain the other.
WORD_MATCH: Final = 82.0
#: Autocomplete keeps fuzzy (non-prefix) names scoring at least this.
SUGGEST_FUZZY: Final = 80.0
#: Names this short (abbreviations) only match a whole word of the wording.
ABBREVIATION_MAX: Final = 3

#: Words that carry no meaning for matching.
STOPWORDS: Final = frozenset(
    "a an and at au aux d de des du en et for in je l la le les mon ma my of on ou "  # noqa: SIM905
    "pour sur the un une i am im suis dans chez".split()
)
#: Words about status or seniority, not about the profession itself.
QUALIFIERS: Final = frozenset(
    "liberal liberale liberaux independant independante independent freelance freelancer "  # noqa: SIM905
    "free lance self employed salarie salariee employee junior senior confirme confirmee "
    "stagiaire intern trainee apprenti apprentie alternant alternante interim interimaire "
    "retraite retraitee retired diplome diplomee etat certifie certifiee certified qualified "
    "remplacant remplacante vacataire contractuel contractuelle titulaire benevole volunteer "
    "hospitalier hospitaliere territorial territoriale public publique prive privee private "
    "auto micro temps partiel plein part time full".split()
)


class Confidence(enum.Enum):
    """How sure a match is."""

    CONFIDENT = "confident"
    UNSURE = "unsure"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Match:
    """A profession a wording may mean, with its score (0-100) and the name that matched."""

    key: str
    score: float
    name: str


@dataclass(frozen=True, slots=True)
class Resolution:
    """What a wording resolves to: the ranked professions and how sure the best one is."""

    wording: str
    confidence: Confidence
    #: Best first, one per profession.
    matches: tuple[Match, ...]

    @property
    def best(self) -> Match | None:
        """The best match, if any."""
        return self.matches[0] if self.matches else None


@dataclass(frozen=True, slots=True)
class _Index:
    names: tuple[str, ...]
    keys: tuple[str, ...]
    abbreviations: dict[str, str]


@cache
def _index() -> _Index:
    names: list[str] = []
    keys: list[str] = []
    abbreviations: dict[str, str] = {}
    for profession in vocabulary.professions().values():
        seen: set[str] = set()
        for name in profession.names:
            normal = normalize(name)
            if not normal or normal in seen:
                continue
            seen.add(normal)
            if len(normal) <= ABBREVIATION_MAX and " " not in normal:
                abbreviations[normal] = profession.key
            else:
                names.append(normal)
                keys.append(profession.key)
    return _Index(tuple(names), tuple(keys), abbreviations)


def names_of(key: str) -> frozenset[str]:
    """Every normalised name of a bundled profession (empty for an unknown key)."""
    profession = vocabulary.get(key)
    if profession is None:
        return frozenset()
    return frozenset(n for n in (normalize(name) for name in profession.names) if n)


def _meaningful(tokens: Sequence[str]) -> list[str]:
    words = [t for t in tokens if t not in STOPWORDS]
    return [t for t in words if t not in QUALIFIERS] or words or list(tokens)


def _explains(word: str, others: Sequence[str]) -> bool:
    """One of ``others`` is ``word`` give or take a typo (short words must be equal)."""
    if len(word) <= ABBREVIATION_MAX:
        return word in others
    return any(fuzz.ratio(word, other) >= WORD_MATCH for other in others)


def _adjust(score: float, words: Sequence[str], name: str) -> float:
    """Cap ``score`` by how well ``name`` and the meaningful ``words`` of the wording agree."""
    name_words = _meaningful(name.split())
    # Written together or apart ("aidesoignante", "aide soignante"): the same words.
    joined_name = [*name_words, "".join(name_words)]
    explained = sum(1 for word in words if _explains(word, joined_name))
    if explained == 0:
        return min(score, NO_OVERLAP_CAP)
    if explained < len(words):
        return min(score, PARTIAL_CAP)
    joined_words = [*words, "".join(words)]
    if not all(_explains(other, joined_words) for other in name_words):
        return min(score, SUBSET_CAP)
    return score


def rank(text: str, extra: Iterable[tuple[str, str]] = (), *, limit: int = 10) -> list[Match]:
    """The professions ``text`` may name, best first, one match per profession.

    ``extra`` adds ``(key, name)`` pairs to the vocabulary (a circle's custom professions and
    the wordings its hosts merged).
    """
    query = normalize(text)
    if not query:
        return []
    tokens = query.split()
    words = _meaningful(tokens)
    index = _index()
    best: dict[str, tuple[float, float, str]] = {}

    def consider(key: str, name: str, raw: float) -> None:
        scored = (round(_adjust(raw, words, name), 1), raw, name)
        if key not in best or scored[:2] > best[key][:2]:
            best[key] = scored

    if len(query) > ABBREVIATION_MAX:  # an abbreviation is matched exactly, never fuzzily
        for name, raw, position in process.extract(
            query, index.names, scorer=fuzz.WRatio, processor=None, limit=80, score_cutoff=30
        ):
            consider(index.keys[position], name, raw)
    for key, text_name in extra:
        name = normalize(text_name)
        if name == query:
            consider(key, name, 100.0)
        elif name and len(query) > ABBREVIATION_MAX:
            consider(key, name, fuzz.WRatio(query, name))
    for token in tokens:
        if token in index.abbreviations:
            consider(index.abbreviations[token], token, 100.0 if token == query else 95.0)
    ranked = sorted(best.items(), key=lambda item: (-item[1][0], -item[1][1], item[0]))
    return [Match(key, score, name) for key, (score, _raw, name) in ranked[:limit]]


def resolve(text: str, extra: Iterable[tuple[str, str]] = ()) -> Resolution:
    """Rank ``text`` and say whether the best profession is a confident match."""
    matches = rank(text, extra)
    if not matches or matches[0].score < SUGGEST:
        return Resolution(text, Confidence.UNKNOWN, tuple(matches))
    runner_up = matches[1].score if len(matches) > 1 else 0.0
    if matches[0].score >= CONFIDENT and matches[0].score - runner_up >= MARGIN:
        return Resolution(text, Confidence.CONFIDENT, tuple(matches))
    return Resolution(text, Confidence.UNSURE, tuple(matches))


def suggest(
    partial: str,
    locale: str | None,
    limit: int = 25,
    extra: Iterable[tuple[str, str]] = (),
) -> list[tuple[str, str]]:
    """``(key, label)`` pairs for autocomplete as a member types, labels in ``locale``.

    Names that start with what was typed come first, then fuzzy matches; nothing typed lists
    the vocabulary alphabetically.
    """
    extra = list(extra)
    query = normalize(partial)
    if not query:
        keys = {key for key, _name in extra} | set(vocabulary.professions())
        labels = sorted((tag_for_key(key).label(locale), key) for key in keys)
        return [(key, label) for label, key in labels[:limit]]
    index = _index()
    scores: dict[str, float] = {}
    pairs = list(zip(index.keys, index.names, strict=True))
    pairs += [(key, abbr) for abbr, key in index.abbreviations.items() if abbr == query]
    pairs += [(key, normalize(name)) for key, name in extra]
    for key, name in pairs:
        if name.startswith(query) or f" {query}" in f" {name}":
            score = 200.0 - len(name) / 10  # a prefix: shorter names first
        elif len(query) > ABBREVIATION_MAX:
            score = fuzz.WRatio(query, name)
        else:
            continue
        if score >= SUGGEST_FUZZY and score > scores.get(key, 0.0):
            scores[key] = score
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [(key, tag_for_key(key).label(locale)) for key, _score in ranked]
