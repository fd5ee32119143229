"""Receiving: discord.py's client, and its gateway events translated into the core's events.

The client forwards every event to the platform. Messages, edits, deletions and reactions
become the core's neutral events, handed over one at a time per channel in arrival order;
the members and channels seen last are remembered (bounded) for moderation and DM notices.
Interactions are handled by :mod:`bot.adapters.discord.interactions`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import discord

from bot.adapters.discord.base import NAME, DiscordBase, log
from bot.platform import EventNotHandled
from bot.types import (
    ChannelRef,
    Event,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    MessageRef,
    ReactionAdded,
    ReactionRemoved,
    ThreadRef,
    UserRef,
)

if TYPE_CHECKING:
    from bot.adapters.discord.platform import DiscordPlatform

_RECENT_LIMIT: Final = 5000


class _Client(discord.Client):
    """discord.py's client, its events forwarded to the platform."""

    def __init__(self, platform: DiscordPlatform, **options: Any) -> None:
        super().__init__(**options)
        self.platform = platform

    async def setup_hook(self) -> None:
        """At login, before the gateway: sync the commands if they changed."""
        await self.platform.sync_commands()

    async def on_ready(self) -> None:
        """Connected (again): catch up on the round threads."""
        self.platform.schedule_catch_up()

    async def on_message(self, message: discord.Message) -> None:
        await self.platform.on_message(message)

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        await self.platform.on_edit(payload)

    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        await self.platform.on_delete(payload.channel_id, payload.message_id)

    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        for message_id in sorted(payload.message_ids):
            await self.platform.on_delete(payload.channel_id, message_id)

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        await self.platform.on_reaction(payload, added=True)

    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        await self.platform.on_reaction(payload, added=False)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        await self.platform.on_interaction(interaction)


@dataclass(slots=True)
class _Ordered:
    """Per channel, events are handed over one at a time, in arrival order."""

    locks: dict[int, tuple[asyncio.Lock, int]] = field(default_factory=dict)

    async def run(self, key: int, call: Awaitable[None]) -> None:
        lock, users = self.locks.get(key, (asyncio.Lock(), 0))
        self.locks[key] = (lock, users + 1)
        try:
            async with lock:
                await call
        finally:
            lock, users = self.locks[key]
            if users <= 1:
                del self.locks[key]
            else:
                self.locks[key] = (lock, users - 1)


class Receiving(DiscordBase):
    """The part of :class:`~bot.adapters.discord.platform.DiscordPlatform` receiving events."""

    # ------------------------------------------------------------ receiving

    def _refs(self, channel: object) -> tuple[ChannelRef, ThreadRef | None]:
        if isinstance(channel, discord.Thread):
            parent = channel.parent
            ref = ChannelRef(NAME, str(channel.parent_id), name=getattr(parent, "name", "") or "")
            return ref, ThreadRef(ref, str(channel.id), channel.name)
        if isinstance(channel, discord.DMChannel | discord.GroupChannel):
            return ChannelRef(NAME, str(channel.id), direct=True), None
        channel_id = int(getattr(channel, "id", 0))
        known = self._threads.get(channel_id)
        if known is not None:  # a thread of ours, not in the cache
            ref = ChannelRef(NAME, str(known.parent_id))
            return ref, ThreadRef(ref, str(channel_id))
        return ChannelRef(NAME, str(channel_id), name=getattr(channel, "name", "") or ""), None

    def _channel(self, channel_id: int) -> object:
        return self.client.get_channel(channel_id) or self._messageable(channel_id)

    def _userref(self, user: discord.abc.User) -> UserRef:
        if isinstance(user, discord.Member):
            self._members[(user.guild.id, user.id)] = user
            self._members.move_to_end((user.guild.id, user.id))
            if len(self._members) > _RECENT_LIMIT:
                self._members.popitem(last=False)
        return UserRef(NAME, str(user.id), user.display_name)

    def _ignored(self, author: discord.abc.User) -> bool:
        return author.bot or (self._client is not None and author == self._client.user)

    async def _deliver(self, key: int, event: Event) -> None:
        sink = self._sink
        if sink is None:
            return
        await self._ordered.run(key, sink(event))

    async def on_message(self, message: discord.Message) -> None:
        """A member's message, a thread answer or a reply (a comment), as it is posted.

        One the core could not settle keeps its round thread's position before it (a later
        message of the thread does not move it past) and the thread is caught up again.
        """
        try:
            await self._receive(message)
        except EventNotHandled as error:
            self._refused_live(message.channel.id, message.id, error)
            return
        await self._seen(message.channel.id, message.id, live=True)

    async def _receive(self, message: discord.Message, *, ordered: bool = True) -> None:
        """Hand a member's message to the core (the position is the caller's to store).

        ``ordered=False``: the caller holds the channel's turn (a catch-up batch).
        """
        if self._ignored(message.author) or message.type not in (
            discord.MessageType.default,
            discord.MessageType.reply,
        ):
            return
        if not self.reads_content and message.guild is not None and not message.content:
            log.debug("discord: message %s unreadable without Message Content", message.id)
            return
        channel, thread = self._refs(message.channel)
        reply_to = None
        reference = message.reference
        if message.type is discord.MessageType.reply and reference and reference.message_id:
            if reference.channel_id == message.channel.id:
                reply_to = MessageRef(channel, str(reference.message_id), thread)
            else:
                where, in_thread = self._refs(self._channel(reference.channel_id))
                reply_to = MessageRef(where, str(reference.message_id), in_thread)
        self._last_channel[message.author.id] = message.channel.id
        self._last_channel.move_to_end(message.author.id)
        if len(self._last_channel) > _RECENT_LIMIT:
            self._last_channel.popitem(last=False)
        event = MessagePosted(
            MessageRef(channel, str(message.id), thread),
            self._userref(message.author),
            message.content,
            message.created_at,
            reply_to,
        )
        if ordered:
            await self._deliver(message.channel.id, event)
        elif self._sink is not None:
            await self._sink(event)

    async def on_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        """A member edited a message (embed unfurls, with no edit time, are not edits)."""
        message = payload.message
        if self._ignored(message.author) or message.edited_at is None:
            return
        if not self.reads_content and message.guild is not None and not message.content:
            return
        channel, thread = self._refs(message.channel)
        event = MessageEdited(
            MessageRef(channel, str(message.id), thread),
            self._userref(message.author),
            message.content,
            message.edited_at,
        )
        await self._deliver(message.channel.id, event)

    async def on_delete(self, channel_id: int, message_id: int) -> None:
        """A message was deleted."""
        channel, thread = self._refs(self._channel(channel_id))
        event = MessageDeleted(MessageRef(channel, str(message_id), thread), self.clock.now())
        await self._deliver(channel_id, event)

    async def on_reaction(self, payload: discord.RawReactionActionEvent, *, added: bool) -> None:
        """A member reacted, or took a reaction back."""
        me = self._client.user if self._client else None
        if me is not None and payload.user_id == me.id:
            return
        member = payload.member
        if member is not None:
            if member.bot:
                return
            user = self._userref(member)
        else:
            cached = self.client.get_user(payload.user_id)
            if cached is not None and cached.bot:
                return
            name = cached.display_name if cached else ""
            user = UserRef(NAME, str(payload.user_id), name)
        channel, thread = self._refs(self._channel(payload.channel_id))
        ref = MessageRef(channel, str(payload.message_id), thread)
        kind = ReactionAdded if added else ReactionRemoved
        await self._deliver(
            payload.channel_id, kind(ref, user, str(payload.emoji), self.clock.now())
        )
