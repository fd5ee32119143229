"""``/help``: generated from the specs, localized, filtered by role, on both profiles."""

from __future__ import annotations

from typing import Any

from bot.cog import Cog, CommandContext, command
from bot.commands import OptionSpec
from bot.i18n import N_
from bot.testing import Harness
from bot.types import Role
from cogs.core import CoreCog


class Hosting(Cog):
    name = "hosting"

    @command(
        "prompt",
        "add",
        description=N_("Show the commands I know, or the details of one."),
        options=[OptionSpec("text", "The test question", required=True, rest=True)],
        role=Role.HOST,
    )
    async def add(self, ctx: CommandContext) -> None:
        await ctx.reply("added")

    async def export_member_data(self, member_id: int) -> dict[str, Any]:
        return {}

    async def erase_member_data(self, member_id: int) -> None:
        return None


async def test_help_lists_commands_privately_in_french_by_default(profile: str) -> None:
    async with Harness(profile) as h:
        replies = await h.command("ana", "/help")
        assert len(replies) == 1
        help_text = replies[0].text
        assert replies[0].to is not None and replies[0].to.id == "ana"
        assert h.public() == []  # help never clutters the channel
        prefix = "/" if profile == "discord" else "!"
        assert f"`{prefix}help` — Afficher les commandes" in help_text
        assert "intelligence collective" in help_text


async def test_help_in_english_when_the_circle_speaks_english(profile: str) -> None:
    async with Harness(profile) as h:
        circle = await h.bot.directory.circle_for(h.platform.channel)
        assert circle is not None
        from storage import members

        await h.bot.directory.changed(await members.update_circle(h.db, circle.id, locale="en"))
        replies = await h.command("ana", "/help")
        assert "**Commands**" in replies[0].text
        assert "Show the commands I know" in replies[0].text


async def test_host_commands_are_shown_to_hosts_only(profile: str) -> None:
    async with Harness(profile, cogs=[CoreCog, Hosting], hosts=["hana"]) as h:
        member_view = (await h.command("ana", "/help"))[0].text
        host_view = (await h.command("hana", "/help"))[0].text
        assert "prompt add" not in member_view
        assert "**Commandes des hôtes**" in host_view and "prompt add" in host_view


async def test_help_for_one_command_shows_usage_and_options(profile: str) -> None:
    async with Harness(profile, cogs=[CoreCog, Hosting], hosts=["hana"]) as h:
        text = (await h.command("hana", "/help command:prompt"))[0].text
        prefix = "/" if profile == "discord" else "!"
        assert f"`{prefix}prompt add <texte>`" in text
        assert "• `texte` (obligatoire) : the test question" in text
        assert "Réservé aux hôtes." in text
        # A member asking about a host command is told it is for hosts, not that it does not exist.
        denied = (await h.command("ana", "/help command:prompt add"))[0].text
        assert f"`{prefix}prompt add` est réservé aux hôtes." in denied
        assert "The test question" not in denied


async def test_help_suggests_command_names_as_you_type() -> None:
    async with Harness("discord", cogs=[CoreCog, Hosting], hosts=["hana"]) as h:
        core = next(c for c in h.bot.cogs if isinstance(c, CoreCog))
        spec = h.bot.commands.get(("help",))
        assert spec is not None
        ctx_member = await h.bot.router.context(
            h.platform, h.platform.user("ana"), h.platform.channel, None
        )
        ctx_host = await h.bot.router.context(
            h.platform, h.platform.user("hana"), h.platform.channel, None
        )
        option = spec[0].options[0]
        assert [c.value for c in await core.suggest(spec[0], option, "pro", ctx_host)] == [
            "prompt add"
        ]
        assert await core.suggest(spec[0], option, "pro", ctx_member) == []


async def test_health_for_hosts_only(profile: str) -> None:
    async with Harness(profile, hosts=["hana"]) as h:
        await h.say("ana", "bonjour")  # the circle and its schedule exist from now on
        await h.command("hana", "/prompt now")
        await h.advance("7d")
        report = (await h.command("hana", "/circle health"))[0].text
        assert f"Adaptateur {profile} : connecté" in report
        # Jobs in words and in the circle's timezone (Paris), never as their internal keys.
        assert "• le rappel du tour n°1, sam. 10 janv., 08:00 : terminée" in report
        assert "rounds:" not in report and "+00:00" not in report
        denied = (await h.command("ana", "/circle health"))[0].text
        assert "réservé aux hôtes" in denied
