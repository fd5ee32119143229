"""``/circle setup``: a circle's settings, shown as they are or changed all at once.

Without options it shows the settings (the schedule in words, the channels, the reach, the
digest); with some it validates every change first and applies all of them or none. The
schedule is given as cron (``schedule:``) or as a day and a time (``day:monday time:09:00``).
A new schedule never cuts the open round short: its slots before the round's close are
skipped, and the reply says so, with the date the next question is really posted.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_timedelta

from bot.cog import CircleContext, Cog, command
from bot.commands import Choice, OptionSpec, OptionType, Scope, UsageError
from bot.i18n import N_, Translator, local_name, translator
from bot.messenger import escape
from bot.platform import ChecksPing, HasHostsChannel
from bot.scheduler import cron, fire_times
from bot.types import Ping, Role
from cogs.circle.schedule import Slot, in_words, parse_day, parse_time, plain_slot
from cogs.rounds.shared import circle_ping, next_opening, opening_job, set_circle_ping, when
from storage import members
from storage import rounds as rounds_store
from storage.models import Circle
from storage.rounds import CircleSettings

_ROLE_RE: Final = re.compile(r"^\s*(?:<@&(?P<mention>\d{1,20})>|(?P<id>\d{1,20}))\s*$")
_LANGUAGES: Final = {"fr": "français", "en": "English"}

SETUP_OPTIONS: Final = [
    OptionSpec(
        "language",
        N_("fr or en"),
        choices=(Choice("fr", N_("French")), Choice("en", N_("English"))),
    ),
    OptionSpec("timezone", N_("An IANA timezone, e.g. Europe/Paris"), max_length=64),
    OptionSpec("day", N_("The day of the question: monday … sunday"), max_length=20),
    OptionSpec("time", N_("The time of the question, HH:MM"), max_length=8),
    OptionSpec("schedule", N_("When questions are posted, as cron: 0 9 * * mon"), max_length=100),
    OptionSpec(
        "round_days",
        N_("How many days a round stays open"),
        OptionType.NUMBER,
        min_value=0.25,
        max_value=30,
    ),
    OptionSpec(
        "reminder_hours",
        N_("Hours before the close for the reminder (0: none)"),
        OptionType.INTEGER,
        min_value=0,
        max_value=240,
    ),
    OptionSpec("charter", N_("The charter line shown with each question"), max_length=300),
    OptionSpec(
        "mention",
        N_("Mention members with the question and the reminder"),
        choices=(Choice("on", N_("on")), Choice("off", N_("off"))),
    ),
    OptionSpec("mention_role", N_("The role mentioned (Discord)"), max_length=40),
]


class SetupMixin(Cog):
    """``/circle setup``."""

    @command(
        "circle",
        "setup",
        description=N_("Show or change the circle's language, timezone, schedule and reach."),
        options=SETUP_OPTIONS,
        role=Role.HOST,
        scope=Scope.CIRCLE,
        private=True,
    )
    async def setup(self, ctx: CircleContext) -> None:
        """Validate every change first; apply all of them or none."""
        circle = ctx.circle
        db = self.services.db
        settings = await rounds_store.ensure_settings(
            db, circle.id or 0, now=self.services.clock.now()
        )
        if all(value is None for value in ctx.options.values()):
            await ctx.reply(await self._summary(ctx.t, circle, settings, ctx))
            return
        t = ctx.t
        o = ctx.options
        try:
            schedule = self._schedule_option(ctx, settings)
            ping, ping_given = self._ping_option(ctx)
        except UsageError as error:
            await ctx.reply(error.render(t, ctx.prefix))
            return
        problems: list[str] = []
        timezone = o["timezone"] or circle.timezone
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(
                t._(
                    "Unknown timezone “{tz}”: use a name such as Europe/Paris or America/Montreal.",
                    tz=escape(timezone),
                )
            )
        trigger = None
        if not problems:
            try:
                trigger = cron(schedule, timezone)
            except (ValueError, TypeError):
                problems.append(
                    t._(
                        "“{cron}” is not a schedule: write minute hour day month weekday, "
                        "e.g. 0 9 * * mon.",
                        cron=escape(schedule),
                    )
                )
        round_hours = (
            round(o["round_days"] * 24) if o["round_days"] is not None else settings.round_hours
        )
        reminder_hours = (
            o["reminder_hours"] if o["reminder_hours"] is not None else settings.reminder_hours
        )
        if trigger is not None:
            now = self.services.clock.now()
            upcoming = list(fire_times(trigger, now, now + timedelta(days=400)))[:2]
            if len(upcoming) == 2 and upcoming[1] - upcoming[0] < timedelta(hours=round_hours):
                problems.append(
                    t._(
                        "A round must close before the next question: it can last at most "
                        "{hours} hours with this schedule.",
                        hours=int((upcoming[1] - upcoming[0]).total_seconds() // 3600),
                    )
                )
            elif not upcoming:
                problems.append(t._("This schedule never fires."))
        if reminder_hours >= round_hours:
            problems.append(
                t._("The reminder must come before the close ({hours} hours).", hours=round_hours)
            )
        platform = ctx.platform
        if (
            ping is not None
            and isinstance(platform, ChecksPing)
            and not await platform.may_ping(ctx.channel, ping)
        ):
            problems.append(
                t._(
                    "I may not mention the whole room here: give me the power level the "
                    "room needs for @room notifications, then try again."
                )
            )
        if problems:
            await ctx.reply("\n".join(f"• {p}" for p in problems))
            return
        if o["language"] or o["timezone"]:
            circle = await members.update_circle(
                db, circle.id or 0, locale=o["language"] or circle.locale, timezone=timezone
            )
        settings = await rounds_store.update_settings(
            db,
            circle.id or 0,
            prompt_cron=schedule,
            round_hours=round_hours,
            reminder_hours=reminder_hours,
            charter_line=o["charter"] if o["charter"] is not None else settings.charter_line,
        )
        if ping_given:
            await set_circle_ping(db, circle.id or 0, ping, now=self.services.clock.now())
        # The rounds (and whoever keeps something per circle) follow the new settings.
        await self.services.directory.changed(circle)
        t = translator(circle.locale)
        lines = [t._("Settings saved."), ""]
        moved = o["schedule"] or o["day"] or o["time"] or o["timezone"]
        warning = await self._open_round_warning(t, circle) if moved else None
        lines.append(await self._summary(t, circle, settings, ctx))
        if warning:
            lines += ["", warning]
        await ctx.reply("\n".join(lines))

    def _schedule_option(self, ctx: CircleContext, settings: CircleSettings) -> str:
        """The cron line the options ask for: ``schedule:`` as given, or built from day and time."""
        o = ctx.options
        if o["schedule"] and (o["day"] or o["time"]):
            raise UsageError(ctx.spec, N_("Give either schedule: (cron) or day: and time:."))
        if o["schedule"]:
            return str(o["schedule"]).strip()
        if not (o["day"] or o["time"]):
            return settings.prompt_cron
        current = plain_slot(settings.prompt_cron) or Slot(9, 0, (0,))
        days = current.days if current.days is not None else (0,)
        hour, minute = current.hour, current.minute
        if o["day"]:
            day = parse_day(o["day"])
            if day is None:
                raise UsageError(
                    ctx.spec,
                    N_("“{day}” is not a day: write monday … sunday, or lundi … dimanche."),
                    day=escape(o["day"]),
                )
            days = (day,)
        if o["time"]:
            at = parse_time(o["time"])
            if at is None:
                raise UsageError(
                    ctx.spec,
                    N_("“{time}” is not a time: write HH:MM, e.g. 09:00."),
                    time=escape(o["time"]),
                )
            hour, minute = at
        return Slot(hour, minute, days).cron()

    def _ping_option(self, ctx: CircleContext) -> tuple[Ping | None, bool]:
        """The mention the options ask for, and whether they asked anything about it."""
        o = ctx.options
        kind = ctx.platform.capabilities.ping
        if o["mention"] is None and o["mention_role"] is None:
            return None, False
        if o["mention"] == "off":
            return None, True
        if kind == "role":
            found = _ROLE_RE.match(o["mention_role"] or "")
            if found is None:
                raise UsageError(
                    ctx.spec,
                    N_("Give the role to mention: mention_role:@role (its mention or its id)."),
                )
            return Ping(role=found["mention"] or found["id"]), True
        if kind == "room":
            if o["mention_role"] is not None:
                raise UsageError(
                    ctx.spec, N_("Here the mention is the whole room: use mention:on, no role.")
                )
            return Ping(), True
        raise UsageError(ctx.spec, N_("This platform has no mention for the bot to make."))

    async def _open_round_warning(self, t: Translator, circle: Circle) -> str | None:
        """What a new schedule does to the open round, when one of its slots falls inside it."""
        db = self.services.db
        current = await rounds_store.current_round(db, circle.id or 0)
        if current is None:
            return None
        slot = self.services.scheduler.next_fire_time(opening_job(circle.id))
        if slot is None or slot >= current.closes_at:
            return None
        upcoming = await next_opening(db, self.services.scheduler, circle.id or 0)
        return t._(
            "⚠️ Round #{n} is open until {close}: the new schedule does not cut it short, so its "
            "slot of {slot} is skipped. Next question: {next}.",
            n=current.number,
            close=when(t, circle, current.closes_at),
            slot=when(t, circle, slot),
            next=when(t, circle, upcoming) if upcoming else t._("none scheduled"),
        )

    async def _summary(
        self, t: Translator, circle: Circle, settings: CircleSettings, ctx: CircleContext
    ) -> str:
        """The circle's settings as hosts read them."""
        db = self.services.db
        length = format_timedelta(
            timedelta(hours=settings.round_hours), locale=t.locale, threshold=2
        )
        reminder = (
            t._("reminder {hours} h before the close", hours=settings.reminder_hours)
            if settings.reminder_hours
            else t._("no reminder")
        )
        lines = [
            t._("**Circle settings**"),
            "• " + t._("Language: {lang}", lang=_LANGUAGES.get(circle.locale, circle.locale)),
            "• " + t._("Timezone: {tz}", tz=circle.timezone),
            "• "
            + t._(
                "Questions: {schedule}",
                schedule=in_words(t, settings.prompt_cron, circle.timezone),
            ),
            "• " + t._("Rounds last {length}; {reminder}.", length=length, reminder=reminder),
        ]
        platform = ctx.platform
        channel = (
            platform.mention_channel(ctx.channel)
            if isinstance(platform, HasHostsChannel)
            else f"#{ctx.channel.name or ctx.channel.id}"
        )
        lines.append("• " + t._("Channel: {channel}", channel=channel))
        if isinstance(platform, HasHostsChannel):
            hosts = platform.hosts_channel(ctx.channel)
            lines.append(
                "• "
                + t._(
                    "Hosts' channel: {channel}",
                    channel=platform.mention_channel(hosts) if hosts else t._("none configured"),
                )
            )
        ping = await circle_ping(db, circle.id or 0)
        kind = platform.capabilities.ping
        if ping is None and kind:
            role = f"{local_name('mention_role', t.locale)}:{t._('@role')}"
            how = f"`mention:on {role}`" if kind == "role" else "`mention:on`"
            reach = t._("no mention (turn it on with {option})", option=how)
        elif ping is None:
            reach = t._("no mention")
        elif ping.role is None:
            reach = t._("@room with the question and the reminder, once each per round")
        else:
            reach = t._(
                "the role {role} with the question and the reminder, once each per round",
                role=f"`{ping.role}`",
            )
        lines.append("• " + t._("Reach: {reach}", reach=reach))
        lines.append(
            "• "
            + t._(
                "Digest: posted when a round closes; a profession with fewer than {n} answerers "
                "is counted among “other professions”.",
                n=self.services.config.digest.min_profession_size,
            )
        )
        upcoming = await next_opening(db, self.services.scheduler, circle.id or 0)
        lines.append(
            "• "
            + t._(
                "Next question: {when}.",
                when=when(t, circle, upcoming) if upcoming else t._("none scheduled"),
            )
        )
        return "\n".join(lines)
