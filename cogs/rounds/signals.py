"""What the rounds cog announces to other cogs (through ``Bot.emit``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RoundOpened:
    """A round's prompt was posted."""

    round_id: int
    circle_id: int


@dataclass(frozen=True, slots=True)
class RoundClosed:
    """A round closed: time for its digest."""

    round_id: int
    circle_id: int
    #: Closed after its time (caught up after downtime).
    late: bool = False


@dataclass(frozen=True, slots=True)
class AnswerStored:
    """A new answer was stored in a round (digests embed answers as they come)."""

    round_id: int
    circle_id: int
