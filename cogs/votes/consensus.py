"""Consensus by profession over private votes, pure functions (Polis's statistics).

For each statement and each profession, the agree share is smoothed as Polis does,
``(agree + 1) / (votes + 2)`` (a pass is a vote: it counts in the denominator), so one vote
never reads as unanimity. A statement's **group-aware consensus** is the product of those
shares over every profession of the round: a profession that did not vote on it counts 1/2,
so statements stay comparable. A statement is ranked only once enough members voted on it
(``min_voters`` voters from ``min_professions`` professions). **Bridging** statements are
the ranked ones every voting profession agrees with by a majority, highest consensus first;
**cruxes** are the others where professions' agree shares spread widest.

Re-identification guard: a profession with fewer than ``min_group`` voters in the round is
never shown alone; its votes are pooled with those of members without a recognised
profession into :data:`POOLED` ("other professions").
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

#: The group of professions too small to be shown alone, of members whose profession was
#: not recognised (the professions' ``other`` key) and of those who gave none: "other
#: professions", as the digest writes it.
POOLED: Final = "other"
#: Keys that never name one profession.
UNNAMED: Final = frozenset({"", POOLED})
MIN_VOTERS: Final = 5
MIN_PROFESSIONS: Final = 2
MIN_GROUP: Final = 3
#: How far apart professions' agree shares must be for a crux.
MIN_SPREAD: Final = 0.25


class CastLike(Protocol):
    """One vote: who, on what, which choice, with which profession."""

    @property
    def statement_id(self) -> int: ...
    @property
    def member_id(self) -> int: ...
    @property
    def choice(self) -> str: ...
    @property
    def profession(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Tally:
    """The votes of one profession (or the pooled group) on one statement."""

    profession: str
    agree: int = 0
    disagree: int = 0
    passed: int = 0

    @property
    def votes(self) -> int:
        """Every vote, passes included."""
        return self.agree + self.disagree + self.passed

    @property
    def share(self) -> float:
        """The smoothed agree share, ``(agree + 1) / (votes + 2)``."""
        return smoothed(self.agree, self.votes)


@dataclass(frozen=True, slots=True)
class Scored:
    """A statement's standing across professions."""

    statement_id: int
    #: Per group (profession, or :data:`POOLED`), most votes first.
    tallies: tuple[Tally, ...]
    voters: int
    #: Distinct professions among its voters (members without one not counted).
    professions: int
    consensus: float
    spread: float
    #: Enough voters from enough professions to be compared with the others.
    ranked: bool

    @property
    def agree(self) -> int:
        """Agree votes, all groups together."""
        return sum(t.agree for t in self.tallies)


def smoothed(agree: int, votes: int) -> float:
    """Polis's smoothed probability of agreement: ``(agree + 1) / (votes + 2)``."""
    return (agree + 1) / (votes + 2)


def groups(casts: Iterable[CastLike], *, min_group: int = MIN_GROUP) -> dict[int, str]:
    """Each voter's group: their profession if it has ``min_group`` voters, else pooled."""
    latest: dict[int, str] = {}
    for cast in casts:
        latest[cast.member_id] = cast.profession
    sizes = Counter(latest.values())
    big = {p for p, n in sizes.items() if p not in UNNAMED and n >= min_group}
    return {member: p if p in big else POOLED for member, p in latest.items()}


def score(
    casts: Sequence[CastLike],
    *,
    min_voters: int = MIN_VOTERS,
    min_professions: int = MIN_PROFESSIONS,
    min_group: int = MIN_GROUP,
) -> list[Scored]:
    """Every voted statement's standing, in statement order.

    A member's group comes from the profession of their latest vote in ``casts`` (in the
    order given), so one member is in one group for the whole round.
    """
    group_of = groups(casts, min_group=min_group)
    counts: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    voters: dict[int, set[int]] = defaultdict(set)
    professions: dict[int, set[str]] = defaultdict(set)
    column = {"agree": 0, "disagree": 1, "pass": 2}
    for cast in casts:
        index = column.get(cast.choice)
        if index is None:
            continue
        counts[cast.statement_id][group_of[cast.member_id]][index] += 1
        voters[cast.statement_id].add(cast.member_id)
        if cast.profession not in UNNAMED:
            professions[cast.statement_id].add(cast.profession)
    every_group = sorted({g for by in counts.values() for g in by})
    out = []
    for statement_id in sorted(counts):
        by = counts[statement_id]
        tallies = tuple(
            sorted(
                (Tally(g, *by[g]) for g in by),
                key=lambda t: (t.profession == POOLED, -t.votes, t.profession),
            )
        )
        shares = {t.profession: t.share for t in tallies}
        consensus = math.prod(shares.get(g, 0.5) for g in every_group)
        spread = max(shares.values()) - min(shares.values()) if len(shares) >= 2 else 0.0
        out.append(
            Scored(
                statement_id=statement_id,
                tallies=tallies,
                voters=len(voters[statement_id]),
                professions=len(professions[statement_id]),
                consensus=consensus,
                spread=spread,
                ranked=len(voters[statement_id]) >= min_voters
                and len(professions[statement_id]) >= min_professions,
            )
        )
    return out


def agreed_by_all(s: Scored) -> bool:
    """Every group that voted agrees by a majority (smoothed share above one half)."""
    return bool(s.tallies) and all(t.share > 0.5 for t in s.tallies)


def bridging(scored: Iterable[Scored], *, limit: int = 3) -> list[Scored]:
    """Ranked statements every profession agrees with, highest consensus first."""
    found = [s for s in scored if s.ranked and agreed_by_all(s)]
    found.sort(key=lambda s: (-s.consensus, -s.voters, s.statement_id))
    return found[:limit]


def cruxes(
    scored: Iterable[Scored], *, limit: int = 3, min_spread: float = MIN_SPREAD
) -> list[Scored]:
    """Ranked statements professions split on, widest spread of agree shares first.

    A statement every profession agrees with is a bridge, never a crux.
    """
    found = [
        s for s in scored if s.ranked and not agreed_by_all(s) and s.spread >= min_spread - 1e-12
    ]
    found.sort(key=lambda s: (-s.spread, -s.voters, s.statement_id))
    return found[:limit]


def by_statement(scored: Iterable[Scored]) -> Mapping[int, Scored]:
    """The standings by statement id."""
    return {s.statement_id: s for s in scored}
