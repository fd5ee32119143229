"""Actions as buttons, and message menus from the specs (through SimCord).

A cog's :class:`~bot.types.Action` becomes a button whose custom id carries the command, its
channel and options, so a click runs it through the core (even after a restart) as the member
who clicked; an action that asks for an option opens a modal first. A spec's ``menu`` is
offered in the message menu and runs the spec on the chosen message.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar, NamedTuple

import discord
import pytest

from bot.adapters.discord import DiscordPlatform, render_commands
from bot.adapters.discord.platform import action_custom_id, message_kwargs
from bot.cog import Cog, CommandContext, command
from bot.commands import CommandSpec, OptionSpec, OptionType, Scope
from bot.config import DiscordSettings
from bot.i18n import N_, translator
from bot.platform import HasHostsChannel
from bot.types import Action, ActionStyle, ChannelRef, Content, Role
from cogs.core import CoreCog

# Message ids of the French catalog, so the modal shows translated text.
CLOSE_DESCRIPTION = N_("Keep a held or reported message out of view; the author is told why.")
REASON_DESCRIPTION = N_("Why (sent to the author)")


class PanelCog(Cog):
    """Posts buttons in a side channel; their commands say who ran them, where, with what."""

    name = "panel"
    side: ClassVar[int] = 0
    count: ClassVar[int] = 2

    @command("panel", "post", description="Post the buttons.", role=Role.HOST, private=True)
    async def post(self, ctx: CommandContext) -> None:
        side = ChannelRef("discord", str(self.side))
        actions = (
            Action("Greet", ("panel", "greet"), (("times", 2), ("word", "a:b&c")), ctx.channel),
            Action(
                "Close",
                ("panel", "close"),
                (("id", 7),),
                channel=ctx.channel,
                style=ActionStyle.DANGER,
                ask="reason",
            ),
            Action("Here", ("panel", "where"), style=ActionStyle.SUCCESS),
        )
        extra = tuple(
            Action(f"#{i}", ("panel", "greet"), (("times", i), ("word", "w")))
            for i in range(self.count - 3)
        )
        await ctx.messenger.send(side, Content(text="Choose:", actions=actions + extra))
        await ctx.reply("posted")

    @command(
        "panel",
        "greet",
        description="Say hello.",
        options=[
            OptionSpec("times", "How many times", OptionType.INTEGER, required=True),
            OptionSpec("word", "A word", required=True),
        ],
        private=True,
    )
    async def greet(self, ctx: CommandContext) -> None:
        where = ctx.channel.id
        await ctx.reply(f"{ctx.options['word']} x{ctx.options['times']} in {where}")

    @command(
        "panel",
        "close",
        description=CLOSE_DESCRIPTION,
        options=[
            OptionSpec("id", "The item", OptionType.INTEGER, required=True),
            OptionSpec("reason", REASON_DESCRIPTION, required=True, rest=True, max_length=300),
        ],
        role=Role.HOST,
        scope=Scope.CIRCLE,
        private=True,
    )
    async def close(self, ctx: CommandContext) -> None:
        await ctx.reply(f"closed #{ctx.options['id']} in {ctx.channel.id}: {ctx.options['reason']}")

    @command("panel", "where", description="Say where.", private=True)
    async def where(self, ctx: CommandContext) -> None:
        await ctx.reply(f"in {ctx.channel.id}")

    async def export_member_data(self, member_id: int) -> dict[str, Any]:
        return {}

    async def erase_member_data(self, member_id: int) -> None:
        return None


COGS = [CoreCog, PanelCog]


def _buttons(message: discord.Message) -> list[list[tuple[str | None, str | None]]]:
    return [
        [(getattr(c, "custom_id", None), getattr(c, "label", None)) for c in row.children]
        for row in message.components
        if isinstance(row, discord.ActionRow)
    ]


class Posted(NamedTuple):
    server: Any
    platform: DiscordPlatform
    shown: discord.Message


async def _posted(world: Any, count: int = 3) -> Posted:
    """Hana posts the panel in a side channel; the post as members see it."""
    _bot, platform = await world.start_bot(COGS)
    s = world.server()
    side = s.guild.create_text_channel("relecture")
    PanelCog.side, PanelCog.count = side.id, count
    result = await s.hana.slash(s.channel, "panel post")
    assert result.response is not None and result.response.content == "posted"
    shown = side.last_message
    assert shown is not None and shown.content == "Choose:"
    assert platform.client.persistent_views == []  # the ids carry everything: no view kept
    return Posted(s, platform, shown)


def _ids(s: Any) -> tuple[str, str, str]:
    here = ChannelRef("discord", str(s.channel.id), name="cercle")
    greet = Action("Greet", ("panel", "greet"), (("times", 2), ("word", "a:b&c")), here)
    close = Action("Close", ("panel", "close"), (("id", 7),), here, ActionStyle.DANGER, "reason")
    where = Action("Here", ("panel", "where"))
    return action_custom_id(greet), action_custom_id(close), action_custom_id(where)


async def test_actions_become_buttons_whose_ids_carry_the_command(world: Any) -> None:
    s, _platform, shown = await _posted(world)
    greet, close, where = _ids(s)
    assert greet == f"cercle:run:{s.channel.id}:panel.greet:times=2&word=a%3Ab%26c"
    assert close == f"cercle:run:{s.channel.id}:panel.close:id=7:?reason"
    assert where == "cercle:run::panel.where:"  # no channel: where the message is
    assert _buttons(shown) == [[(greet, "Greet"), (close, "Close"), (where, "Here")]]
    styles = [c.style for row in shown.components for c in getattr(row, "children", [])]
    assert styles == [
        discord.ButtonStyle.primary,
        discord.ButtonStyle.danger,
        discord.ButtonStyle.success,
    ]
    # A click runs the command as the member, in the action's channel, with its options.
    clicked = await s.ana.click(shown, custom_id=greet)
    assert clicked.ephemeral and clicked.response is not None
    assert clicked.response.content == f"a:b&c x2 in {s.channel.id}"
    # Without a channel, the command runs where the message is.
    here = await s.ana.click(shown, custom_id=where)
    assert here.response is not None and here.response.content == f"in {shown.channel.id}"


async def test_an_asking_action_opens_a_modal_then_runs_with_the_answer(world: Any) -> None:
    s, platform, shown = await _posted(world)
    _greet, close, _where = _ids(s)
    fr = translator("fr")
    asked = await s.hana.click(shown, custom_id=close)
    modal = asked.modal
    assert modal is not None and modal["custom_id"] == close
    assert platform.client._connection._view_store._modals == {}  # none kept either
    assert modal["title"] == fr._(CLOSE_DESCRIPTION)[:44] + "…"  # clipped to 45
    [row] = modal["components"]
    [field] = row["components"]
    assert field["custom_id"] == "reason" and field["label"] == fr._(REASON_DESCRIPTION)
    assert field["style"] == discord.TextStyle.paragraph.value and field["max_length"] == 300
    done = await s.hana.submit_modal(asked, {"reason": "Hors sujet."})
    assert done.ephemeral and done.response is not None
    assert done.response.content == f"closed #7 in {s.channel.id}: Hors sujet."


async def test_a_member_clicking_a_host_action_is_refused(world: Any) -> None:
    s, _platform, shown = await _posted(world)
    _greet, close, _where = _ids(s)
    asked = await s.ana.click(shown, custom_id=close)
    refused = await s.ana.submit_modal(asked, {"reason": "Je n'aime pas."})
    assert refused.ephemeral and refused.response is not None
    assert "hôtes" in refused.response.content and "closed" not in refused.response.content


async def test_buttons_still_work_after_a_restart(world: Any) -> None:
    s, _platform, shown = await _posted(world)
    greet, _close, _where = _ids(s)
    await world.bots[0].stop()
    await world.start_bot(COGS)
    clicked = await s.ana.click(shown, custom_id=greet)
    assert clicked.response is not None
    assert clicked.response.content == f"a:b&c x2 in {s.channel.id}"


async def test_buttons_go_five_a_row_at_most_twenty_five(
    world: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "bot.adapters.discord.platform"):
        _s, _platform, shown = await _posted(world, count=27)
    assert [len(row) for row in _buttons(shown)] == [5, 5, 5, 5, 5]
    assert any("left out" in r.getMessage() for r in caplog.records)


def test_an_action_over_discord_limit_or_repeated_is_left_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    long = Action("x", ("panel", "greet"), (("word", "y" * 100),))
    with pytest.raises(ValueError, match="100"):
        action_custom_id(long)
    fine = Action("ok", ("panel", "where"))
    with caplog.at_level(logging.WARNING, "bot.adapters.discord.platform"):
        kwargs = message_kwargs(Content(text="x", actions=(long, fine, fine)))
    assert [getattr(b, "label", None) for b in kwargs["view"].children] == ["ok"]
    assert len(caplog.records) == 2
    assert "view" not in message_kwargs(Content(text="x"))


# ------------------------------------------------------------------ message menus


MENU = CommandSpec(
    ("flag",),
    "Flag a message.",
    (OptionSpec("message", "The message"), OptionSpec("why", "Why", rest=True)),
    scope=Scope.CIRCLE,
    menu=N_("Report to hosts"),
)


def test_a_spec_menu_appears_in_the_payload() -> None:
    hosts = CommandSpec(
        ("tidy",), "Tidy.", (OptionSpec("message", "The message"),), Role.HOST, menu="Tidy up"
    )
    bare = CommandSpec(("bare",), "No options.", menu="Bare")
    payload = render_commands([MENU, hosts, bare])
    menus = [c for c in payload if c["type"] == 3]
    assert menus == [
        {
            "type": 3,
            "name": "Report to hosts",
            "name_localizations": {"fr": "Signaler aux hôtes"},
            "contexts": [0],
            "integration_types": [0],
        },
        {
            "type": 3,
            "name": "Tidy up",
            "name_localizations": {"fr": "Tidy up"},
            "contexts": [0, 1],
            "integration_types": [0],
            "default_member_permissions": str(1 << 13),
        },
    ]
    assert [c["name"] for c in payload if c["type"] == 1] == ["bare", "flag", "tidy"]


class FlagCog(Cog):
    """A command offered in the message menu."""

    name = "flag"
    flagged: ClassVar[list[dict[str, Any]]] = []

    @command(
        "flag",
        description="Flag a message.",
        options=[OptionSpec("message", "The message"), OptionSpec("why", "Why", rest=True)],
        scope=Scope.CIRCLE,
        private=True,
        menu=N_("Report to hosts"),
    )
    async def flag(self, ctx: CommandContext) -> None:
        self.flagged.append(dict(ctx.options))
        await ctx.reply("flagged")

    async def export_member_data(self, member_id: int) -> dict[str, Any]:
        return {}

    async def erase_member_data(self, member_id: int) -> None:
        return None


async def test_a_menu_runs_its_spec_on_the_chosen_message(world: Any) -> None:
    FlagCog.flagged.clear()
    await world.start_bot([CoreCog, FlagCog])
    s = world.server()
    rude = await s.bob.send(s.channel, "something rude")
    result = await s.ana.context_menu(s.channel, "Report to hosts", rude)
    assert result.ephemeral and result.response is not None
    assert result.response.content == "flagged"
    assert FlagCog.flagged == [{"message": str(rude.id), "why": None}]


# ------------------------------------------------------------------ the hosts' channel


async def test_the_review_channel_is_the_hosts_channel(world: Any) -> None:
    _bot, platform = await world.start_bot([CoreCog])
    s = world.server()
    circle = ChannelRef("discord", str(s.channel.id))
    assert isinstance(platform, HasHostsChannel)
    assert platform.hosts_channel(circle) is None  # none configured
    review = s.guild.create_text_channel("relecture")
    platform.settings = DiscordSettings(review_channel_id=review.id)
    assert platform.hosts_channel(circle) == ChannelRef("discord", str(review.id), "relecture")
    assert platform.mention_channel(circle) == f"<#{s.channel.id}>"
