"""The hosts' review channel: held messages with Approve / Reject buttons (through SimCord).

A click runs ``/mod approve`` or ``/mod reject`` in the core, in the held message's channel,
so the core's host check decides: a member's click is refused like a member's command.
"""

from __future__ import annotations

from typing import Any

import discord

from bot.adapters.discord.platform import action_custom_id
from bot.config import DiscordSettings
from bot.types import Action, ActionStyle, ChannelRef
from cogs.core import CoreCog
from cogs.courtesy import CourtesyCog
from storage import courtesy as store

COGS = [CoreCog, CourtesyCog]


async def _setup(world: Any) -> tuple[Any, Any, Any]:
    _bot, platform = await world.start_bot(COGS)
    s = world.server()
    review = s.guild.create_text_channel("relecture")
    platform.settings = DiscordSettings(review_channel_id=review.id)
    return platform, s, review


async def _held(world: Any, s: Any, review: Any, text: str) -> tuple[Any, discord.Message]:
    posted = await s.bob.send(s.channel, text)
    await world.sim.settle()
    shown = review.last_message
    assert shown is not None
    return posted, shown


def review_custom_id(verb: str, channel_id: int | str, item_id: int) -> str:
    """The id of a review button, from the action built as the courtesy cog builds it."""
    channel = ChannelRef("discord", str(channel_id), name="cercle")
    options: tuple[tuple[str, str | int], ...] = (("id", item_id),)
    if verb == "approve":
        action = Action("Approuver", ("mod", "approve"), options, channel, ActionStyle.SUCCESS)
    else:
        action = Action(
            "Refuser", ("mod", "reject"), options, channel, ActionStyle.DANGER, ask="reason"
        )
    return action_custom_id(action)


def _buttons(message: discord.Message) -> list[tuple[str | None, str | None]]:
    return [
        (getattr(c, "custom_id", None), getattr(c, "label", None))
        for row in message.components
        for c in getattr(row, "children", [row])
    ]


async def test_held_message_posted_for_review_and_approved_by_a_host(world: Any) -> None:
    _platform, s, review = await _setup(world)
    posted, shown = await _held(world, s, review, "Sale con.")
    assert s.channel.last_message is None  # held: out of view
    [item] = await store.pending(world.db, 1)
    assert f"<#{s.channel.id}>" in shown.content and "**Bob**" in shown.content
    assert "> Sale con." in shown.content and "insult.ambiguous" in shown.content
    channel_id = str(s.channel.id)
    assert _buttons(shown) == [
        (review_custom_id("approve", channel_id, item.id or 0), "Approuver"),
        (review_custom_id("reject", channel_id, item.id or 0), "Refuser"),
    ]
    # A member's click is refused by the core; nothing is published.
    refused = await s.ana.click(shown, custom_id=review_custom_id("approve", channel_id, 1))
    assert refused.ephemeral and refused.response is not None
    assert "hôtes" in refused.response.content
    assert s.channel.last_message is None
    assert [i.id for i in await store.pending(world.db, 1)] == [item.id]
    # A host's click publishes it with attribution, in the circle's channel.
    approved = await s.hana.click(shown, custom_id=review_custom_id("approve", channel_id, 1))
    assert approved.ephemeral and approved.response is not None
    assert approved.response.content == "n°1 approuvé : le message est publié."
    republished = s.channel.last_message
    assert republished is not None and republished.id != posted.id
    assert (republished.author.name, republished.content) == ("Bob", "Sale con.")  # webhook
    assert await store.pending(world.db, 1) == []
    # Every review post denied mentions.
    (post,) = s.requests("POST", f"/channels/{review.id}/messages")
    assert post.json["allowed_mentions"]["parse"] == []


async def test_reject_asks_the_reason_and_only_a_host_decides(world: Any) -> None:
    _platform, s, review = await _setup(world)
    _posted, shown = await _held(world, s, review, "Sale con.")
    reject = review_custom_id("reject", s.channel.id, 1)
    asked = await s.ana.click(shown, custom_id=reject)
    assert asked.modal is not None and asked.modal["custom_id"] == reject
    refused = await s.ana.submit_modal(asked, {"reason": "Je n'aime pas."})
    assert refused.response is not None and "hôtes" in refused.response.content
    assert len(await store.pending(world.db, 1)) == 1
    asked = await s.hana.click(shown, custom_id=reject)
    rejected = await s.hana.submit_modal(asked, {"reason": "Pas de ça ici."})
    assert rejected.ephemeral and rejected.response is not None
    assert rejected.response.content == "n°1 refusé ; Bob en connaît le motif."
    assert await store.pending(world.db, 1) == []
    dm = s.bob.user.dm_channel.last_message
    assert dm is not None and "Pas de ça ici." in dm.content
    assert s.channel.last_message is None  # never published


async def test_without_a_review_channel_holds_still_work(world: Any) -> None:
    await world.start_bot(COGS)
    s = world.server()
    await s.bob.send(s.channel, "Sale con.")
    await world.sim.settle()
    assert len(await store.pending(world.db, 1)) == 1
    posts = s.requests("POST", "/messages")
    assert posts and not any((r.json or {}).get("components") for r in posts)  # no buttons


async def test_a_refused_review_post_does_not_lose_the_hold(world: Any) -> None:
    _platform, s, review = await _setup(world)
    world.sim.inject_error("POST", f"/channels/{review.id}/messages", status=403, times=1)
    await s.bob.send(s.channel, "Sale con.")
    await world.sim.settle()
    assert len(await store.pending(world.db, 1)) == 1
    assert review.last_message is None
    dm = s.bob.user.dm_channel.last_message
    assert dm is not None and "relecture" in dm.content  # the author was still told
