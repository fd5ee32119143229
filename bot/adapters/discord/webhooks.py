"""Reposts of members' words under their own name, through one webhook per channel.

The webhook is found or created once per channel, then cached; the author's server avatar
(or their account's) is shown. Without Manage Webhooks, or when Discord refuses, the core
reposts with an attribution instead.
"""

from __future__ import annotations

from typing import Any, Final

import discord

from bot.adapters.discord.base import DiscordBase, log
from bot.adapters.discord.permissions import NO_MENTIONS
from bot.adapters.discord.render import _clip
from bot.platform import DISCORD_LIKE, NotSupported
from bot.types import ChannelRef, MessageRef, ThreadRef, UserRef

#: The one webhook per channel through which members' words are reposted under their name.
WEBHOOK_NAME: Final = "Cercle"


class Webhooks(DiscordBase):
    """The part of :class:`~bot.adapters.discord.platform.DiscordPlatform` reposting as others."""

    _webhooks: dict[int, discord.Webhook]

    async def _webhook(self, channel_id: int) -> discord.Webhook | None:
        """The channel's Cercle webhook, found or created once, then cached."""
        cached = self._webhooks.get(channel_id)
        if cached is not None:
            return cached
        channel = self.client.get_channel(channel_id) or await self.client.fetch_channel(channel_id)
        if not isinstance(channel, discord.TextChannel):
            return None
        me = self.client.user
        existing = [
            w
            for w in await channel.webhooks()
            if w.name == WEBHOOK_NAME and w.token and me is not None and w.user == me
        ]
        webhook = existing[0] if existing else None
        if webhook is None:
            webhook = await channel.create_webhook(
                name=WEBHOOK_NAME, reason="Cercle: repost members' words under their name"
            )
        self._webhooks[channel_id] = webhook
        return webhook

    async def _avatar(self, user: UserRef, channel: ChannelRef) -> str | None:
        try:
            member: discord.abc.User = await self._member(int(user.id), channel)
        except (discord.HTTPException, NotSupported):
            try:
                member = await self._user(int(user.id))
            except discord.HTTPException:
                return None
        return member.display_avatar.url

    async def repost_as(
        self, author: UserRef, text: str, channel: ChannelRef, *, thread: ThreadRef | None = None
    ) -> MessageRef | None:
        """Repost through the channel's webhook with the author's name and avatar.

        ``None`` (the core then reposts with "{name} wrote:") when the bot lacks Manage
        Webhooks there, or Discord refuses the name.
        """
        channel_id = int(channel.id)
        kwargs: dict[str, Any] = {
            "content": _clip(text, DISCORD_LIKE.max_message_length),
            "username": _clip(author.label, 80),
            "allowed_mentions": NO_MENTIONS,
            "wait": True,
        }
        if thread is not None:
            kwargs["thread"] = discord.Object(int(thread.id))
        for _attempt in range(2):
            try:
                webhook = await self._webhook(channel_id)
                if webhook is None:
                    return None
                avatar = await self._avatar(author, channel)
                if avatar is not None:
                    kwargs["avatar_url"] = avatar
            except discord.Forbidden:
                log.info("discord: no Manage Webhooks in %s; attributed repost", channel_id)
                return None
            except discord.HTTPException as error:
                log.warning("discord: no webhook in %s (%s); attributed repost", channel_id, error)
                return None
            try:
                sent = await webhook.send(**kwargs)
            except discord.NotFound:
                self._webhooks.pop(channel_id, None)  # deleted by someone: make a new one
                continue
            except discord.HTTPException as error:
                log.warning("discord: webhook repost refused in %s: %s", channel_id, error)
                return None
            return MessageRef(channel, str(sent.id), thread)
        return None
