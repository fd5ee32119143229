"""A circle's schedule in words, and the day-and-time form hosts may give instead of cron.

``/circle setup day:monday time:09:00`` becomes ``0 9 * * mon``; ``0 9 * * mon`` reads "every
Monday at 09:00 (Europe/Paris)" or "chaque lundi à 09:00 (Europe/Paris)". A schedule that is
not a plain weekly or daily time (``*/5 …``, day-of-month fields) is shown as its cron.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from babel.dates import get_day_names
from babel.lists import format_list

from bot.i18n import Translator

#: Cron's day names, Monday first (the index babel's day names use too).
DAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_DAY_WORDS: Final = {
    **{name: i for i, name in enumerate(DAYS)},
    **{
        name: i
        for i, name in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
    **{
        name: i
        for i, name in enumerate(
            ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
        )
    },
    **{name: i for i, name in enumerate(("lun", "mar", "mer", "jeu", "ven", "sam", "dim"))},
}
_TIME_RE: Final = re.compile(r"^\s*(?P<h>[01]?\d|2[0-3])\s*[:hH]\s*(?P<m>[0-5]\d)?\s*$")
_NUMBER_RE: Final = re.compile(r"^\d{1,2}$")


@dataclass(frozen=True, slots=True)
class Slot:
    """A plain schedule: one time of day, on some days of the week (``None``: every day)."""

    hour: int
    minute: int
    days: tuple[int, ...] | None

    def cron(self) -> str:
        """The crontab line of this slot."""
        days = "*" if self.days is None else ",".join(DAYS[d] for d in self.days)
        return f"{self.minute} {self.hour} * * {days}"


def parse_day(text: str) -> int | None:
    """A day of the week in English or French (``monday``, ``lundi``, ``mon``); 0 is Monday."""
    return _DAY_WORDS.get(text.strip().casefold())


def parse_time(text: str) -> tuple[int, int] | None:
    """``09:00``, ``9:30`` or ``9h30`` as (hour, minute); ``None`` when it is not a time."""
    match = _TIME_RE.match(text)
    if match is None:
        return None
    return int(match["h"]), int(match["m"] or 0)


def plain_slot(expression: str) -> Slot | None:
    """The slot a cron line describes, if it is a plain weekly or daily time."""
    fields = expression.split()
    if len(fields) != 5:
        return None
    minute, hour, day_of_month, month, weekday = fields
    if not (_NUMBER_RE.match(minute) and _NUMBER_RE.match(hour)):
        return None
    if day_of_month != "*" or month != "*" or int(minute) > 59 or int(hour) > 23:
        return None
    if weekday == "*":
        return Slot(int(hour), int(minute), None)
    days: list[int] = []
    for part in weekday.lower().split(","):
        first, _, last = part.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            return None  # numbers are left as cron: crontab and APScheduler count them apart
        start, end = DAYS.index(first), DAYS.index(last or first)
        if end < start:
            return None
        days.extend(range(start, end + 1))
    return Slot(int(hour), int(minute), tuple(sorted(set(days))))


def in_words(t: Translator, expression: str, timezone: str) -> str:
    """The schedule as hosts read it: "every Monday at 09:00 (Europe/Paris)"."""
    slot = plain_slot(expression)
    if slot is None:
        return t._("{cron} (cron, {tz})", cron=f"`{expression}`", tz=timezone)
    at = f"{slot.hour:02d}:{slot.minute:02d}"
    if slot.days is None or len(slot.days) == 7:
        return t._("every day at {time} ({tz})", time=at, tz=timezone)
    names = get_day_names("wide", locale=t.locale)
    days = format_list([str(names[d]) for d in slot.days], locale=t.locale)
    return t._("every {days} at {time} ({tz})", days=days, time=at, tz=timezone)
