"""The embedding job: while a round is open, its new answers get their sentence vectors.

Every few minutes, only the answers without vectors are read (a query, never the whole
round), a page at a time; the encoder runs in a worker thread on a bounded chunk of sentences
and each chunk is stored as soon as it is computed. The event loop only ever handles one page
of ids and texts, so the bot keeps answering while the job runs, and a crash or a stop loses at
most the chunk in flight (never stored twice: the next run asks again what is missing).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from bot.cog import Services
from bot.scheduler import JobRun, once
from storage import digest as store
from storage.database import Database

# numpy and the encoder load when a job first runs, not when the bot starts (a console run
# that never embeds stays small): the modules that need them are imported in the functions.
if TYPE_CHECKING:
    from cogs.digest import clustering, model

#: Answers are embedded in batches this often while a round is open.
EMBED_EVERY: Final = timedelta(minutes=5)
_EVERY_S: Final = EMBED_EVERY.total_seconds()
#: Answers read per query: the loop's share of the work is one page of ids and texts.
PAGE: Final = 256

log = logging.getLogger(__name__)


def _split(page: list[tuple[int, str]], size: int) -> list[clustering.Todo]:
    """``page`` in chunks of about ``size`` sentences (in the worker thread)."""
    from cogs.digest import clustering, language

    todo = [(str(answer_id), language.sentences(text)) for answer_id, text in page]
    return list(clustering.chunks(todo, size))


def _vectors(
    encode: model.Encoder, chunk: clustering.Todo, texts: dict[str, str]
) -> list[tuple[int, store.CachedVectors]]:
    """One chunk's cache rows: encoded and packed, all in the worker thread."""
    from cogs.digest import clustering, language
    from cogs.digest.build import pack

    fresh = clustering.encode_chunk(encode, chunk)
    return [(int(k), pack(v, language.text_hash(texts[k]))) for k, v in fresh.items()]


async def embed_new(
    db: Database,
    round_id: int,
    *,
    clock: Callable[[], datetime],
    encoder: model.Encoder | None = None,
    stop: asyncio.Event | None = None,
    chunk: int | None = None,
) -> int:
    """Embed the round's public answers that have no vectors for their text; how many.

    Each chunk is stored once computed, stamped with the time it was read (an answer edited
    after that is embedded again at the next run). A stop (checked between chunks) or a
    cancellation (the chunk in flight is still stored) keeps everything computed. ``chunk``:
    sentences per call to the encoder (default :data:`clustering.CHUNK`).

    Raises:
        Stopped: ``stop`` was set before the last chunk.
    """
    from cogs.digest import clustering, model

    encode = encoder
    size = chunk or clustering.CHUNK
    done = sentences = after = 0
    try:
        while True:
            _check(stop)
            read_at = clock()
            page = await store.answers_without_vectors(db, round_id, after=after, limit=PAGE)
            if not page:
                break
            after = page[-1][0]
            if encode is None:
                encode = await asyncio.to_thread(model.default_encoder)  # once per process
            texts = {str(answer_id): text for answer_id, text in page}
            for part in await asyncio.to_thread(_split, page, size):
                _check(stop)
                step = asyncio.ensure_future(_store(db, encode, part, texts, read_at))
                try:
                    await asyncio.shield(step)
                except asyncio.CancelledError:
                    if not step.done():  # cancelled mid-chunk: a moment from stored, keep it
                        with contextlib.suppress(Exception):
                            await step
                    if step.done() and not step.cancelled() and step.exception() is None:
                        done += len(part)
                    raise
                done += len(part)
                sentences += sum(len(parts) for _, parts in part)
    except asyncio.CancelledError:  # a stop (Stopped), or the bot's shutdown cancelled the job
        log.info(
            "round %s: embedding stopped after %d answers (stored; the rest later)",
            round_id,
            done,
        )
        raise
    if done:
        log.info(
            "round %s: %d answers embedded (%d sentences), only those without vectors",
            round_id,
            done,
            sentences,
        )
    return done


def _check(stop: asyncio.Event | None) -> None:
    if stop is not None and stop.is_set():
        from cogs.digest.build import Stopped

        raise Stopped


async def _store(
    db: Database,
    encode: model.Encoder,
    chunk: clustering.Todo,
    texts: dict[str, str],
    read_at: datetime,
) -> None:
    rows = await asyncio.to_thread(_vectors, encode, chunk, texts)
    await store.store_vectors(db, rows, now=read_at)


class Embeddings:
    """Schedules the embedding job of open rounds, one run of a round at a time."""

    def __init__(self, services: Services, stopping: asyncio.Event) -> None:
        self.services = services
        #: Set at stop: a running job ends after its current chunk.
        self.stopping = stopping
        #: Round id -> the fire time already scheduled (no key built for every answer).
        self._due: dict[int, float] = {}
        self._rounds: dict[int, asyncio.Lock] = {}
        self._running = 0
        self.idle = asyncio.Event()
        self.idle.set()

    def soon(self, round_id: int) -> None:
        """Embed a round's new answers at the end of the current few minutes, once."""
        now = self.services.clock.now()
        at = now.timestamp()
        due = at - at % _EVERY_S + _EVERY_S
        if self._due.get(round_id) != due:  # once per round and five minutes, not per answer
            self.at(round_id, datetime.fromtimestamp(due, now.tzinfo))

    def at(self, round_id: int, due: datetime) -> None:
        """Embed a round's answers still without vectors at ``due``, once."""
        stamp = due.timestamp()
        if self._due.get(round_id) == stamp:
            return
        self._due[round_id] = stamp
        key = f"digest:embed:{round_id}:{due.isoformat()}"

        async def embed(run: JobRun) -> None:
            from cogs.digest.build import Stopped

            if self._due.get(round_id) == stamp:
                del self._due[round_id]
            with contextlib.suppress(Stopped):  # what was computed is stored; resumed at start
                async with self.round(round_id):
                    await embed_new(
                        self.services.db,
                        round_id,
                        clock=self.services.clock.now,
                        stop=self.stopping,
                    )

        self.services.scheduler.add(key, once(due), embed)

    @contextlib.asynccontextmanager
    async def round(self, round_id: int) -> AsyncIterator[None]:
        """One embedding of a round at a time (the next finds the vectors stored); a stop
        waits for the running ones to end."""
        self._running += 1
        self.idle.clear()
        try:
            async with self._rounds.setdefault(round_id, asyncio.Lock()):
                yield
        finally:
            self._running -= 1
            if not self._running:
                self.idle.set()
