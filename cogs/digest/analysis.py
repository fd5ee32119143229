"""What a round says: themes shared across professions, what sets each apart, pure functions.

Answers are split into sentences (claims); each sentence is embedded with a multilingual
sentence encoder shipped inside its wheel, so French and English sentences about the same
thing land in the same theme. Embedding sentences costs about as much as embedding whole
answers (the encoder's cost follows the number of tokens) and lets one answer speak to
several themes. Sentences are grouped by average-linkage clustering on cosine distance
(deterministic; on large rounds a fixed sample is clustered and the rest joins the nearest
theme), themes are named with a phrase of their own sentences in the digest's language (see
labelling.py) and quoted with their most central sentence.

Shares count *authors*, not sentences: "7 of 17 architects" means seven architects out of
the seventeen who answered raised it. Shared themes are ranked Polis-style by a group-aware
score (the geometric mean over professions of each profession's smoothed share, which ranks
like their product); a theme is distinctive to a profession that raises it far more than
the others, and only when at least :data:`MIN_GROUP` of its authors back it.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from cogs.digest.clustering import cluster
from cogs.digest.clustering import embed_answers as embed_answers  # re-exported for cli.py
from cogs.digest.labelling import fallback_label, keywords, phrase_labels
from cogs.digest.language import cue_kinds, guess_lang, question_kind, sentences
from cogs.digest.model import DIMS, Vectors
from cogs.digest.model import AnswerIn as AnswerIn  # also an.AnswerIn in cli.py

#: The smallest group shown in a way that could single someone out.
MIN_GROUP: Final = 3
QUOTE_CHARS: Final = 280
#: Reactions that do not mean approval.
NEGATIVE_EMOJI: Final = frozenset({"👎", "😡", "😠", "❌", "🙄", "💩", "🤮", "-1", "thumbsdown"})


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
    # Keywords stay for the exports; the label is a phrase of the theme's own sentences.
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
    quotes = [_quote(r, members) for _, members in kept]
    central = [_central(r, members).tolist() for _, members in kept]
    labels = phrase_labels(
        [[(r.texts[i], r.langs[i]) for i in order] for order in central],
        locale,
        [q.text for q in quotes],
    )
    out = []
    for (label, members), words, name, quote, order in zip(
        kept, names, labels, quotes, central, strict=True
    ):
        authors_by: dict[str, set[str]] = defaultdict(set)
        for i in members:
            answer = r.answers[int(r.owner[i])]
            authors_by[answer.profession].add(answer.who)
        theme = Theme(
            label=name.text if name else fallback_label(r.texts[order[0]]),
            keywords=words,
            authors={k: len(v) for k, v in sorted(authors_by.items(), key=lambda kv: -len(kv[1]))},
            answers=len({int(r.owner[i]) for i in members}),
            sentences=len(members),
            quote=quote,
            langs=dict(Counter(r.langs[i] for i in members)),
        )
        out.append(_Cluster(label, members, theme))
    return out


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
