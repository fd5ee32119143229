"""Sentence vectors (the bundled encoder, cached per answer) and their grouping into themes."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from cogs.digest.labelling import CONTENT_STOP
from cogs.digest.language import fold, sentences, text_hash
from cogs.digest.model import DIMS, AnswerIn, Encoder, Progress, Vectors
from cogs.digest.model import default_encoder as default_encoder  # its callers import it here

# ---------------------------------------------------------------- embedding


#: Sentences encoded in one call: a fraction of a second, so a stop never waits for long.
CHUNK: Final = 128

Todo = list[tuple[str, list[str]]]


def split_cached(
    answers: Sequence[AnswerIn], cached: Mapping[str, tuple[str, Vectors]] | None
) -> tuple[dict[str, Vectors], Todo]:
    """The vectors ``cached`` (id -> (hash, vectors)) still holds for unchanged texts, and the
    sentences of every other answer, by answer id."""
    cached = cached or {}
    found: dict[str, Vectors] = {}
    todo: Todo = []
    for answer in answers:
        hit = cached.get(answer.id)
        if hit is not None and hit[0] == text_hash(answer.text):
            found[answer.id] = hit[1]
        else:
            todo.append((answer.id, sentences(answer.text)))
    return found, todo


def chunks(todo: Todo, size: int = CHUNK) -> Iterator[Todo]:
    """Whole answers, about ``size`` sentences at a time (more only for one long answer)."""
    chunk: Todo = []
    count = 0
    for answer_id, parts in todo:
        if chunk and count + len(parts) > size:
            yield chunk
            chunk, count = [], 0
        chunk.append((answer_id, parts))
        count += len(parts)
    if chunk:
        yield chunk


def encode_chunk(encode: Encoder, chunk: Todo) -> dict[str, Vectors]:
    """The sentence vectors of each answer of ``chunk``, in one call to the encoder."""
    flat = [s for _, parts in chunk for s in parts]
    vectors = encode(flat) if flat else np.zeros((0, DIMS), dtype=np.float32)
    out: dict[str, Vectors] = {}
    at = 0
    for answer_id, parts in chunk:
        out[answer_id] = vectors[at : at + len(parts)]
        at += len(parts)
    return out


def embed_answers(
    answers: Sequence[AnswerIn],
    *,
    cached: Mapping[str, tuple[str, Vectors]] | None = None,
    encoder: Encoder | None = None,
    progress: Progress | None = None,
    batch: int = CHUNK,
) -> tuple[dict[str, Vectors], dict[str, Vectors]]:
    """Sentence vectors per answer id: reused from ``cached`` (id -> (hash, vectors)) when the
    text is unchanged, else computed. Returns (all vectors, the newly computed ones)."""
    out, todo = split_cached(answers, cached)
    fresh: dict[str, Vectors] = {}
    if todo:
        encode = encoder or default_encoder()
        total = sum(len(parts) for _, parts in todo)
        done = 0
        for chunk in chunks(todo, batch):
            fresh.update(encode_chunk(encode, chunk))
            done += sum(len(parts) for _, parts in chunk)
            if progress is not None:
                progress(done, total)
        out.update(fresh)
    return out, fresh


# ---------------------------------------------------------------- clustering


#: Small rounds: cosine distance under which average linkage merges sentences into a theme.
THEME_DISTANCE: Final = 0.75
#: From this many sentences on, themes are found as :func:`cluster` says for large rounds;
#: below, by :data:`THEME_DISTANCE` alone (a few dozen sentences leave no fragments to merge).
#: Not higher: a round of 200 answers (260 sentences) cut at the fixed distance split into
#: sixty-odd fragments, each of its shared themes spread over four or five of them. Not lower:
#: the quantile reads the round's own distances, and in a round of 114 sentences where 90
#: say nearly the same thing it is the distance between those, which lost a profession's
#: distinctive theme (tests/cogs/digest/test_story.py).
LARGE_ROUND: Final = 200
#: Large rounds: where the round's own distances are cut, as a quantile of all its pairwise
#: distances (not a fixed distance: on a round about work and social networks every
#: sentence is near every other, and a cut that suits one round splits another into
#: fragments). Chosen on the French planted corpus (bench/digest_planted.py); the English
#: one is the check.
THEME_QUANTILE: Final = 0.1
#: Weight of a sentence's shared words beside its (unit) vector: the encoder sets "l'algo a
#: changé" far from "sans payer de pub on est invisible"; the words their round-mates share
#: ("algo", "payer", "visibilité") bring them back together.
WORDS_WEIGHT: Final = 0.5
#: A word counts when at least this many sentences of the round use it; at most
#: :data:`MAX_WORDS` words (the round's most used) count.
MIN_WORD_SENTENCES: Final = 2
MAX_WORDS: Final = 2000
#: ... and when at most this share of the round's sentences use it. A word that common is the
#: round's own vocabulary ("publier", "clients", "temps"): it ties "j'ai arrêté de publier
#: faute de temps" to "mes publications ne touchent plus personne". The encoder places what
#: is said often; the rarer words a theme's wordings share tie them together.
MAX_WORD_SHARE: Final = 0.02
#: A theme keeps a centroid of its own in :func:`refine` when it holds at least this share
#: of the round's sentences; a smaller one is a fragment, and its sentences join the nearest.
MIN_THEME_SHARE: Final = 0.01
#: Rounds of reassignment in :func:`refine` (it stops earlier when nothing moves).
REFINE_ROUNDS: Final = 10
#: Above this many sentences, a fixed sample is clustered and the rest assigned.
CLUSTER_SAMPLE: Final = 2500
_TERM_RE: Final = re.compile(r"[^\W\d_]{3,}")


def terms(text: str) -> set[str]:
    """A sentence's content words, folded and cut to five letters ("payer", "payé": "paye")."""
    return {
        fold(word)[:5]
        for word in _TERM_RE.findall(text.lower().replace("’", "'"))
        if word not in CONTENT_STOP
    }


