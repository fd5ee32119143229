"""The core cog: ``/help``, generated from the command specs, in the circle's language."""

from __future__ import annotations

from typing import Any

from bot.cog import Cog, CommandContext, Context, command
from bot.commands import Choice, CommandSpec, OptionSpec, describe, help_index
from bot.i18n import N_
from bot.types import Role
from storage import jobs


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
        visible = [spec for spec in self.services.bot.specs if spec.role <= ctx.role]
        name = ctx.options["command"]
        if not name:
            intro = t._(
                "I run this collective intelligence circle: every week a question for all "
                "professions, your answers tagged with your profession, and a digest of what "
                "professions share and what sets them apart."
            )
            await ctx.reply(intro + "\n\n" + help_index(visible, t, ctx.prefix, ctx.role))
            return
        matches = [spec for spec in self.services.bot.commands.find(name) if spec.role <= ctx.role]
        if not matches:
            await ctx.reply(
                t._("I know no command called {name}.", name=f"`{ctx.prefix}{name.strip()}`")
                + "\n\n"
                + help_index(visible, t, ctx.prefix, ctx.role)
            )
            return
        await ctx.reply("\n\n".join(describe(spec, t, ctx.prefix) for spec in matches))

    @command(
        "circle",
        "health",
        description=N_("Show whether the bot is well: adapters, scheduled jobs, queues."),
        role=Role.HOST,
        private=True,
    )
    async def health(self, ctx: CommandContext) -> None:
        """Adapters connected, jobs and their last runs, queue sizes, activity counters."""
        t = ctx.t
        bot = self.services.bot
        lines = [t._("**Health**")]
        for platform in bot.platforms:
            connected = getattr(platform, "connected", None)
            state = t._("connected") if connected is not False else t._("disconnected")
            lines.append(t._("Adapter {name}: {state}", name=platform.name, state=state))
        scheduler = self.services.scheduler
        upcoming = sorted(
            (when, key)
            for key in scheduler.jobs
            if (when := scheduler.next_fire_time(key)) is not None
        )
        lines.append(t._("Scheduled jobs: {n}", n=len(scheduler.jobs)))
        lines += [f"• `{key}` → {when.isoformat(timespec='minutes')}" for when, key in upcoming[:5]]
        runs = await jobs.recent_runs(self.services.db, 5)
        if runs:
            lines.append(t._("Last job runs:"))
            lines += [
                f"• `{run.job_key}` {run.scheduled_for.isoformat(timespec='minutes')}: {run.status}"
                for run in runs
            ]
        metrics = bot.metrics
        handled = sum(
            metrics.value("cercle_messages_handled_total", platform=p.name, kind=kind)
            for p in bot.platforms
            for kind in ("MessagePosted", "CommandInvoked")
        )
        lines.append(
            t._(
                "Messages and commands handled: {handled}; writes queued: {queued}; "
                "commands throttled: {throttled}.",
                handled=int(handled),
                queued=self.services.db.pending_writes,
                throttled=int(metrics.value("cercle_commands_throttled_total")),
            )
        )
        await ctx.reply("\n".join(lines))

    async def suggest(
        self, spec: CommandSpec, option: OptionSpec, partial: str, ctx: Context
    ) -> list[Choice]:
        """Command names that start with what the member typed."""
        typed = partial.strip().lower()
        return [
            Choice(s.qualified_name, s.qualified_name)
            for s in self.services.bot.specs
            if s.role <= ctx.role and s.qualified_name.startswith(typed)
        ][:25]

    async def export_member_data(self, member_id: int) -> dict[str, Any]:
        """The help cog stores nothing about members."""
        return {}

    async def erase_member_data(self, member_id: int) -> None:
        """The help cog stores nothing about members."""
