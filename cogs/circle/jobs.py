"""Scheduled jobs and moments as hosts read them: in words and in the circle's timezone.

Job keys (``rounds:round:2:remind``) and run statuses are the scheduler's own vocabulary;
``/circle health`` says what each job does, for which round, and when, instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from bot.i18n import N_, Translator

_OPEN: Final = re.compile(r"rounds:(\d+):open")
_ROUND_JOB: Final = re.compile(r"rounds:round:(\d+):(remind|close)")
_DRAFT: Final = re.compile(r"votes:round:(\d+):draft:(\d+)")
_EMBED: Final = re.compile(r"digest:embed:(\d+):.*")
_ROUND_ID: Final = re.compile(r"(?:rounds|votes|digest):(?:round:|embed:)?(\d+):")

_PLAIN: Final[Mapping[str, str]] = {
    "cercle:ledger-prune": N_("daily clean-up of the handled events"),
}
_STATUS: Final[Mapping[str, str]] = {
    "done": N_("done"),
    "failed": N_("failed"),
    "running": N_("running"),
}


def round_of(key: str) -> int | None:
    """The id of the round a job works on (``None`` for a circle's or the bot's own job)."""
    if _OPEN.fullmatch(key):
        return None
    match = _ROUND_ID.match(key)
    return int(match.group(1)) if match else None


def job_words(t: Translator, key: str, numbers: Mapping[int, int], circle_id: int | None) -> str:
    """What the job ``key`` does, in words; ``numbers`` maps round ids to their numbers."""

    def number(round_id: str) -> str:
        return str(numbers.get(int(round_id), "?"))

    if match := _OPEN.fullmatch(key):
        if circle_id is not None and int(match.group(1)) == circle_id:
            return t._("the next question")
        return t._("another circle's next question")
    if match := _ROUND_JOB.fullmatch(key):
        if match.group(2) == "remind":
            return t._("the reminder of round #{n}", n=number(match.group(1)))
        return t._("the close of round #{n}", n=number(match.group(1)))
    if match := _DRAFT.fullmatch(key):
        return t._(
            "statements drafted for round #{n} ({percent} % of the round)",
            n=number(match.group(1)),
            percent=match.group(2),
        )
    if match := _EMBED.fullmatch(key):
        return t._("preparing the digest of round #{n}", n=number(match.group(1)))
    if key in _PLAIN:
        return t._(_PLAIN[key])
    return t._("a background job")


def status_words(t: Translator, status: str) -> str:
    """A job run's status in words."""
    return t._(_STATUS[status]) if status in _STATUS else status


def moment(t: Translator, at: datetime, timezone: str) -> str:
    """A moment in the reader's language and the circle's timezone (``lun. 5 janv., 09:00``)."""
    return format_datetime(at, "EEE d MMM, HH:mm", tzinfo=ZoneInfo(timezone), locale=t.locale)