@dataclass(frozen=True, slots=True)
class Words:
    """The words a round's sentences share: a column and a weight (IDF) for each."""

    column: dict[str, int]
    idf: npt.NDArray[np.float32]

    @classmethod
    def of(cls, bags: Sequence[set[str]]) -> Words:
        """The words (:func:`terms`) at least :data:`MIN_WORD_SENTENCES` and at most
        :data:`MAX_WORD_SHARE` of the sentences use, most used first."""
        df = Counter(t for bag in bags for t in bag)
        most = MAX_WORD_SHARE * len(bags)
        common = [t for t, n in df.most_common() if MIN_WORD_SENTENCES <= n <= most][:MAX_WORDS]
        idf = [math.log(len(bags) / df[t]) for t in common]
        return cls({t: i for i, t in enumerate(common)}, np.asarray(idf, dtype=np.float32))

    def features(self, vectors: Vectors, bags: Sequence[set[str]]) -> npt.NDArray[np.float32]:
        """Unit rows: each sentence's unit vector beside its shared words (unit TF-IDF)."""
        unit = _unit(vectors.astype(np.float32))
        if not self.column or WORDS_WEIGHT <= 0:
            return unit
        words = np.zeros((len(bags), len(self.column)), dtype=np.float32)
        for row, bag in enumerate(bags):
            for term in bag:
                if (at := self.column.get(term)) is not None:
                    words[row, at] = self.idf[at]
        return _unit(np.hstack([unit, WORDS_WEIGHT * _unit(words)]))


def _unit(rows: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    out: npt.NDArray[np.float32] = rows / np.maximum(
        np.linalg.norm(rows, axis=1, keepdims=True), 1e-12
    )
    return out


def _centroids(
    rows: npt.NDArray[np.float32], labels: npt.NDArray[np.int64]
) -> npt.NDArray[np.float32]:
    centroids = np.zeros((int(labels.max()) + 1, rows.shape[1]), dtype=np.float32)
    np.add.at(centroids, labels, rows)
    return _unit(centroids)


def refine(rows: npt.NDArray[np.float32], labels: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """k-means rounds from the linkage's themes: each sentence moves to the nearest centroid
    of a theme holding :data:`MIN_THEME_SHARE` of the round. A theme said in many wordings
    ends up one theme, its fragments joining it rather than standing beside it. Themes are
    numbered 0.. by first sentence."""
    size = max(2, math.ceil(MIN_THEME_SHARE * len(rows)))
    for _ in range(REFINE_ROUNDS):
        keep = np.flatnonzero(np.bincount(labels) >= size)
        if not len(keep):
            break
        moved = keep[np.argmax(rows @ _centroids(rows, labels)[keep].T, axis=1)]
        if np.array_equal(moved, labels):
            break
        labels = moved
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    return np.asarray(np.argsort(np.argsort(first))[inverse], dtype=np.int64)


def cluster(
    vectors: Vectors, texts: Sequence[str] | None = None, *, sample: int | None = None
) -> npt.NDArray[np.int64]:
    """Theme number of each sentence (``vectors``, and ``texts`` their sentences).

    Below :data:`LARGE_ROUND` sentences, or without ``texts``: average linkage on the cosine
    distance between vectors, cut at :data:`THEME_DISTANCE`. From there on, average linkage
    on the sentences' vectors and shared words (:class:`Words`), cut at the
    :data:`THEME_QUANTILE` of the round's own distances, then :func:`refine`. Deterministic.
    Beyond ``sample`` sentences (default :data:`CLUSTER_SAMPLE`), an evenly spaced sample is
    clustered and every sentence joins the theme whose centroid is nearest. The module's
    constants are read when called, so a bench can vary them.
    """
    from scipy.cluster.hierarchy import fcluster, linkage  # type: ignore[import-untyped]
    from scipy.spatial.distance import squareform  # type: ignore[import-untyped]

    sample = CLUSTER_SAMPLE if sample is None else sample
    n = len(vectors)
    if n < 2:
        return np.zeros(n, dtype=np.int64)
    picked = np.arange(n) if n <= sample else np.unique(np.linspace(0, n - 1, sample).astype(int))
    large = texts is not None and len(texts) == n and n >= LARGE_ROUND
    bags = [terms(texts[i]) for i in picked.tolist()] if large and texts is not None else []
    words = Words.of(bags) if bags else None

    def rows_of(at: slice) -> npt.NDArray[np.float32]:
        if words is None or texts is None:
            return _unit(vectors[at].astype(np.float32))
        return words.features(vectors[at], [terms(text) for text in texts[at]])

    rows = (
        words.features(vectors[picked], bags)
        if words is not None
        else _unit(vectors[picked].astype(np.float32))
    )
    block = rows.astype(np.float64)
    distances = np.clip(1.0 - block @ block.T, 0.0, 2.0)  # cosine, on unit rows
    np.fill_diagonal(distances, 0.0)
    condensed = squareform(distances, checks=False)
    cut = float(np.quantile(condensed, THEME_QUANTILE)) if words is not None else THEME_DISTANCE
    tree = linkage(condensed, method="average")
    labels = np.asarray(fcluster(tree, t=cut, criterion="distance"), dtype=np.int64) - 1
    if words is not None:
        labels = refine(rows, labels)
    if n <= sample:
        return labels
    centroids = _centroids(rows, labels)
    out = np.empty(n, dtype=np.int64)
    for at in range(0, n, 5_000):
        part = slice(at, min(at + 5_000, n))
        out[part] = np.argmax(rows_of(part) @ centroids.T, axis=1)
    return out
