"""What the rounds and the circle's own commands both say: when, and which question is next.

The rounds cog schedules each circle's opening under :func:`opening_job`; ``/answer``,
``/prompt next`` and ``/circle status`` all tell members what comes next the same way.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from bot.context import CircleContext, Context
from bot.i18n import Translator
from bot.messenger import escape
from bot.scheduler import Scheduler
from cogs.rounds.bank import render
from storage import rounds as store
from storage.database import Database
from storage.models import Circle


def opening_job(circle_id: int | None) -> str:
    """The key of the job that opens a circle's rounds on its schedule."""
    return f"rounds:{circle_id}:open"


def when(t: Translator, circle: Circle, at: datetime) -> str:
    """A moment as the circle reads it: in its timezone and language."""
    return format_datetime(
        at, "EEEE d MMMM, HH:mm", tzinfo=ZoneInfo(circle.timezone), locale=t.locale
    )


def empty_bank(ctx: Context) -> str:
    """The bank is empty, and how to fill it."""
    return ctx.t._(
        "The bank is empty: add a question with {command}.",
        command=f"`{ctx.prefix}prompt add`",
    )


async def next_question(db: Database, scheduler: Scheduler, ctx: CircleContext) -> str:
    """Which question comes next in the circle of ``ctx``, and when."""
    bank = await store.prompts(db, ctx.circle_id)
    at = scheduler.next_fire_time(opening_job(ctx.circle.id))
    if not bank:
        return empty_bank(ctx)
    words = render(bank[0], ctx.circle.locale)
    if at is None:
        return ctx.t._("Next question: “{text}” (no date scheduled).", text=escape(words.text))
    return ctx.t._(
        "Next question, {when}: “{text}”",
        when=when(ctx.t, ctx.circle, at),
        text=escape(words.text),
    )
