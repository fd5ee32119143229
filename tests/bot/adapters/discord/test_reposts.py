"""Redacted and approved messages reposted under the author's name and avatar (a webhook).

Through SimCord: the channel's webhook is created once and reused; without Manage Webhooks
the bot falls back to the attributed repost ("**Name** wrote:").
"""

from __future__ import annotations

from typing import Any

import discord

from bot.adapters.discord import PERMISSIONS
from cogs.core import CoreCog
from cogs.courtesy import CourtesyCog
from storage import courtesy as store

COGS = [CoreCog, CourtesyCog]
PHONE = "Appelez-moi au 06 12 34 56 78"


def _webhook_posts(s: Any) -> list[Any]:
    return [r for r in s.env.http_requests if r.method == "POST" and "/webhooks/" in r.path]


async def test_redacted_message_reposted_as_its_author_through_one_webhook(world: Any) -> None:
    await world.start_bot(COGS)
    s = world.server()
    first = await s.bob.send(s.channel, PHONE)
    await world.sim.settle()
    repost = s.channel.last_message
    assert repost is not None and repost.id != first.id
    assert repost.webhook_id is not None
    assert repost.author.name == "Bob"
    assert "06 12 34 56 78" not in repost.content and repost.content.startswith("Appelez-moi")
    (sent,) = _webhook_posts(s)
    assert sent.json["username"] == "Bob"
    assert sent.json["avatar_url"].startswith("https://")
    assert sent.json["allowed_mentions"]["parse"] == []
    # The webhook's own message is not judged again, and a second repost reuses the webhook.
    assert [e.action for e in await store.recent_log(world.db, 1)] == ["redact"]
    await s.ana.send(s.channel, "Mon mail : ana@example.org")
    await world.sim.settle()
    assert len(_webhook_posts(s)) == 2
    assert len(s.requests("POST", f"/channels/{s.channel.id}/webhooks")) == 1
    assert s.channel.last_message is not None and s.channel.last_message.author.name == "Ana"


async def test_approved_message_republished_as_its_author(world: Any) -> None:
    await world.start_bot(COGS)
    s = world.server()
    await s.bob.send(s.channel, "Sale con.")
    await world.sim.settle()
    approved = await s.hana.slash(s.channel, "mod approve", id=1)
    assert approved.response is not None
    assert approved.response.content == "n°1 approuvé : le message est publié."
    republished = s.channel.last_message
    assert republished is not None and republished.webhook_id is not None
    assert (republished.author.name, republished.content) == ("Bob", "Sale con.")


async def test_without_manage_webhooks_the_repost_is_attributed(world: Any) -> None:
    await world.start_bot(COGS)
    s = world.server()
    backend: Any = world.sim.backend
    guild = backend.get_guild(s.guild.id)
    bot_id = world.sim.bot.user.id
    without = PERMISSIONS | discord.Permissions(manage_channels=True)
    without.manage_webhooks = False
    for role_id in guild.members[bot_id].role_ids:
        if role_id != guild.id:
            guild.roles[role_id].permissions = without.value
    await s.bob.send(s.channel, PHONE)
    await world.sim.settle()
    repost = s.channel.last_message
    assert repost is not None and repost.webhook_id is None
    assert repost.content.startswith("**Bob** a écrit :\n> Appelez-moi")
    assert "06 12 34 56 78" not in repost.content
    assert _webhook_posts(s) == []


async def test_a_deleted_webhook_is_made_again(world: Any) -> None:
    await world.start_bot(COGS)
    s = world.server()
    await s.bob.send(s.channel, PHONE)
    await world.sim.settle()
    backend: Any = world.sim.backend
    (webhook_id,) = list(backend.webhooks)
    backend.delete_webhook(webhook_id)  # a server admin removed it
    await s.ana.send(s.channel, "Mon mail : ana@example.org")
    await world.sim.settle()
    repost = s.channel.last_message
    assert repost is not None and repost.webhook_id not in (None, webhook_id)
    assert repost.author.name == "Ana"
    assert len(s.requests("POST", f"/channels/{s.channel.id}/webhooks")) == 2
