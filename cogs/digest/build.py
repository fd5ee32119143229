"""From stored rounds to a digest: gather public answers, reuse cached vectors, analyse."""

from __future__ import annotations

import asyncio
import json
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


async def embed_round(
    db: Database,
    round_id: int,
    *,
    now: datetime,
    encoder: model.Encoder | None = None,
    progress: model.Progress | None = None,
) -> tuple[list[model.AnswerIn], dict[str, model.Vectors]]:
    """The round's public answers and their sentence vectors (computed once, then cached)."""
    answers = await rounds_store.public_answers(db, round_id)
    reactions = await rounds_store.reactions(db, round_id)
    reactors = await store.professions_of(db, [r.member_id for r in reactions])
    approvals: dict[int, dict[int, str]] = defaultdict(dict)
    for reaction in reactions:
        if an.approving(reaction.emoji) and reaction.member_id in reactors:
            approvals[reaction.answer_id][reaction.member_id] = reactors[reaction.member_id]
    named = await store.named_members(db)
    items = [
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
    cached_rows = await store.cached_vectors(db, [a.id or 0 for a in answers])
    cached = {str(k): (v.text_hash, _unpack(v)) for k, v in cached_rows.items()}
    # CPU-bound (seconds on a big round): off the event loop, so the bot keeps answering.
    vectors, fresh = await asyncio.to_thread(
        clustering.embed_answers, items, cached=cached, encoder=encoder, progress=progress
    )
    texts = {item.id: item.text for item in items}
    await store.store_vectors(
        db,
        [(int(k), pack(v, language.text_hash(texts[k]))) for k, v in fresh.items()],
        now=now,
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
) -> an.Digest:
    """Analyse a stored round (public answers only, never held or hidden ones)."""
    round_id = round_.id or 0
    items, vectors = await embed_round(db, round_id, now=now, encoder=encoder, progress=progress)
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
    return await asyncio.to_thread(
        an.analyse,
        round_.prompt_text,
        items,
        vectors,
        sub_questions=[str(s) for s in json.loads(round_.sub_questions or "[]")],
        expected=expected,
        extras=extras,
        locale=locale,
    )
