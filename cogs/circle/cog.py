"""The circle itself: its settings (language, timezone, schedule) and how the bot is doing.

``/circle status`` and ``/circle health`` live here, ``/circle setup`` in :mod:`~cogs.circle.setup`.
Changing a circle's settings emits :class:`~bot.types.CircleChanged`, so the cogs that keep
something per circle (the rounds' schedule) follow.
"""

from __future__ import annotations

from typing import Any

from babel.dates import format_timedelta

from bot.cog import CircleContext, Cog, CommandContext, command
from bot.commands import Scope
from bot.i18n import N_, Translator
from bot.messenger import escape
from bot.supervisor import TaskStatus
from bot.types import Role
from cogs.circle.jobs import job_words, moment, round_of, status_words
from cogs.circle.setup import SetupMixin
from cogs.professions import tag_for_key
from cogs.rounds.shared import next_question, when
from storage import jobs, ledger
from storage import rounds as rounds_store

_TASK_STATUS = {
    TaskStatus.RUNNING: N_("running since {since}"),
    TaskStatus.FINISHED: N_("finished at {since}"),
    TaskStatus.STOPPED: N_("stopped at {since}"),
}


class CircleCog(SetupMixin, Cog):
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
        runs = await jobs.recent_runs(self.services.db, 5)
        # Hosts read what a job does, for which round, and when in the circle's timezone.
        tz = ctx.circle.timezone if ctx.circle is not None else "UTC"
        circle_id = ctx.circle.id if ctx.circle is not None else None
        numbers = await self._round_numbers(
            [k for _, k in upcoming[:5]] + [r.job_key for r in runs]
        )
        lines += [
            f"• {job_words(t, key, numbers, circle_id)} → {moment(t, when, tz)}"
            for when, key in upcoming[:5]
        ]
        if runs:
            lines.append(t._("Last job runs:"))
            lines += [
                "• "
                + t._(
                    "{job}, {when}: {status}",
                    job=job_words(t, run.job_key, numbers, circle_id),
                    when=moment(t, run.scheduled_for, tz),
                    status=status_words(t, run.status),
                )
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
        lines += self._task_lines(t, tz)
        lines += await self._dead_letter_lines(ctx)
        await ctx.reply("\n".join(lines))

    async def _round_numbers(self, keys: list[str]) -> dict[int, int]:
        """The numbers of the rounds these jobs work on, by round id."""
        numbers: dict[int, int] = {}
        for round_id in {r for key in keys if (r := round_of(key)) is not None}:
            round_ = await rounds_store.get_round(self.services.db, round_id)
            if round_ is not None:
                numbers[round_id] = round_.number
        return numbers

    def _task_lines(self, t: Translator, tz: str) -> list[str]:
        """The supervised background tasks, and why the failing ones failed."""
        states = self.services.supervisor.states()
        if not states:
            return []
        lines = [t._("Background tasks:")]
        for task in states:
            since = moment(t, task.since, tz)
            if task.status is TaskStatus.RESTARTING:
                state = t.ngettext(
                    "restarting in {seconds} s (restarted {n} time)",
                    "restarting in {seconds} s (restarted {n} times)",
                    task.restarts,
                    seconds=round(task.retry_in or 0),
                )
            else:
                state = t._(_TASK_STATUS[task.status], since=since)
            line = f"• `{task.name}`: {state}"
            if task.last_error:
                line += " — " + t._(
                    "last failure {when}: {error}",
                    when=moment(t, task.failed_at, tz) if task.failed_at else "?",
                    error=escape(task.last_error[:200]),
                )
            lines.append(line)
        return lines

    async def _dead_letter_lines(self, ctx: CommandContext) -> list[str]:
        """The events of this channel the bot gave up on, newest first."""
        t = ctx.t
        tz = ctx.circle.timezone if ctx.circle is not None else "UTC"
        count, latest = await ledger.dead_letters(
            self.services.db, ctx.channel.platform, ctx.channel.id
        )
        if not count:
            return [t._("Events set aside in this channel: none.")]
        lines = [
            t._(
                "Events set aside in this channel (handled by no one after every retry): {n}; "
                "the latest:",
                n=count,
            )
        ]
        for dead in latest:
            lines.append(
                "• "
                + t.ngettext(
                    "{kind} at {when}, {n} attempt: {error}",
                    "{kind} at {when}, {n} attempts: {error}",
                    dead.attempts,
                    kind=dead.kind,
                    when=moment(t, dead.handled_at, tz),
                    error=escape((dead.error or "?")[:200]),
                )
            )
        return lines

    @command(
        "circle",
        "status",
        description=N_("Show the open round: time left, answers by profession."),
        scope=Scope.CIRCLE,
        private=True,
    )
    async def status(self, ctx: CircleContext) -> None:
        """The open round and who has spoken, by profession (never by name)."""
        t = ctx.t
        round_ = await rounds_store.latest_round(self.services.db, ctx.circle_id)
        if round_ is None or round_.status != rounds_store.ROUND_OPEN:
            upcoming = await next_question(self.services.db, self.services.scheduler, ctx)
            nothing_open = t._("No round is open right now. {next}", next=upcoming)
            if round_ is None:
                await ctx.reply(nothing_open)
                return
            header = [
                t._(
                    "**Round #{n}** (closed): “{text}”",
                    n=round_.number,
                    text=escape(round_.prompt_text),
                ),
            ]
        else:
            left = format_timedelta(
                round_.closes_at - self.services.clock.now(), locale=t.locale, threshold=1.1
            )
            header = [
                t._("**Round #{n}**: “{text}”", n=round_.number, text=escape(round_.prompt_text)),
                t._(
                    "Closes in {left} ({when}).",
                    left=left,
                    when=when(t, ctx.circle, round_.closes_at),
                ),
            ]
            nothing_open = ""
        answers = await rounds_store.public_answers(self.services.db, round_.id or 0)
        comments = await rounds_store.public_comments(self.services.db, round_.id or 0)
        lines = [
            *header,
            t._(
                "{answers} and {comments} so far.",
                answers=t.ngettext("{n} answer", "{n} answers", len(answers)),
                comments=t.ngettext("{n} comment", "{n} comments", len(comments)),
            ),
        ]
        by_profession: dict[str, list[int]] = {}
        for a in answers:
            by_profession.setdefault(a.profession_key or "", [0, 0])[0] += 1
        for c in comments:
            by_profession.setdefault(c.profession_key or "", [0, 0])[1] += 1
        for key, (n_answers, n_comments) in sorted(
            by_profession.items(), key=lambda kv: (-kv[1][0], kv[0])
        ):
            label = tag_for_key(key).label(t.locale) if key else t._("profession not given")
            counts = t._(
                "{profession}: {answers}, {comments}",
                profession=label,
                answers=t.ngettext("{n} answer", "{n} answers", n_answers),
                comments=t.ngettext("{n} comment", "{n} comments", n_comments),
            )
            lines.append(f"• {counts}")
        if nothing_open:
            lines += ["", nothing_open]
        await ctx.reply("\n".join(lines))

    # ------------------------------------------------------------ member data

    async def export_member_data(self, member_id: int) -> dict[str, Any]:
        """Circle settings are not about members."""
        return {}

    async def erase_member_data(self, member_id: int) -> None:
        """Circle settings are not about members."""
