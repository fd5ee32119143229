"""No loss: the round threads the bot opened, the last message seen in each, catch-up.

Each open thread is stored (``thread:<id>`` → ``<parent id>:<last seen id>``, or ``closed``)
so that after a restart, or a reconnect, what it received meanwhile is fed through once.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Final

import discord

from bot.adapters.discord.base import NAME, DiscordBase, log
from storage import state

_CLOSED: Final = "closed"


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

    async def _seen(self, channel_id: int, message_id: int) -> None:
        known = self._threads.get(channel_id)
        if known is not None and message_id > known.last_id:
            known.last_id = message_id
            await self._save_thread(channel_id)

    def schedule_catch_up(self) -> None:
        """Fetch what the open round threads received while the bot was away (once at a time)."""
        if self._catching_up is None or self._catching_up.done():
            self._catching_up = asyncio.ensure_future(self.catch_up())

    async def catch_up(self) -> None:
        """Feed every message posted in an open round thread since the last one seen."""
        for thread_id in list(self._threads):
            known = self._threads.get(thread_id)
            if known is None:
                continue
            try:
                channel = self.client.get_channel(thread_id) or await self.client.fetch_channel(
                    thread_id
                )
                if not isinstance(channel, discord.Thread):
                    continue
                count = 0
                async for message in channel.history(
                    limit=None, after=discord.Object(known.last_id), oldest_first=True
                ):
                    await self.on_message(message)
                    await self._seen(thread_id, message.id)
                    count += 1
                if count:
                    log.info("discord: caught up on %d messages in thread %s", count, thread_id)
            except discord.NotFound:
                self._threads.pop(thread_id, None)
            except discord.HTTPException:
                log.exception("discord: could not catch up on thread %s", thread_id)
