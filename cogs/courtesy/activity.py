"""What members posted recently, for the flood and repeated-message rules.

Pure bookkeeping: the caller passes the time of each message (the injected clock in the bot,
the ``at`` field in the batch tool); nothing here reads a clock.
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


class Activity:
    """Recent messages per member, kept only as long as the windows need them."""

    def __init__(self, flood_window: timedelta, repeat_window: timedelta) -> None:
        self.flood_window = flood_window
        self.repeat_window = repeat_window
        self._seen: dict[str, deque[tuple[datetime, str]]] = {}

    def record(self, author: str, fingerprint: str, now: datetime) -> Burst:
        """Remember one message and say how it compares with the recent ones."""
        history = self._seen.setdefault(author, deque())
        horizon = now - max(self.flood_window, self.repeat_window)
        while history and history[0][0] < horizon:
            history.popleft()
        history.append((now, fingerprint))
        flood_from = now - self.flood_window
        repeat_from = now - self.repeat_window
        recent = sum(1 for at, _ in history if at >= flood_from)
        repeats = sum(1 for at, text in history if at >= repeat_from and text == fingerprint)
        if len(self._seen) > _PRUNE_AT:
            self._prune(horizon)
        return Burst(recent, repeats)

    def forget(self, author: str) -> None:
        """Drop what is remembered about a member (data erasure)."""
        self._seen.pop(author, None)

    def _prune(self, horizon: datetime) -> None:
        for author in [a for a, h in self._seen.items() if not h or h[-1][0] < horizon]:
            del self._seen[author]
