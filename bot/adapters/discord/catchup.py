"""No loss: the round threads the bot opened, the last message seen in each, catch-up.

Each open thread is stored (``thread:<id>`` → ``<parent id>:<last seen id>``, or ``closed``)
so that after a restart, or a reconnect, what it received meanwhile is fed through once.
A message the core could not settle (``EventNotHandled``) stops its thread's catch-up there,
nothing from it on marked seen, and the catch-up runs again with backoff (under a
:class:`~bot.supervisor.Supervisor`) until every thread is through.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import discord

from bot.adapters.batches import BATCH_FROM, MAX_BATCH, run_batch
from bot.adapters.discord.base import NAME, DiscordBase, log
from bot.platform import EventNotHandled
from storage import state

_CLOSED: Final = "closed"
CATCH_UP: Final = "discord-catch-up"


def _replies_within(message: discord.Message, ids: set[str]) -> bool:
    """A reply to a message handled before it in the batch waits for it."""
    reference = message.reference
    return reference is not None and str(reference.message_id) in ids


@dataclass(slots=True)
class _Thread:
    parent_id: int
    last_id: int


class CatchUp(DiscordBase):
    """The part of :class:`~bot.adapters.discord.platform.DiscordPlatform` losing nothing."""

    # ------------------------------------------------------------ no loss

    async def _load_threads(self) -> None:
        stored = await state.states_with_prefix(self.db, NAME, "thread:")
        for key, value in stored.items():
            if value == _CLOSED or ":" not in value:
                continue
            parent, last = value.split(":", 1)
            self._threads[int(key.removeprefix("thread:"))] = _Thread(int(parent), int(last))

    async def _save_thread(self, thread_id: int) -> None:
        known = self._threads.get(thread_id)
        if known is not None:
            await state.set_state(
                self.db,
                NAME,
                f"thread:{thread_id}",
                f"{known.parent_id}:{known.last_id}",
                now=self.clock.now(),
            )

    async def _seen(self, channel_id: int, message_id: int, *, live: bool = False) -> None:
        known = self._threads.get(channel_id)
        if known is None or message_id <= known.last_id:
            return
        if live and channel_id in self._behind:
            return  # an earlier message of it is still to be handled: keep the position before it
        known.last_id = message_id
        await self._save_thread(channel_id)

    def _refused_live(self, channel_id: int, message_id: int, error: Exception) -> None:
        if channel_id in self._threads:
            self._behind.add(channel_id)
            log.warning(
                "discord: message %s in thread %s not handled (%s); the thread is caught up "
                "again from before it",
                message_id,
                channel_id,
                error,
            )
            self.schedule_catch_up()
        else:  # outside a round thread nothing fetches it again
            log.error(
                "discord: message %s in channel %s not handled (%s); it is not replayed",
                message_id,
                channel_id,
                error,
            )

    def schedule_catch_up(self) -> None:
        """Fetch what the open round threads received while the bot was away (once at a time)."""
        try:
            self.supervisor.start(CATCH_UP, self.catch_up)
        except ValueError:  # one is running: it goes round the threads once more
            self._catch_up_again = True

    async def catch_up(self) -> None:
        """Feed every message posted in an open round thread since the last one seen.

        Raises:
            EventNotHandled: The core could not settle a message: its thread stopped before
                it (the other threads were caught up); run again later.
        """
        while True:
            self._catch_up_again = False
            refused: EventNotHandled | None = None
            for thread_id in list(self._threads):
                try:
                    await self._catch_up_thread(thread_id)
                except EventNotHandled as error:
                    refused = error
            if refused is not None:
                raise refused
            if not self._catch_up_again:
                return

    async def _catch_up_messages(self, thread_id: int, messages: list[discord.Message]) -> int:
        """Hand a thread's missed ``messages`` to the core and mark them seen; how many.

        A few, one at a time, each marked seen once settled; a backlog
        (:data:`~bot.adapters.batches.BATCH_FROM` or more) side by side (a member's in order,
        a reply to one of them after it), the thread's live messages waiting meanwhile, and
        marked seen once, up to the last of the leading messages settled.

        Raises:
            EventNotHandled: The core could not settle a message; nothing from it on is
                marked seen.
        """
        if len(messages) < BATCH_FROM:
            for message in messages:
                try:
                    await self._receive(message)
                except EventNotHandled as error:
                    raise EventNotHandled(
                        f"message {message.id} in thread {thread_id}: {error}"
                    ) from error
                await self._seen(thread_id, message.id)
            return len(messages)
        outcome: list[tuple[int, BaseException | None]] = []

        async def batch() -> None:
            outcome.append(
                await run_batch(
                    messages,
                    lambda message: self._receive(message, ordered=False),
                    lane=lambda message: str(message.author.id),
                    ident=lambda message: str(message.id),
                    depends=_replies_within,
                )
            )

        await self._ordered.run(thread_id, batch())
        ((done, failure),) = outcome
        if done:
            await self._seen(thread_id, messages[done - 1].id)
        if failure is not None:
            if isinstance(failure, EventNotHandled):
                raise EventNotHandled(
                    f"message {messages[done].id} in thread {thread_id}: {failure}"
                ) from failure
            raise failure
        return done

    async def _catch_up_thread(self, thread_id: int) -> None:
        known = self._threads.get(thread_id)
        if known is None:
            return
        try:
            channel = self.client.get_channel(thread_id) or await self.client.fetch_channel(
                thread_id
            )
            if not isinstance(channel, discord.Thread):
                return
            count = 0
            pending: list[discord.Message] = []
            async for message in channel.history(
                limit=None, after=discord.Object(known.last_id), oldest_first=True
            ):
                pending.append(message)
                if len(pending) >= MAX_BATCH:
                    count += await self._catch_up_messages(thread_id, pending)
                    pending = []
            count += await self._catch_up_messages(thread_id, pending)
            self._behind.discard(thread_id)
            if count:
                log.info("discord: caught up on %d messages in thread %s", count, thread_id)
        except discord.NotFound:
            self._threads.pop(thread_id, None)
        except discord.HTTPException:
            log.exception("discord: could not catch up on thread %s", thread_id)
