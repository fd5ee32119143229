"""Sentence vectors (the bundled encoder, cached per answer) and their grouping into themes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

from cogs.digest.language import sentences, text_hash
from cogs.digest.model import DIMS, AnswerIn, Encoder, Progress, Vectors
from cogs.digest.model import default_encoder as default_encoder  # its callers import it here

#: Cosine distance under which average-linkage merges sentences into one theme.
THEME_DISTANCE: Final = 0.75
#: Above this many sentences, a fixed sample is clustered and the rest assigned.
CLUSTER_SAMPLE: Final = 2500


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


def cluster(
    vectors: Vectors, *, distance: float | None = None, sample: int | None = None
) -> npt.NDArray[np.int64]:
    """Theme number of each (unit) vector: average linkage on cosine distance.

    Deterministic. Beyond ``sample`` vectors, an evenly spaced sample is clustered and every
    vector joins the theme whose centroid is nearest. The defaults (:data:`THEME_DISTANCE`,
    :data:`CLUSTER_SAMPLE`) are read when called, so a bench can vary them.
    """
    distance = THEME_DISTANCE if distance is None else distance
    sample = CLUSTER_SAMPLE if sample is None else sample
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
