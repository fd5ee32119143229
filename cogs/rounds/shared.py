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
from bot.types import Ping
from cogs.rounds.bank import render
from storage import rounds as store
from storage import state
from storage.database import Database
from storage.models import Circle


def opening_job(circle_id: int | None) -> str:
    """The key of the job that opens a circle's rounds on its schedule."""
    return f"rounds:{circle_id}:open"


#: Where a circle's opt-in mention is kept (``room`` or ``role:<id>``; absent: none).
_PING_STATE = "circle"


def _ping_key(circle_id: int) -> str:
    return f"ping:{circle_id}"


async def circle_ping(db: Database, circle_id: int) -> Ping | None:
    """The mention hosts opted into for the question and the reminder, if any (off by default)."""
    value = await state.get_state(db, _PING_STATE, _ping_key(circle_id))
    if not value:
        return None
    return Ping(role=value.removeprefix("role:") if value.startswith("role:") else None)


async def set_circle_ping(
    db: Database, circle_id: int, ping: Ping | None, *, now: datetime
) -> None:
    """Opt into a mention for the circle's question and reminder (``None``: none)."""
    if ping is None:
        await state.delete_state(db, _PING_STATE, _ping_key(circle_id))
        return
    value = "room" if ping.role is None else f"role:{ping.role}"
    await state.set_state(db, _PING_STATE, _ping_key(circle_id), value, now=now)


async def next_opening(db: Database, scheduler: Scheduler, circle_id: int) -> datetime | None:
    """When the circle's next question is posted, as the rounds will do it.

    The schedule never cuts a round short: the slots before the open round's close are
    skipped (:meth:`~cogs.rounds.lifecycle.LifecycleMixin.open_round`), so they are never
    promised either.
    """
    current = await store.current_round(db, circle_id)
    return scheduler.next_fire_time(
        opening_job(circle_id), not_before=current.closes_at if current is not None else None
    )


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
    at = await next_opening(db, scheduler, ctx.circle_id)
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
