"""The core cog: ``/help``, generated from the command specs, in the circle's language."""

from __future__ import annotations

from typing import Any

from bot.cog import Cog, CommandContext, Context, command
from bot.commands import Choice, CommandSpec, OptionSpec, describe, help_index
from bot.i18n import N_, english_path


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
        known = self._find(name)
        matches = [spec for spec in known if spec.role <= ctx.role]
        if not matches:
            shown = f"`{ctx.prefix}{' '.join(name.lower().lstrip('/!').split())}`"
            problem = (
                t._("{name} is for hosts only.", name=shown)
                if known
                else t._("I know no command called {name}.", name=shown)
            )
            await ctx.reply(problem + "\n\n" + help_index(visible, t, ctx.prefix, ctx.role))
            return
        await ctx.reply("\n\n".join(describe(spec, t, ctx.prefix) for spec in matches))

    def _find(self, name: str) -> list[CommandSpec]:
        """Commands named by their path (``prompt``, ``prompt add``) or by a subcommand alone
        (``add``), in English or in French."""
        words = tuple(english_path(name.lower().lstrip("/!").split()))
        specs = self.services.commands.specs
        found = [spec for spec in specs if words and spec.path[: len(words)] == words]
        if not found and len(words) == 1:
            found = [spec for spec in specs if len(spec.path) == 2 and spec.path[1] == words[0]]
        return found

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
