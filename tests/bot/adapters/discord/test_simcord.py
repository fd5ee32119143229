"""The Discord adapter end to end: SimCord drives the unmodified discord.py client.

Each test starts the real composition root (cogs, router, SQLite) with the Discord adapter,
acts as Discord members (slash commands, messages, replies, edits, reactions) and checks both
what members see and what the core stored.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, ClassVar

import discord
import pytest
import simcord

from bot.cog import Cog, CommandContext, Context, command
from bot.commands import Choice, CommandSpec, OptionSpec, Scope
from bot.types import Attachment, Card, Content, MessageRef, Role, UserRef
from cogs.core import CoreCog
from storage import rounds as store

# A 1x1 PNG: a chart as far as Discord is concerned.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


class ProbeCog(Cog):
    """Commands that exercise each adapter path a cog can reach."""

    name = "probe"
    reports: ClassVar[list[dict[str, Any]]] = []

    @command("backstage", "secret", description="Hosts only.", role=Role.HOST, scope=Scope.CIRCLE)
    async def secret(self, ctx: CommandContext) -> None:
        await ctx.reply("secret ok", private=True)

    @command("probe", "slow", description="Takes its time.", slow=True, private=True)
    async def slow(self, ctx: CommandContext) -> None:
        await ctx.reply("slow done")

    @command(
        "probe",
        "fruit",
        description="Pick a fruit.",
        options=[OptionSpec("name", "A fruit", required=True, autocomplete=True)],
        private=True,
    )
    async def fruit(self, ctx: CommandContext) -> None:
        await ctx.reply(f"fruit {ctx.options['name']}")

    @command("backstage", "digest", description="Post a digest.", role=Role.HOST)
    async def digest(self, ctx: CommandContext) -> None:
        card = Card(
            "Digest #1",
            "x" * 5000,  # over Discord's 4,096: clipped, never refused
            fields=tuple((f"theme {i}", "y" * 2000) for i in range(30)),
            footer="Cercle",
        )
        chart = Attachment("chart.png", PNG, "image/png", "Participation by profession")
        await ctx.send(Content(text="@everyone the digest is out", card=card, attachments=(chart,)))

    @command(
        "backstage",
        "moderate",
        description="Delete, mute and nudge.",
        options=[
            OptionSpec("member", "Member id", required=True),
            OptionSpec("message", "Message id", required=True),
        ],
        role=Role.HOST,
        scope=Scope.CIRCLE,
        private=True,
    )
    async def moderate(self, ctx: CommandContext) -> None:
        member = UserRef("discord", ctx.options["member"])
        message = MessageRef(ctx.channel, ctx.options["message"], ctx.thread)
        await ctx.platform.delete(message, reason="charter")
        until = self.services.clock.now() + timedelta(hours=1)
        await ctx.platform.mute(member, ctx.channel, until)
        await ctx.messenger.send_direct(member, "Please stay courteous.")
        await ctx.reply("moderated")

    @command(
        "report",
        description="Report a message.",
        options=[OptionSpec("message", "Message id"), OptionSpec("text", "Why", rest=True)],
        scope=Scope.CIRCLE,
        private=True,
        menu="Report to hosts",
    )
    async def report(self, ctx: CommandContext) -> None:
        self.reports.append(dict(ctx.options))
        await ctx.reply("reported")

    async def suggest(
        self, spec: CommandSpec, option: OptionSpec, partial: str, ctx: Context
    ) -> list[Choice]:
        fruits = ["apple", "apricot", "banana", "cherry"]
        return [Choice(f, f.title()) for f in fruits if f.startswith(partial.lower())]

    async def export_member_data(self, member_id: int) -> dict[str, Any]:
        return {}

    async def erase_member_data(self, member_id: int) -> None:
        return None


PROBE = [CoreCog, ProbeCog]


def _mentions_denied(request: Any) -> bool:
    mentions = (request.json or {}).get("allowed_mentions")
    return mentions is not None and mentions.get("parse") == [] and not mentions.get("users")


# ------------------------------------------------------------------ commands


async def test_member_command_answers_ephemerally(world: Any) -> None:
    await world.start_bot()
    s = world.server()
    result = await s.ana.slash(s.channel, "help")
    assert result.ephemeral
    assert result.response is not None
    assert "/prompt next" in result.response.content
    assert "/prompt add" not in result.response.content  # hosts' commands are not listed


async def test_host_command_refused_to_a_member_by_the_core(world: Any) -> None:
    await world.start_bot(PROBE)
    s = world.server()
    # Hidden from members by default: a real member could not even pick it.
    with pytest.raises(simcord.SetupError, match="default-member-permissions"):
        await s.ana.slash(s.channel, "backstage secret")
    # A server admin shows the group to everyone: the core still refuses members.
    probe = world.sim.backend.find_command("backstage", None)
    s.guild.set_command_permissions(int(probe["id"]), {s.guild.default_role: True})
    refused = await s.ana.slash(s.channel, "backstage secret")
    assert refused.ephemeral and refused.response is not None
    assert "hôtes" in refused.response.content
    allowed = await s.hana.slash(s.channel, "backstage secret")
    assert allowed.ephemeral and allowed.response is not None
    assert allowed.response.content == "secret ok"


async def test_slow_command_is_deferred_then_answered(world: Any) -> None:
    await world.start_bot(PROBE)
    s = world.server()
    result = await s.ana.slash(s.channel, "probe slow")
    (callback,) = s.requests("POST", "/callback")
    assert callback.json["type"] == 5  # deferred: "Cercle is thinking…"
    assert callback.json["data"]["flags"] & 64  # ephemeral
    assert result.ephemeral and result.response is not None
    assert result.response.content == "slow done"


async def test_autocomplete_goes_through_the_owning_cog(world: Any) -> None:
    await world.start_bot(PROBE)
    s = world.server()
    choices = await s.ana.autocomplete(s.channel, "probe fruit", "name", "ap")
    assert choices == [{"name": "Apple", "value": "apple"}, {"name": "Apricot", "value": "apricot"}]
    helped = await s.ana.autocomplete(s.channel, "help", "command", "probe f")
    assert [c["value"] for c in helped] == ["probe fruit"]
    picked = await s.ana.slash(s.channel, "probe fruit", name="apple")
    assert picked.response is not None and picked.response.content == "fruit apple"


async def test_report_context_menu_invokes_the_report_command(world: Any) -> None:
    ProbeCog.reports.clear()
    await world.start_bot(PROBE)
    s = world.server()
    rude = await s.bob.send(s.channel, "something rude")
    result = await s.ana.context_menu(s.channel, "Report to hosts", rude)
    assert result.ephemeral and result.response is not None
    assert result.response.content == "reported"
    assert ProbeCog.reports == [{"message": str(rude.id), "text": None}]


async def test_report_menu_is_absent_without_a_report_command(world: Any) -> None:
    _bot, platform = await world.start_bot([CoreCog])
    assert all(command["type"] == 1 for command in platform.payload)


# ------------------------------------------------------------------ rounds


async def _open_round(world: Any, s: Any) -> discord.Thread:
    result = await s.hana.slash(s.channel, "prompt now")
    assert result.response is not None  # the prompt is the command's public answer
    prompt = result.response.message
    assert prompt.content.startswith("**Tour n°1")
    threads = s.channel.threads
    assert len(threads) == 1
    return threads[0]


async def test_thread_answer_comment_edit_reaction_delete(world: Any) -> None:
    await world.start_bot()
    s = world.server()
    thread = await _open_round(world, s)
    answer = await s.ana.send(thread, "Je suis infirmière : LinkedIn ne sert à rien.")
    comment = await s.bob.send(thread, "Pareil en menuiserie.", reply_to=answer)
    round_ = await store.current_round(world.db, 1)
    assert round_ is not None and round_.thread_id == str(thread.id)
    answers = await store.answers(world.db, round_.id)
    assert [(a.message_id, a.text) for a in answers] == [
        (str(answer.id), "Je suis infirmière : LinkedIn ne sert à rien.")
    ]
    comments = await store.comments(world.db, round_.id)
    assert [(c.message_id, c.answer_id) for c in comments] == [(str(comment.id), answers[0].id)]

    await s.ana.edit(answer, "Je suis infirmière : LinkedIn me sert peu.")
    edited = await store.answer_by_message(world.db, "discord", str(answer.id))
    assert edited is not None and edited.text == "Je suis infirmière : LinkedIn me sert peu."

    await s.bob.react(answer, "👍")
    reactions = await store.reactions(world.db, round_.id)
    assert [(r.answer_id, r.emoji) for r in reactions] == [(answers[0].id, "👍")]
    await s.bob.unreact(answer, "👍")
    assert await store.reactions(world.db, round_.id) == []

    await s.bob.delete(comment)
    assert await store.comments(world.db, round_.id) == []
    # Everything the bot posted denied every mention at the API level.
    posts = s.requests("POST", "/messages") + s.requests("POST", "/callback")
    assert posts
    for request in s.requests("POST", "/messages"):
        if request.path.endswith("/messages"):
            assert _mentions_denied(request), request


async def test_closing_a_round_archives_and_locks_its_thread(world: Any) -> None:
    bot, _platform = await world.start_bot()
    s = world.server()
    thread = await _open_round(world, s)
    rounds_cog = next(c for c in bot.cogs if c.name == "rounds")
    round_ = await store.current_round(world.db, 1)
    await rounds_cog._close(round_.id)  # what the scheduled close job does
    await world.sim.settle()
    stored = world.sim.backend.get_channel(thread.id)
    assert stored.thread_metadata.archived and stored.thread_metadata.locked


# ------------------------------------------------------------------ output


async def test_digest_like_post_with_embed_and_attachment_within_limits(world: Any) -> None:
    await world.start_bot(PROBE)
    s = world.server()
    await s.hana.slash(s.channel, "backstage digest")
    message = s.channel.last_message
    assert message is not None
    assert message.content.startswith("@\u200beveryone")  # defused by the messenger too
    (embed,) = message.embeds
    assert len(embed) <= 6000 and len(embed.description or "") <= 4096
    assert embed.image.url == "attachment://chart.png"
    assert [a.filename for a in message.attachments] == ["chart.png"]
    (answer,) = s.requests("POST", "/callback")
    assert answer.json["data"]["allowed_mentions"]["parse"] == []


async def test_moderation_delete_timeout_and_dm(world: Any) -> None:
    await world.start_bot(PROBE)
    s = world.server()
    rude = await s.bob.send(s.channel, "rude words")
    result = await s.hana.slash(
        s.channel, "backstage moderate", member=str(s.bob.id), message=str(rude.id)
    )
    assert result.response is not None and result.response.content == "moderated"
    assert s.channel.last_message is None or s.channel.last_message.id != rude.id
    member = world.sim.backend.get_guild(s.guild.id).members[s.bob.id]
    assert member.timed_out_until is not None
    dm = s.bob.user.dm_channel.last_message
    assert dm is not None and dm.content == "Please stay courteous."


async def test_dm_closed_falls_back_to_an_ephemeral_notice(world: Any) -> None:
    await world.start_bot(PROBE)
    s = world.server()
    rude = await s.bob.send(s.channel, "rude words")
    world.sim.inject_error("POST", "/channels/*/messages", status=403, code=50007, times=1)
    # The DM is the first message POST of the command: it is refused as closed DMs are.
    result = await s.hana.slash(
        s.channel, "backstage moderate", member=str(s.hana.id), message=str(rude.id)
    )
    contents = [result.response.content] + [m.content for m in result.followups]
    assert "Please stay courteous." in contents


# ------------------------------------------------------------------ sync, restart, intent


async def test_commands_synced_once_then_only_when_changed(world: Any) -> None:
    _bot, platform = await world.start_bot(PROBE)
    s = world.server()
    (sync,) = s.requests("PUT", "/commands")
    assert sync.json == platform.payload
    await world.bots[-1].stop()
    await world.start_bot(PROBE)  # a restart with the same commands: no sync
    assert len(s.requests("PUT", "/commands")) == 1
    await world.bots[-1].stop()
    await world.start_bot([CoreCog])  # the commands changed: synced again
    assert len(s.requests("PUT", "/commands")) == 2


async def test_answers_posted_while_away_are_caught_up_once(world: Any) -> None:
    await world.start_bot()
    s = world.server()
    thread = await _open_round(world, s)
    before = await s.ana.send(thread, "Réponse vue en direct.")
    await world.bots[-1].stop()
    missed = await s.bob.send(thread, "Réponse postée pendant la coupure.")
    await world.start_bot()
    await world.sim.settle()
    round_ = await store.current_round(world.db, 1)
    answers = await store.answers(world.db, round_.id)
    assert [a.message_id for a in answers] == [str(before.id), str(missed.id)]
    # A second reconnect fetches nothing new and stores nothing twice.
    world.bots[-1].platforms.get("discord").schedule_catch_up()
    await world.sim.settle()
    assert len(await store.answers(world.db, round_.id)) == 2


async def test_missing_message_content_intent_is_logged_and_told_to_hosts(
    world_without_content_intent: Any, caplog: pytest.LogCaptureFixture
) -> None:
    w = world_without_content_intent
    with caplog.at_level(logging.ERROR, logger="bot.adapters.discord.platform"):
        _bot, platform = await w.start_bot(PROBE)
    assert not platform.reads_content
    assert "Message Content Intent" in caplog.text
    s = w.server()
    member = await s.ana.slash(s.channel, "probe fruit", name="apple")
    assert member.followups == []  # members are not told
    host = await s.hana.slash(s.channel, "backstage secret")
    notices = [m.content for m in host.followups]
    assert any("Message Content" in n for n in notices), notices
    again = await s.hana.slash(s.channel, "backstage secret")
    assert again.followups == []  # once per server
