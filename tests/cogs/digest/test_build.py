"""Embedding a stored round in chunks: each stored at once, a stop or a cancellation keeps them,
and the next embedding computes only the answers still without vectors (the open round's job
and the bot's restarts: test_embedding.py)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from bot.testing import Harness
from cogs.digest import model
from cogs.digest.build import Stopped, embed_round
from storage import digest as digest_store
from storage import rounds as store

START = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
#: One sentence each: a chunk of two sentences is two answers.
ANSWERS = {
    "ana": "Le secret médical m'interdit de parler de mes patients en ligne.",
    "bea": "Patient confidentiality means I can never share a real case online.",
    "bob": "I was disappointed to find my project photos copied without credit.",
    "ben": "Mes rendus 3D ont été copiés sans crédit par un promoteur.",
    "dan": "LinkedIn m'apporte des clients, mais la déontologie limite la publicité.",
    "eva": "Je publie surtout le soir, quand les patients sont couchés.",
    "fay": "My renderings get reposted without credit all the time.",
}


async def open_round(h: Harness) -> list[int]:
    """A round with every answer of :data:`ANSWERS`, none embedded yet; their ids."""
    await h.say("ana", "bonjour")
    await h.advance("2h")
    thread = list(h.platform.threads.values())[-1]
    for name, text in ANSWERS.items():
        await h.say(name, text, thread=thread)
    ids = [a.id or 0 for a in await store.answers(h.db, 1)]
    assert len(ids) == len(ANSWERS) and await stored(h, ids) == set()
    return ids


async def stored(h: Harness, ids: Sequence[int]) -> set[int]:
    return set(await digest_store.cached_vectors(h.db, ids))


class Counting:
    """The real encoder, counting the sentences it is given; ``then`` runs after each call."""

    def __init__(self, encoder: model.Encoder, then: object = None) -> None:
        self.encoder = encoder
        self.calls: list[int] = []
        self.then = then

    def __call__(self, texts: Sequence[str]) -> model.Vectors:
        vectors = self.encoder(texts)
        self.calls.append(len(texts))
        if callable(self.then):
            self.then(len(self.calls))
        return vectors


async def test_a_stop_keeps_every_chunk_done_and_the_next_call_embeds_only_the_rest(
    encoder: model.Encoder,
) -> None:
    async with Harness("matrix", start=START, hosts=["hana"]) as h:
        ids = await open_round(h)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def stop_at_the_second_chunk(calls: int) -> None:
            if calls == 2:
                loop.call_soon_threadsafe(stop.set)

        counting = Counting(encoder, stop_at_the_second_chunk)
        with pytest.raises(Stopped):
            await embed_round(h.db, 1, now=START, encoder=counting, stop=stop, chunk=2)
        assert counting.calls == [2, 2]  # the chunk running when the stop came is finished
        assert len(await stored(h, ids)) == 4  # and stored, like the one before

        again = Counting(encoder)
        items, vectors = await embed_round(h.db, 1, now=START, encoder=again, chunk=2)
        assert sum(again.calls) == len(ANSWERS) - 4
        assert await stored(h, ids) == set(ids) and set(vectors) == {i.id for i in items}


async def test_a_cancelled_embedding_still_stores_the_chunk_it_was_computing(
    encoder: model.Encoder,
) -> None:
    async with Harness("matrix", start=START, hosts=["hana"]) as h:
        ids = await open_round(h)
        entered, go = threading.Event(), threading.Event()

        def slow(texts: Sequence[str]) -> model.Vectors:
            entered.set()
            go.wait(30)
            return encoder(texts)

        task = asyncio.create_task(embed_round(h.db, 1, now=START, encoder=slow, chunk=2))
        assert await asyncio.to_thread(entered.wait, 30)
        task.cancel()  # while the first chunk is being computed
        go.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert len(await stored(h, ids)) == 2
