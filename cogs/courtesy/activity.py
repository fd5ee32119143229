"""What members posted recently, for the flood and repeated-message rules.

Pure bookkeeping: the caller passes the time each message was *posted* (the platform's
timestamp in the bot, the ``at`` field in the batch tool), never the time it was read: a
backlog caught up in one burst after a downtime is counted as it was written. Nothing here
reads a clock.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

#: Members remembered at most; past it the one who posted least recently is forgotten first.
MOST_AUTHORS: Final = 20_000


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


def _when(entry: tuple[datetime, str]) -> datetime:
    return entry[0]


class Activity:
    """Recent messages per member, kept only as long as the windows need them.

    Members are kept in the order they last posted, so those idle past the windows are
    forgotten from the front as others post (a few at a time, never a sweep of the table),
    and at most :data:`MOST_AUTHORS` are remembered however many post at once.
    """

    def __init__(
        self, flood_window: timedelta, repeat_window: timedelta, *, most: int = MOST_AUTHORS
    ) -> None:
        self.flood_window = flood_window
        self.repeat_window = repeat_window
        self.most = most
        # A list per member, not a deque: most hold one or two messages, and a deque's
        # first block alone is ~600 bytes outside Python's small-object allocator.
        self._seen: OrderedDict[str, list[tuple[datetime, str]]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._seen)

    def record(self, author: str, fingerprint: str, at: datetime) -> Burst:
        """Remember one message posted at ``at`` and say how it compares with the earlier ones.

        Messages may come slightly out of order (a backlog beside live events): each is kept
        in its place by time and compared with those posted before it.
        """
        history = self._seen.get(author)
        if history is None:
            history = self._seen[author] = []
        else:
            self._seen.move_to_end(author)
        newest = max(at, history[-1][0]) if history else at
        horizon = newest - max(self.flood_window, self.repeat_window)
        del history[: bisect_left(history, horizon, key=_when)]
        history.insert(bisect_right(history, at, key=_when), (at, fingerprint))
        flood_from = at - self.flood_window
        repeat_from = at - self.repeat_window
        recent = sum(1 for when, _ in history if flood_from <= when <= at)
        repeats = sum(
            1 for when, text in history if repeat_from <= when <= at and text == fingerprint
        )
        self._forget_idle(horizon)
        return Burst(recent, repeats)

    def forget(self, author: str) -> None:
        """Drop what is remembered about a member (data erasure)."""
        self._seen.pop(author, None)

    def _forget_idle(self, horizon: datetime) -> None:
        while len(self._seen) > self.most:
            self._seen.popitem(last=False)
        while self._seen:
            first = next(iter(self._seen.values()))
            if first and first[-1][0] >= horizon:
                return
            self._seen.popitem(last=False)
