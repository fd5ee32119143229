"""Autocomplete through the core: ``Router.suggest`` asks the cog owning the command."""

from __future__ import annotations

from typing import Any

from bot.cog import Cog, CommandContext, Context, command
from bot.commands import Choice, CommandSpec, OptionSpec
from bot.testing import Harness
from bot.types import Role
from cogs.core import CoreCog


class Fruits(Cog):
    """Suggests fruits; fails on demand; has a host-only command."""

    name = "fruits"

    @command(
        "fruit", description="Pick.", options=[OptionSpec("name", "A fruit", autocomplete=True)]
    )
    async def fruit(self, ctx: CommandContext) -> None:
        await ctx.reply(ctx.options["name"] or "")

    @command(
        "stock",
        description="Hosts: stock.",
        options=[OptionSpec("name", "A fruit", autocomplete=True), OptionSpec("plain", "No")],
        role=Role.HOST,
    )
    async def stock(self, ctx: CommandContext) -> None:
        await ctx.reply("ok")

    async def suggest(
        self, spec: CommandSpec, option: OptionSpec, partial: str, ctx: Context
    ) -> list[Choice]:
        if partial == "boom":
            raise RuntimeError("broken suggestions")
        return [Choice(f, f.title()) for f in ("apple", "apricot", "kiwi") if f.startswith(partial)]

    async def export_member_data(self, member_id: int) -> dict[str, Any]:
        return {}

    async def erase_member_data(self, member_id: int) -> None:
        return None


async def test_suggestions_come_from_the_owning_cog() -> None:
    async with Harness("discord", cogs=[CoreCog, Fruits], hosts=["hana"]) as h:
        assert await h.platform.suggest("ana", "fruit", "name", "ap") == [
            Choice("apple", "Apple"),
            Choice("apricot", "Apricot"),
        ]
        helped = await h.platform.suggest("ana", "help", "command", "fr")
        assert [c.value for c in helped] == ["fruit"]  # CoreCog: commands ana may run


async def test_no_suggestions_where_the_member_may_not_run_the_command() -> None:
    async with Harness("discord", cogs=[CoreCog, Fruits], hosts=["hana"]) as h:
        assert await h.platform.suggest("ana", "stock", "name", "") == []
        assert len(await h.platform.suggest("hana", "stock", "name", "")) == 3
        assert await h.platform.suggest("hana", "stock", "plain", "") == []  # not autocomplete
        assert await h.platform.suggest("hana", "nothing", "name", "") == []


async def test_a_failing_cog_gives_no_suggestions_and_is_logged(caplog: Any) -> None:
    async with Harness("discord", cogs=[CoreCog, Fruits]) as h:
        assert await h.platform.suggest("ana", "fruit", "name", "boom") == []
    assert "suggestions for fruit failed" in caplog.text
