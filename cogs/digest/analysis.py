"""What a round says: themes shared across professions, what sets each apart, pure functions.

Answers are split into sentences (claims); each sentence is embedded with a multilingual
sentence encoder shipped inside its wheel, so French and English sentences about the same
thing land in the same theme. Embedding sentences costs about as much as embedding whole
answers (the encoder's cost follows the number of tokens) and lets one answer speak to
several themes. Sentences are grouped by average-linkage clustering on cosine distance
(deterministic; see clustering.py: from a few hundred sentences on, on their vectors and the
words they share, cut relative to the round's own distances, then fragments join the theme
they belong to; on large rounds a fixed sample is clustered and the rest joins the nearest
theme), themes are named with a phrase of their own sentences in the digest's language (see
labelling.py) and quoted with their most central sentence, in the circle's language when the
theme has one in it.

Shares count *authors*, not sentences: "7 of 17 architects" means seven architects out of
the seventeen who answered raised it. Shared themes (heard by at least three professions)
come most heard first (authors, then answers); each keeps a group-aware score, Polis-style
(the geometric mean over professions of each profession's smoothed share), for the exports.
A theme is distinctive to a profession whose share of authors is far above every other
profession's and above the rest of the round's, backed by at least :data:`MIN_GROUP` of its
authors, and quoted by one of them; a profession shows its most distinctive theme only.
Professions with fewer authors than the circle's ``min_profession_size`` are never named:
their quotes and counts go under "other professions" (:data:`OTHER`). "Not given" is never
counted as a profession.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final

import numpy as np
import numpy.typing as npt

from cogs.digest.chatter import is_chatter
from cogs.digest.clauses import clause
from cogs.digest.clustering import cluster, terms
from cogs.digest.clustering import embed_answers as embed_answers  # re-exported for cli.py
from cogs.digest.labelling import fallback_label, keywords, phrase_labels
from cogs.digest.language import cue_kinds, guess_lang, question_kind, sentence_lang, sentences
from cogs.digest.model import DIMS, Vectors
from cogs.digest.model import AnswerIn as AnswerIn  # also an.AnswerIn in cli.py
from cogs.digest.result import OTHER as OTHER
from cogs.digest.result import SHOWN_DISTINCTIVE as SHOWN_DISTINCTIVE
from cogs.digest.result import SHOWN_SHARED as SHOWN_SHARED
from cogs.digest.result import UNNAMED, real
from cogs.digest.result import Agreement as Agreement
from cogs.digest.result import Digest as Digest
from cogs.digest.result import Distinctive as Distinctive
from cogs.digest.result import Extras as Extras
from cogs.digest.result import FollowUp as FollowUp
from cogs.digest.result import Merged as Merged
from cogs.digest.result import Participation as Participation
from cogs.digest.result import Quote as Quote
from cogs.digest.result import SubQuestion as SubQuestion
from cogs.digest.result import Theme as Theme
from cogs.digest.result import from_dict as from_dict

#: The smallest group shown in a way that could single someone out (the default guard) and
#: the fewest authors of a profession behind its distinctive theme.
MIN_GROUP: Final = 3
#: A round needs this many answers per member of the guard's size before themes appear: a
#: theme of three in a round of five says more about five people than about a circle.
THEME_ANSWERS_PER_GROUP: Final = 2
#: A distinctive theme's share among its profession is at least this many times any other
#: named profession's (whose share is shrunk: one of three is not a third).
RIVAL_RATIO: Final = 2.0
QUOTE_CHARS: Final = 280
#: Reactions that do not mean approval.
NEGATIVE_EMOJI: Final = frozenset({"👎", "😡", "😠", "❌", "🙄", "💩", "🤮", "-1", "thumbsdown"})


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
    #: Each sentence's own language (a French answer's English sentence is English).
    spoken: list[str]
    #: Each answer's language (given, else guessed once), by index in ``answers``.
    answer_langs: list[str]
    locale: str = "fr"
    min_group: int = MIN_GROUP

    def total(self, profession: str) -> int:
        return len(self.authors_by_profession.get(profession, ()))

    def safe(self, profession: str) -> bool:
        """A profession with enough authors this round to be named next to content."""
        return real(profession) and self.total(profession) >= self.min_group

    def shown(self, profession: str) -> str:
        """How a profession is shown: itself, "other professions", or "not given" (``""``)."""
        if not profession:
            return ""
        return profession if self.safe(profession) else OTHER

    def public(self, counts: Mapping[str, int]) -> dict[str, int]:
        """Counts by profession as shown: small ones merged, most first, others then unstated."""
        merged: Counter[str] = Counter()
        for key, n in counts.items():
            merged[self.shown(key)] += n
        return dict(
            sorted(merged.items(), key=lambda kv: (kv[0] in UNNAMED, not kv[0], -kv[1], kv[0]))
        )

    def author(self, sentence: int) -> AnswerIn:
        return self.answers[int(self.owner[sentence])]


def analyse(
    prompt: str,
    answers: Sequence[AnswerIn],
    vectors: Mapping[str, Vectors],
    *,
    sub_questions: Sequence[str] = (),
    expected: Sequence[str] = (),
    extras: Extras | None = None,
    locale: str = "fr",
    min_group: int = MIN_GROUP,
) -> Digest:
    """The digest of a round's public answers, given each answer's sentence vectors.

    ``min_group`` is the guard: professions with fewer authors are shown as other professions.
    """
    extras = extras or Extras()
    answers = [a for a in answers if a.text.strip() and a.id in vectors]
    answer_langs = [a.lang or guess_lang(a.text) for a in answers]
    texts: list[str] = []
    owner: list[int] = []
    langs: list[str] = []
    blocks: list[Vectors] = []
    for index, answer in enumerate(answers):
        said = claims(answer.text, vectors[answer.id])
        if said is None:
            continue
        parts, block = said
        lang = answer_langs[index]
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
        labels=cluster(matrix, texts),
        authors_by_profession=dict(authors_by_profession),
        spoken=[sentence_lang(text, lang) for text, lang in zip(texts, langs, strict=True)],
        answer_langs=answer_langs,
        locale=locale,
        min_group=min_group,
    )
    participation = _participation(r, extras)
    needed = THEME_ANSWERS_PER_GROUP * min_group
    themes = _themes(r, locale) if len(answers) >= needed else []
    shared, distinctive, placed = _rank(r, themes)
    subs, lack = _sub_questions(r, themes, sub_questions, placed)
    agreement = _agreement(r)
    not_heard = tuple(
        k for k in dict.fromkeys(expected) if k and k not in authors_by_profession and k != OTHER
    )
    follow = _follow_up(shared, distinctive, lack, not_heard)
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
        themes_from=needed if answers and len(answers) < needed else 0,
    )


def claims(text: str, block: Vectors) -> tuple[list[str], Vectors] | None:
    """The sentences of an answer's ``text`` that the themes are made of, and their rows of
    ``block`` (the vectors of all its sentences): thread small talk left out
    (:func:`cogs.digest.chatter.is_chatter`). None when ``block`` is stale (another count of
    sentences: should not happen, and never crashes a digest)."""
    parts = sentences(text)
    if len(parts) != len(block):
        return None
    keep = [i for i, part in enumerate(parts) if not is_chatter(part)]
    return [parts[i] for i in keep], block[keep]


def _participation(r: _Round, extras: Extras) -> Participation:
    answers = r.answers
    langs = Counter(r.answer_langs)
    members = max(extras.members, len({a.who for a in answers}))
    return Participation(
        answers=len(answers),
        comments=extras.comments,
        reactions=extras.reactions,
        members=members,
        by_profession=r.public(Counter(a.profession for a in answers)),
        authors_by_profession=r.public({k: len(v) for k, v in r.authors_by_profession.items()}),
        by_language=dict(sorted(langs.items(), key=lambda kv: (-kv[1], kv[0]))),
        comments_by_profession=r.public(extras.comments_by_profession),
        heard=sum(1 for key in r.authors_by_profession if real(key)),
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
        said = quote if name is None else _quote(r, members, label=name.text)
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
            quote=said,
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


def _quote(
    r: _Round,
    members: npt.NDArray[np.int64],
    *,
    profession: str | None = None,
    kind: str = "",
    label: str = "",
) -> Quote:
    """The most central sentence, in the circle's language when the theme has one in it,
    preferring one a profession can safely be credited with, then one that says the theme's
    ``label`` (a reader looks for the title's words in the quote under it).

    ``profession``: by that profession only (it has sentences among ``members``). ``kind``:
    the clause that says so (``missing``, ``disappointed``), not the whole sentence.
    """
    ordered = [int(i) for i in _central(r, members)]
    if profession is not None:
        ordered = [i for i in ordered if r.author(i).profession == profession] or ordered
    local = [i for i in ordered if r.spoken[i] == r.locale]
    candidates = (local or ordered)[:12]
    good = [i for i in candidates if 25 <= len(r.texts[i]) <= QUOTE_CHARS * 2]
    safe = [i for i in good or candidates if r.safe(r.author(i).profession)]
    preferred = safe or good or candidates

    def said(i: int) -> str:
        return clause(r.texts[i], kind) if kind else r.texts[i]

    words = terms(label)
    chosen = next((i for i in preferred if words <= terms(said(i))), preferred[0])
    answer = r.author(chosen)
    credited = r.shown(answer.profession)
    text = said(chosen)
    return Quote(
        text=trim(text),
        lang=r.spoken[chosen],
        profession=credited,
        name=answer.name if real(credited) else "",
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


def _public(r: _Round, theme: Theme, quote: Quote, *, score: float | None = None) -> Theme:
    """A theme as shown: small professions under "other professions", its quote, its score."""
    return Theme(
        label=theme.label,
        keywords=theme.keywords,
        authors=r.public(theme.authors),
        answers=theme.answers,
        sentences=theme.sentences,
        quote=quote,
        score=theme.score if score is None else score,
        langs=theme.langs,
        professions=sum(1 for key in theme.authors if real(key)),
    )


def _lead(r: _Round, theme: Theme, profession: str, everyone: int) -> Distinctive | None:
    """``theme`` as distinctive to ``profession``, if that profession clearly leads it."""
    count = theme.authors.get(profession, 0)
    total = r.total(profession)
    if not r.safe(profession) or count < MIN_GROUP or total == everyone:
        return None
    d = Distinctive(profession, theme, count, total, theme.author_count - count, everyone - total)
    rival = max(
        (n / (r.total(p) + 2) for p, n in theme.authors.items() if p != profession and r.safe(p)),
        default=0.0,
    )
    if (
        d.share >= 0.25
        and d.share >= 3 * d.share_elsewhere + 0.1
        and d.share >= RIVAL_RATIO * rival
    ):
        return d
    return None


def _reach(tc: tuple[Theme, int]) -> tuple[int, int, str]:
    return (-tc[0].author_count, -tc[0].answers, tc[0].label)


def _rank(
    r: _Round, clusters: list[_Cluster]
) -> tuple[list[Theme], list[Distinctive], dict[int, tuple[str, int]]]:
    """Shared themes, most heard first; distinctive ones, at most one a profession; and where
    the digest shows each cluster (section, place)."""
    professions = sorted(p for p in r.authors_by_profession if real(p))
    everyone = sum(r.total(p) for p in r.authors_by_profession)
    shared: list[tuple[Theme, int]] = []
    best: dict[str, tuple[float, Distinctive, _Cluster]] = {}
    needed = min(3, len(professions))
    for c in clusters:
        theme = c.theme
        if theme.author_count < MIN_GROUP:
            continue
        leads = [d for p in theme.authors if (d := _lead(r, theme, p, everyone)) is not None]
        if leads:
            d = max(leads, key=lambda x: (x.share - x.share_elsewhere, x.profession))
            lead = d.share - d.share_elsewhere
            if d.profession not in best or lead > best[d.profession][0]:
                best[d.profession] = (lead, d, c)
            continue  # distinctive to one profession: not shared, even when not shown
        heard_by = sum(1 for p in professions if theme.authors.get(p, 0) > 0)
        if heard_by < needed:
            continue
        score = math.exp(
            sum(math.log((theme.authors.get(p, 0) + 1) / (r.total(p) + 2)) for p in professions)
            / max(len(professions), 1)
        )
        shared.append((_public(r, theme, theme.quote, score=score), c.label_id))
    shared.sort(key=_reach)  # as members read counts: "18 members" above "12"
    distinctive = [
        (
            Distinctive(
                d.profession,
                _public(
                    r,
                    d.theme,
                    _quote(r, c.members, profession=d.profession, label=d.theme.label),
                ),
                d.authors,
                d.total,
                d.elsewhere,
                d.elsewhere_total,
            ),
            c.label_id,
        )
        for _, d, c in best.values()
    ]
    distinctive.sort(
        key=lambda dc: (-(dc[0].share - dc[0].share_elsewhere), -dc[0].authors, dc[0].profession)
    )
    placed = {c: ("shared", i) for i, (_, c) in enumerate(shared[:SHOWN_SHARED])}
    placed |= {c: ("distinctive", i) for i, (_, c) in enumerate(distinctive[:SHOWN_DISTINCTIVE])}
    return [t for t, _ in shared], [d for d, _ in distinctive], placed


def _sub_questions(
    r: _Round,
    clusters: list[_Cluster],
    questions: Sequence[str],
    placed: Mapping[int, tuple[str, int]],
) -> tuple[list[SubQuestion], str]:
    """For "what is missing?"/"what disappointed you?": the themes of the sentences that say so,
    quoted by the clause that says so. A theme the digest shows already (shared, distinctive)
    is not repeated: it is :class:`Merged`, and its entry says it. Also returns the most cited
    lack's label (for the follow-up question)."""
    out: list[SubQuestion] = []
    lack = ""
    kinds = [(q, k) for q in questions if (k := question_kind(q)) != "other"]
    # Cue words are read only when a sub-question asks what is missing or disappointing.
    cues = [cue_kinds(text) for text in r.texts] if kinds else []
    for question, kind in kinds:
        found: list[tuple[int, Theme, int, npt.NDArray[np.int64]]] = []
        for c in clusters:
            hits = np.asarray([i for i in c.members.tolist() if kind in cues[i]], dtype=np.int64)
            by: dict[str, set[str]] = defaultdict(set)
            for i in hits.tolist():
                by[r.author(i).profession].add(r.author(i).who)
            authors = sum(len(v) for v in by.values())
            if authors < 2:
                continue
            theme = Theme(
                label=c.theme.label,
                keywords=c.theme.keywords,
                authors={k: len(v) for k, v in by.items()},
                answers=len({int(r.owner[i]) for i in hits.tolist()}),
                sentences=len(hits),
                quote=_quote(r, hits, kind=kind, label=c.theme.label),
                langs=dict(Counter(r.langs[i] for i in hits.tolist())),
            )
            found.append((authors, _public(r, theme, theme.quote), c.label_id, hits))
        found.sort(key=lambda kv: (-kv[0], kv[1].label, kv[2]))
        found = _own_words(r, found[:3], kind, placed)
        if kind == "missing" and found and not lack:
            lack = found[0][1].label
        themes: list[Theme] = []
        merged: list[Merged] = []
        for rank, (authors, theme, label_id, _) in enumerate(found):
            if label_id in placed:
                section, index = placed[label_id]
                merged.append(Merged(section, index, rank, authors))
            else:
                themes.append(theme)
        out.append(SubQuestion(question, kind, tuple(themes), tuple(merged)))
    return out, lack


def _own_words(
    r: _Round,
    found: list[tuple[int, Theme, int, npt.NDArray[np.int64]]],
    kind: str,
    placed: Mapping[int, tuple[str, int]],
) -> list[tuple[int, Theme, int, npt.NDArray[np.int64]]]:
    """Sub-question themes not shown above whose quote does not say their theme's title,
    named by what their members say is missing (or disappointing) instead, and quoted again:
    "Groupes Facebook" is no title for "j'aimerais échanger avec les agriculteurs du coin"."""
    todo = [
        n
        for n, (_, theme, label_id, _) in enumerate(found)
        if label_id not in placed and not terms(theme.label) <= terms(theme.quote.text)
    ]
    if not todo:
        return found
    groups = [
        [(clause(r.texts[i], kind), r.langs[i]) for i in _central(r, found[n][3]).tolist()]
        for n in todo
    ]
    names = phrase_labels(groups, r.locale, [found[n][1].quote.text for n in todo])
    out = list(found)
    for n, name in zip(todo, names, strict=True):
        if name is not None:
            authors, theme, label_id, hits = found[n]
            quote = _quote(r, hits, kind=kind, label=name.text)
            out[n] = (authors, replace(theme, label=name.text, quote=quote), label_id, hits)
    return out


def _agreement(r: _Round) -> list[Agreement]:
    """Answers approved by members of at least two professions, most approved first; no two
    by one profession, no two on one theme."""
    found: list[tuple[int, int, int]] = []
    for index, answer in enumerate(r.answers):
        professions = len({p for p in answer.approvals if real(p)})
        if len(answer.approvals) >= 2 and professions >= 2:
            found.append((professions, len(answer.approvals), index))
    found.sort(key=lambda f: (-f[0], -f[1], f[2]))
    out: list[Agreement] = []
    by: set[str] = set()
    themes: set[int] = set()
    for professions, approvals, index in found:
        members = np.flatnonzero(r.owner == index)
        group = r.shown(r.answers[index].profession)
        about = {int(label) for label in r.labels[members].tolist()}
        if not len(members) or group in by or about & themes:
            continue
        by.add(group)
        themes |= about
        out.append(Agreement(_quote(r, members), approvals, professions))
        if len(out) == 3:
            break
    return out


def _follow_up(
    shared: Sequence[Theme],
    distinctive: Sequence[Distinctive],
    lack: str,
    not_heard: Sequence[str],
) -> FollowUp:
    if lack:
        return FollowUp("missing", lack)
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
