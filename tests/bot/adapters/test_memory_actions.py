"""Actions on the memory platform: the buttons a message carries, pressed by members.

A press runs the action's command through the core as the member who pressed it, in the
action's channel, so the core's permission check decides: a member pressing a host's button
is refused like a member typing the host's command.
"""

from __future__ import annotations

from typing import Any

from bot.cog import Cog, CommandContext, command
from bot.commands import OptionSpec, OptionType
from bot.testing import Harness, Sent
from bot.types import Action, ActionStyle, Content, Role
from cogs.core import CoreCog


class ButtonsCog(Cog):
    """Posts a message with two buttons; their commands say who ran them, and with what."""

    name = "buttons"

    @command("panel", description="Post the buttons.")
    async def panel(self, ctx: CommandContext) -> None:
        actions = (
            Action("Greet", ("greet",), (("times", 2),)),
            Action(
                "Close",
                ("close",),
                (("id", 7),),
                channel=ctx.channel,
                style=ActionStyle.DANGER,
                ask="reason",
            ),
        )
        await ctx.send(Content(text="Choose:", actions=actions))

    @command(
        "greet",
        description="Say hello.",
        options=[OptionSpec("times", "How many times", OptionType.INTEGER, required=True)],
    )
    async def greet(self, ctx: CommandContext) -> None:
        await ctx.reply(f"hello {ctx.user.label} x{ctx.options['times']}")

    @command(
        "close",
        description="Close an item.",
        options=[
            OptionSpec("id", "The item", OptionType.INTEGER, required=True),
            OptionSpec("reason", "Why", required=True, rest=True),
        ],
        role=Role.HOST,
    )
    async def close(self, ctx: CommandContext) -> None:
        await ctx.reply(f"closed #{ctx.options['id']} by {ctx.user.label}: {ctx.options['reason']}")

    async def export_member_data(self, member_id: int) -> dict[str, Any]:
        return {}

    async def erase_member_data(self, member_id: int) -> None:
        return None


async def _panel(h: Harness) -> Sent:
    [panel] = await h.command("hana", "/panel")
    assert panel.text == "Choose:"
    assert [(a.label, a.path) for a in panel.actions] == [
        ("Greet", ("greet",)),
        ("Close", ("close",)),
    ]
    return panel


async def test_pressing_an_action_runs_its_command_as_the_member(profile: str) -> None:
    async with Harness(profile, cogs=[CoreCog, ButtonsCog], hosts=["hana"]) as h:
        panel = await _panel(h)
        before = len(h.sent)
        await h.platform.press("ana", panel)
        assert [s.text for s in h.sent[before:]] == ["hello ana x2"]
        assert h.last().where == "channel"  # in the channel the message is in


async def test_a_member_pressing_a_host_action_is_refused(profile: str) -> None:
    async with Harness(profile, cogs=[CoreCog, ButtonsCog], hosts=["hana"]) as h:
        panel = await _panel(h)
        before = len(h.sent)
        await h.platform.press("ana", panel, 1, answer="not mine")
        [refused] = h.sent[before:]
        assert refused.to is not None and refused.to.id == "ana"
        assert "réservé aux hôtes" in refused.text and "closed" not in refused.text
        await h.platform.press("hana", panel, 1, answer="done here")
        assert h.last().text == "closed #7 by hana: done here"


async def test_an_asked_option_left_unanswered_is_missing(profile: str) -> None:
    async with Harness(profile, cogs=[CoreCog, ButtonsCog], hosts=["hana"]) as h:
        panel = await _panel(h)
        before = len(h.sent)
        await h.platform.press("hana", panel, 1)
        [usage] = h.sent[before:]
        # A French circle names the missing option in French (``reason`` is ``motif``).
        assert usage.to is not None and "L’option motif est obligatoire" in usage.text
        assert not any("closed" in s.text for s in h.sent[before:])


async def test_an_edit_replaces_the_actions() -> None:
    async with Harness("discord", cogs=[CoreCog, ButtonsCog], hosts=["hana"]) as h:
        panel = await _panel(h)
        await h.platform.edit(panel.ref, Content(text="Done."))
        assert panel.text == "Done." and panel.actions == ()
