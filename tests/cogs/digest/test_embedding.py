"""The embedding job of an open round: only the answers without vectors are embedded, a chunk
at a time; a crash or a stop loses nothing and embeds nothing twice."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from bot.testing import Harness
from cogs.digest import clustering, model
from cogs.digest.build import Stopped
from cogs.digest.cog import DigestCog
from cogs.digest.embedding import embed_new
from storage import digest as digest_store
from storage import rounds as store
from storage.types import Visibility

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
    assert len(ids) == len(ANSWERS) and await stored(h, ids) == {}
    return ids


async def stored(h: Harness, ids: Sequence[int]) -> dict[int, digest_store.CachedVectors]:
    return await digest_store.cached_vectors(h.db, ids)


class Counting:
    """The real encoder, recording the sentences it is given; ``then`` runs after each call."""

    def __init__(self, encoder: model.Encoder, then: object = None) -> None:
        self.encoder = encoder
        self.texts: list[list[str]] = []
        self.then = then

    def __call__(self, texts: Sequence[str]) -> model.Vectors:
        self.texts.append(list(texts))
        if callable(self.then):
            self.then(len(self.texts))
        return self.encoder(texts)

    @property
    def calls(self) -> list[int]:
        return [len(t) for t in self.texts]

    @property
    def sentences(self) -> list[str]:
        return [s for texts in self.texts for s in texts]


async def test_the_job_embeds_the_new_answers_once_and_a_second_run_embeds_nothing(
    encoder: model.Encoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with Harness("matrix", start=START, hosts=["hana"]) as h:
        ids = await open_round(h)
        counting = Counting(encoder)
        monkeypatch.setattr(model, "default_encoder", lambda: counting)
        await h.advance("5m")  # the batch of the answers received meanwhile
        assert set(await stored(h, ids)) == set(ids)
        assert sorted(counting.sentences) == sorted(ANSWERS.values())
        assert counting.calls == [len(ANSWERS)]  # seven answers: one batch, not one per answer

        again = Counting(encoder)
        assert await embed_new(h.db, 1, clock=h.clock.now, encoder=again) == 0
        assert again.texts == []

        thread = list(h.platform.threads.values())[-1]
        await h.say("gil", "Je cherche des collègues pour parler de nos chantiers.", thread=thread)
        await h.advance("5m")
        assert counting.sentences[len(ANSWERS) :] == [
            "Je cherche des collègues pour parler de nos chantiers."
        ]


async def test_an_edited_answer_is_embedded_again_and_a_hidden_one_never(
    encoder: model.Encoder,
) -> None:
    async with Harness("matrix", start=START, hosts=["hana"]) as h:
        ids = await open_round(h)
        await embed_new(h.db, 1, clock=h.clock.now, encoder=encoder)
        before = await stored(h, ids)
        later = h.clock.now() + timedelta(minutes=1)
        edited = "Mes rendus 3D sont maintenant signés, plus personne ne les copie."
        await store.edit_answer(h.db, ids[3], edited, Visibility.VISIBLE.stored, now=later)
        await store.edit_answer(h.db, ids[4], "caché", Visibility.HIDDEN.stored, now=later)

        counting = Counting(encoder)
        assert await embed_new(h.db, 1, clock=lambda: later, encoder=counting) == 1
        assert counting.sentences == [edited]
        after = await stored(h, ids)
        assert after[ids[3]].vectors != before[ids[3]].vectors
        assert {k: v for k, v in after.items() if k != ids[3]} == {
            k: v for k, v in before.items() if k != ids[3]
        }
        assert await embed_new(h.db, 1, clock=lambda: later, encoder=counting) == 0


async def test_a_crash_mid_job_keeps_the_chunks_done_and_the_next_run_embeds_only_the_rest(
    encoder: model.Encoder,
) -> None:
    async with Harness("matrix", start=START, hosts=["hana"]) as h:
        ids = await open_round(h)
        calls: list[list[str]] = []

        def crashing(texts: Sequence[str]) -> model.Vectors:
            calls.append(list(texts))
            if len(calls) == 3:
                raise MemoryError("the encoder died in the third chunk")
            return encoder(texts)

        with pytest.raises(MemoryError):
            await embed_new(h.db, 1, clock=h.clock.now, encoder=crashing, chunk=2)
        kept = await stored(h, ids)
        assert len(kept) == 4

        again = Counting(encoder)
        assert await embed_new(h.db, 1, clock=h.clock.now, encoder=again, chunk=2) == 3
        done = [s for texts in calls[:2] for s in texts]
        assert sorted(done + again.sentences) == sorted(ANSWERS.values())  # each once
        final = await stored(h, ids)
        assert set(final) == set(ids)
        assert {k: final[k] for k in kept} == kept  # the first run's rows untouched


async def test_a_restart_embeds_only_the_answers_the_stop_left_without_vectors(
    encoder: model.Encoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with Harness("matrix", start=START, hosts=["hana"]) as h:
        ids = await open_round(h)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        first = Counting(encoder, lambda _: loop.call_soon_threadsafe(stop.set))  # at once
        with pytest.raises(Stopped):
            await embed_new(h.db, 1, clock=h.clock.now, encoder=first, stop=stop, chunk=3)
        assert len(await stored(h, ids)) == 3

        counting = Counting(encoder)
        monkeypatch.setattr(model, "default_encoder", lambda: counting)
        await h.restart()
        await h.advance("5s")  # the start's catch-up batch
        assert set(await stored(h, ids)) == set(ids)
        assert sum(counting.calls) == len(ANSWERS) - 3


async def test_a_stop_ends_the_running_batch_after_its_chunk_without_an_error(
    encoder: model.Encoder, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async with Harness("matrix", start=START, hosts=["hana"]) as h:
        ids = await open_round(h)
        cog = next(c for c in h.bot.cogs if isinstance(c, DigestCog))
        loop = asyncio.get_running_loop()
        stopping: list[object] = []

        def stop_the_cog(calls: int) -> None:
            if calls == 2:  # the bot stops while the second chunk is computed
                stopping.append(asyncio.run_coroutine_threadsafe(cog.on_stop(), loop))

        counting = Counting(encoder, stop_the_cog)
        monkeypatch.setattr(model, "default_encoder", lambda: counting)
        monkeypatch.setattr(clustering, "CHUNK", 2)
        with caplog.at_level(logging.INFO):
            await h.advance("5m")  # the batch of the answers received meanwhile
            await asyncio.wrap_future(stopping[0])  # type: ignore[arg-type]
        assert counting.calls == [2, 2]
        assert len(await stored(h, ids)) == 4
        assert "embedding stopped after 4 answers" in caplog.text
        assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
