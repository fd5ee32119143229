"""From stored rounds to a digest: gather public answers, reuse cached vectors, analyse."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import Counter, defaultdict
from datetime import datetime

import numpy as np

from cogs.digest import analysis as an
from cogs.digest import clustering, language, model
from cogs.professions import circle_professions
from storage import digest as store
from storage import rounds as rounds_store
from storage.database import Database
from storage.rounds import Round

log = logging.getLogger(__name__)


def _unpack(cached: store.CachedVectors) -> model.Vectors:
    flat = np.frombuffer(cached.vectors, dtype=np.float16)
    return flat.reshape(cached.sentences, cached.dims).astype(np.float32)


def pack(vectors: model.Vectors, text_hash: str) -> store.CachedVectors:
    """Vectors as a cache row (float16: half the space, cosines unchanged to 1e-3)."""
    return store.CachedVectors(
        text_hash,
        int(vectors.shape[0]),
        model.DIMS,
        np.ascontiguousarray(vectors, dtype=np.float16).tobytes(),
    )


class Stopped(asyncio.CancelledError):
    """The bot is stopping: an embedding gave up between two chunks, every finished one stored.

    A cancellation (not an ``Exception``): error boundaries neither retry it nor report it,
    and the work that asked for the vectors (a digest, a preview) is abandoned with it.
    """


def _encoder() -> model.Encoder:
    return clustering.default_encoder()  # loaded once, in a thread (about 2 s)


def _check(stop: asyncio.Event | None) -> None:
    if stop is not None and stop.is_set():
        raise Stopped


async def round_answers(db: Database, round_id: int) -> list[model.AnswerIn]:
    """The round's public answers (never held or hidden ones), with approvals and names."""
    answers = await rounds_store.public_answers(db, round_id)
    reactions = await rounds_store.reactions(db, round_id)
    reactors = await store.professions_of(db, [r.member_id for r in reactions])
    approvals: dict[int, dict[int, str]] = defaultdict(dict)
    for reaction in reactions:
        if an.approving(reaction.emoji) and reaction.member_id in reactors:
            approvals[reaction.answer_id][reaction.member_id] = reactors[reaction.member_id]
    named = await store.named_members(db)
    return [
        model.AnswerIn(
            id=str(a.id),
            profession=a.profession_key or "",
            text=a.text,
            author=f"member:{a.member_id}",
            approvals=tuple(v for k, v in approvals.get(a.id or 0, {}).items() if k != a.member_id),
            name=named.get(a.member_id, ""),
        )
        for a in answers
    ]


async def embed_round(
    db: Database,
    round_id: int,
    *,
    now: datetime,
    encoder: model.Encoder | None = None,
    progress: model.Progress | None = None,
    stop: asyncio.Event | None = None,
    chunk: int | None = None,
) -> tuple[list[model.AnswerIn], dict[str, model.Vectors]]:
    """The round's public answers and their sentence vectors (computed once, then cached).

    Only answers without vectors for their current text are embedded, a chunk of sentences
    at a time, each chunk stored as soon as it is computed: a stop (``stop`` set, checked
    between chunks), a cancellation (the chunk in flight is still stored) or a crash keeps
    everything computed, and the next call resumes there.

    Raises:
        Stopped: ``stop`` was set before the last chunk.
    """
    items = await round_answers(db, round_id)
    cached_rows = await store.cached_vectors(db, [int(item.id) for item in items])
    cached = {str(k): (v.text_hash, _unpack(v)) for k, v in cached_rows.items()}
    vectors, todo = clustering.split_cached(items, cached)
    if not todo:
        return items, vectors
    texts = {item.id: item.text for item in items}
    total = sum(len(parts) for _, parts in todo)
    done = answered = 0

    async def embed(part: clustering.Todo) -> None:
        # CPU-bound: off the event loop (the bot keeps answering), one short chunk at a time
        # (a stop waits for one chunk, never for the whole round); stored at once.
        fresh = await asyncio.to_thread(clustering.encode_chunk, encode, part)
        rows = [(int(k), pack(v, language.text_hash(texts[k]))) for k, v in fresh.items()]
        await store.store_vectors(db, rows, now=now)
        vectors.update(fresh)
        nonlocal answered
        answered += len(part)

    try:
        _check(stop)
        encode = encoder if encoder is not None else await asyncio.to_thread(_encoder)
        for part in clustering.chunks(todo, chunk or clustering.CHUNK):
            _check(stop)
            step = asyncio.ensure_future(embed(part))
            try:
                await asyncio.shield(step)
            except asyncio.CancelledError:
                if not step.done():  # cancelled mid-chunk: it is a moment from stored, keep it
                    with contextlib.suppress(Exception):
                        await step
                raise
            done += sum(len(parts) for _, parts in part)
            if progress is not None:
                progress(done, total)
    except asyncio.CancelledError:  # a stop (Stopped), or the work that asked was cancelled
        log.info(
            "round %s: embedding stopped after %d of %d answers (stored; the rest later)",
            round_id,
            answered,
            len(todo),
        )
        raise
    log.info(
        "round %s: %d answers embedded (%d sentences), %d reused from the cache",
        round_id,
        len(todo),
        total,
        len(items) - len(todo),
    )
    return items, vectors


async def round_digest(
    db: Database,
    round_: Round,
    *,
    locale: str,
    now: datetime,
    encoder: model.Encoder | None = None,
    progress: model.Progress | None = None,
    stop: asyncio.Event | None = None,
    min_group: int = an.MIN_GROUP,
) -> an.Digest:
    """Analyse a stored round (public answers only, never held or hidden ones); professions
    with fewer than ``min_group`` authors are shown as other professions.

    Raises:
        Stopped: ``stop`` was set before the analysis began (see :func:`embed_round`).
    """
    round_id = round_.id or 0
    items, vectors = await embed_round(
        db, round_id, now=now, encoder=encoder, progress=progress, stop=stop
    )
    comments = await rounds_store.public_comments(db, round_id)
    reactions = await rounds_store.reactions(db, round_id)
    answers = await rounds_store.public_answers(db, round_id)
    members = (
        {a.member_id for a in answers}
        | {c.member_id for c in comments}
        | {r.member_id for r in reactions}
    )
    expected = [tag.key for tag in await circle_professions(db, round_.circle_id)]
    extras = an.Extras(
        comments=len(comments),
        reactions=len(reactions),
        members=len(members),
        comments_by_profession=dict(Counter(c.profession_key or "" for c in comments)),
    )
    _check(stop)
    return await asyncio.to_thread(
        an.analyse,
        round_.prompt_text,
        items,
        vectors,
        sub_questions=[str(s) for s in json.loads(round_.sub_questions or "[]")],
        expected=expected,
        extras=extras,
        locale=locale,
        min_group=min_group,
    )
