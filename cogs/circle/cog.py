"""The circle itself: its settings (language, timezone, schedule) and how the bot is doing.

``/circle setup`` and ``/circle status`` for hosts live here, as does ``/circle health``.
Changing a circle's settings emits :class:`~bot.types.CircleChanged`, so the cogs that keep
something per circle (the rounds' schedule) follow.
"""

from __future__ import annotations

from typing import Any

from bot.cog import Cog, CommandContext, command
from bot.i18n import N_
from bot.types import Role
from storage import jobs


class CircleCog(Cog):
    """A circle's settings and the bot's health, for hosts."""

    name = "circle"

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
        lines = [t._("**Health**")]
        for platform in self.services.platforms:
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
        metrics = self.services.metrics
        handled = sum(
            metrics.value("cercle_messages_handled_total", platform=p.name, kind=kind)
            for p in self.services.platforms
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

    async def export_member_data(self, member_id: int) -> dict[str, Any]:
        """Circle settings are not about members."""
        return {}

    async def erase_member_data(self, member_id: int) -> None:
        """Circle settings are not about members."""
