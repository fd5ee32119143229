"""What members posted recently, for the flood and repeated-message rules.

Pure bookkeeping: the caller passes the time each message was *posted* (the platform's
timestamp in the bot, the ``at`` field in the batch tool), never the time it was read: a
backlog caught up in one burst after a downtime is counted as it was written. Nothing here
reads a clock.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

#: Forget members idle for longer than this when the table grows past ``_PRUNE_AT``.
_PRUNE_AT: Final = 5_000


@dataclass(frozen=True, slots=True)
class Burst:
    """How busy a member is, counting the message just recorded."""

    #: Messages within the flood window.
    recent: int
    #: Messages with this very text within the repeat window.
    repeats: int


def posted_at(at: datetime | None, now: datetime) -> datetime:
    """When a message was posted: the platform's timestamp, else (absent) ``now``.

    A timestamp without a zone or at the epoch (a Matrix event without ``origin_server_ts``)
    is no timestamp at all.
    """
    if at is None or at.tzinfo is None or at.timestamp() <= 0:
        return now
    return at


class Activity:
    """Recent messages per member, kept only as long as the windows need them."""

    def __init__(self, flood_window: timedelta, repeat_window: timedelta) -> None:
        self.flood_window = flood_window
        self.repeat_window = repeat_window
        self._seen: dict[str, deque[tuple[datetime, str]]] = {}
        self._prune_at = _PRUNE_AT

    def record(self, author: str, fingerprint: str, at: datetime) -> Burst:
        """Remember one message posted at ``at`` and say how it compares with the earlier ones.

        Messages may come slightly out of order (a backlog beside live events): each is kept
        in its place by time and compared with those posted before it.
        """
        history = self._seen.setdefault(author, deque())
        newest = max(at, history[-1][0]) if history else at
        horizon = newest - max(self.flood_window, self.repeat_window)
        while history and history[0][0] < horizon:
            history.popleft()
        if history and history[-1][0] > at:
            place = len(history)
            while place and history[place - 1][0] > at:
                place -= 1
            history.insert(place, (at, fingerprint))
        else:
            history.append((at, fingerprint))
        flood_from = at - self.flood_window
        repeat_from = at - self.repeat_window
        recent = sum(1 for when, _ in history if flood_from <= when <= at)
        repeats = sum(
            1 for when, text in history if repeat_from <= when <= at and text == fingerprint
        )
        if len(self._seen) > self._prune_at:
            self._prune(horizon)
            # Many members active at once: the next sweep waits until the table doubles,
            # not one sweep of every member for each message.
            self._prune_at = max(_PRUNE_AT, 2 * len(self._seen))
        return Burst(recent, repeats)

    def forget(self, author: str) -> None:
        """Drop what is remembered about a member (data erasure)."""
        self._seen.pop(author, None)

    def _prune(self, horizon: datetime) -> None:
        for author in [a for a, h in self._seen.items() if not h or h[-1][0] < horizon]:
            del self._seen[author]
