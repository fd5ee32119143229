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

from bot.adapters.discord.base import NAME, DiscordBase, log
from bot.platform import EventNotHandled
from storage import state

_CLOSED: Final = "closed"
CATCH_UP: Final = "discord-catch-up"


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
            async for message in channel.history(
                limit=None, after=discord.Object(known.last_id), oldest_first=True
            ):
                try:
                    await self._receive(message)
                except EventNotHandled as error:
                    raise EventNotHandled(
                        f"message {message.id} in thread {thread_id}: {error}"
                    ) from error
                await self._seen(thread_id, message.id)
                count += 1
            self._behind.discard(thread_id)
            if count:
                log.info("discord: caught up on %d messages in thread %s", count, thread_id)
        except discord.NotFound:
            self._threads.pop(thread_id, None)
        except discord.HTTPException:
            log.exception("discord: could not catch up on thread %s", thread_id)
