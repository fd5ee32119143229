"""The core cog: ``/help``, generated from the command specs, in the circle's language."""

from __future__ import annotations

from typing import Any

from bot.cog import Cog, CommandContext, Context, command
from bot.commands import Choice, CommandSpec, OptionSpec, describe, help_index
from bot.i18n import N_


class CoreCog(Cog):
    """Help for members and hosts."""

    name = "core"

    @command(
        "help",
        description=N_("Show the commands I know, or the details of one."),
        options=[
            OptionSpec(
                "command",
                N_("A command to explain, for example: prompt add"),
                rest=True,
                max_length=64,
                autocomplete=True,
            )
        ],
        private=True,
    )
    async def help(self, ctx: CommandContext) -> None:
        """Answer with the index of commands, or the details of the named ones."""
        t = ctx.t
        visible = [spec for spec in self.services.commands.specs if spec.role <= ctx.role]
        name = ctx.options["command"]
        if not name:
            intro = t._(
                "I run this collective intelligence circle: every week a question for all "
                "professions, your answers tagged with your profession, and a digest of what "
                "professions share and what sets them apart."
            )
            await ctx.reply(intro + "\n\n" + help_index(visible, t, ctx.prefix, ctx.role))
            return
        matches = [spec for spec in self.services.commands.find(name) if spec.role <= ctx.role]
        if not matches:
            await ctx.reply(
                t._("I know no command called {name}.", name=f"`{ctx.prefix}{name.strip()}`")
                + "\n\n"
                + help_index(visible, t, ctx.prefix, ctx.role)
            )
            return
        await ctx.reply("\n\n".join(describe(spec, t, ctx.prefix) for spec in matches))

    async def suggest(
        self, spec: CommandSpec, option: OptionSpec, partial: str, ctx: Context
    ) -> list[Choice]:
        """Command names that start with what the member typed."""
        typed = partial.strip().lower()
        return [
            Choice(s.qualified_name, s.qualified_name)
            for s in self.services.commands.specs
            if s.role <= ctx.role and s.qualified_name.startswith(typed)
        ][:25]

    async def export_member_data(self, member_id: int) -> dict[str, Any]:
        """The help cog stores nothing about members."""
        return {}

    async def erase_member_data(self, member_id: int) -> None:
        """The help cog stores nothing about members."""
