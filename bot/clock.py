"""The injected clock: cogs and the scheduler ask it the time, never the wall clock."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Tells the time (always timezone-aware, in UTC)."""

    def now(self) -> datetime:
        """The current instant."""


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        """The current instant."""
        return datetime.now(UTC)


class FakeClock:
    """A clock that moves only when told to: for tests, demos and ``--clock fake``."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        """The simulated instant."""
        return self._now

    def set(self, when: datetime) -> None:
        """Jump to ``when`` (never backwards)."""
        when = when.astimezone(UTC)
        if when < self._now:
            raise ValueError("the fake clock never goes back in time")
        self._now = when

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta`` and return the new time."""
        self.set(self._now + delta)
        return self._now


_DURATION_RE = re.compile(r"(\d+)\s*([wdhms])")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def parse_duration(text: str) -> timedelta:
    """Parse ``3d``, ``2h30m`` or ``1w`` into a duration.

    Raises:
        ValueError: the text is not a positive duration in that form.
    """
    compact = text.strip().lower().replace(" ", "")
    parts = _DURATION_RE.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact:
        raise ValueError(f"not a duration: {text.strip()!r} (examples: 3d, 2h, 1d12h, 45m)")
    delta = timedelta()
    for number, unit in parts:
        delta += timedelta(**{_UNITS[unit]: int(number)})
    if delta <= timedelta():
        raise ValueError("the duration must be positive")
    return delta
