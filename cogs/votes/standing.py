"""Where professions agree and where they differ, from a round's votes: the digest's hook.

:func:`standing` reads the votes and ranks the statements (:mod:`~cogs.votes.consensus`);
the result is plain data the digest stores with itself (:meth:`Standing.as_dict`) and shows
with :func:`sections`. Counts are per profession; a profession with fewer than
:data:`~cogs.votes.consensus.MIN_GROUP` voters in the round is counted with "other
professions", so no vote can be traced to a person.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Final

from bot.i18n import Translator
from bot.messenger import escape
from cogs.professions import tag_for_key
from cogs.votes import consensus
from storage import votes as store
from storage.database import Database

if TYPE_CHECKING:
    from bot.config import VotesSettings

#: Statements shown in each of the two sections.
SHOWN: Final = 3


@dataclass(frozen=True, slots=True)
class Count:
    """How one profession (or "other professions") voted on a statement."""

    profession: str
    agree: int
    disagree: int
    passed: int

    @property
    def votes(self) -> int:
        """Every vote, passes included."""
        return self.agree + self.disagree + self.passed


@dataclass(frozen=True, slots=True)
class Entry:
    """A ranked statement with its votes by profession."""

    statement_id: int
    text: str
    voters: int
    consensus: float
    spread: float
    counts: tuple[Count, ...]


@dataclass(frozen=True, slots=True)
class Standing:
    """A round's statements where professions agree and where they differ."""

    agree: tuple[Entry, ...] = ()
    differ: tuple[Entry, ...] = ()
    #: Statements open to votes, and members who voted on any.
    statements: int = 0
    voters: int = 0

    def as_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready)."""
        return asdict(self)


def from_dict(data: Mapping[str, Any]) -> Standing:
    """A standing back from :meth:`Standing.as_dict` (empty data: no votes)."""

    def entry(e: Mapping[str, Any]) -> Entry:
        return Entry(**{**e, "counts": tuple(Count(**c) for c in e["counts"])})

    return Standing(
        agree=tuple(entry(e) for e in data.get("agree", ())),
        differ=tuple(entry(e) for e in data.get("differ", ())),
        statements=int(data.get("statements", 0)),
        voters=int(data.get("voters", 0)),
    )


def rank(
    casts: list[store.Cast],
    texts: Mapping[int, str],
    *,
    min_voters: int = consensus.MIN_VOTERS,
    min_professions: int = consensus.MIN_PROFESSIONS,
    limit: int = SHOWN,
) -> Standing:
    """The standing of statements (``texts`` by id) from their votes."""
    scored = consensus.score(casts, min_voters=min_voters, min_professions=min_professions)

    def entry(s: consensus.Scored) -> Entry:
        return Entry(
            statement_id=s.statement_id,
            text=texts.get(s.statement_id, ""),
            voters=s.voters,
            consensus=round(s.consensus, 6),
            spread=round(s.spread, 6),
            counts=tuple(Count(t.profession, t.agree, t.disagree, t.passed) for t in s.tallies),
        )

    return Standing(
        agree=tuple(entry(s) for s in consensus.bridging(scored, limit=limit)),
        differ=tuple(entry(s) for s in consensus.cruxes(scored, limit=limit)),
        statements=len(texts),
        voters=len({c.member_id for c in casts}),
    )


async def standing(db: Database, round_id: int, settings: VotesSettings | None = None) -> Standing:
    """Where professions agree and differ on the round's statements, from their votes now."""
    posted = await store.statements(db, round_id, store.STATEMENT_POSTED)
    texts = {s.id: s.text for s in posted if s.id is not None}
    casts = await store.round_votes(db, round_id)
    if settings is None:
        return rank(casts, texts)
    return rank(
        casts,
        texts,
        min_voters=settings.min_voters,
        min_professions=settings.min_professions,
    )


# ---------------------------------------------------------------- in the digest


def profession_label(key: str, t: Translator) -> str:
    """A profession as the circle reads it; the pooled group is "other professions"."""
    if key in consensus.UNNAMED:
        return t._("other professions")
    return tag_for_key(key).label(t.locale)


def counts_line(entry: Entry, t: Translator) -> str:
    """``Nurse 4 of 5 agree · Architect 1 of 4 · other professions 2 of 3``."""
    parts = [
        t._(
            "{profession} {agree} of {votes}",
            profession=profession_label(c.profession, t),
            agree=c.agree,
            votes=c.votes,
        )
        for c in entry.counts
    ]
    return t._("agree: {counts}", counts=" · ".join(parts))


def _entry(entry: Entry, t: Translator) -> str:
    voters = t.ngettext("{n} voter", "{n} voters", entry.voters)
    return f"• “{escape(entry.text)}” — {voters}\n  {counts_line(entry, t)}"


def sections(
    data: Standing | Mapping[str, Any], t: Translator
) -> list[tuple[str, tuple[str, ...]]]:
    """The digest's two vote sections (title, entries); none when nothing is ranked."""
    s = data if isinstance(data, Standing) else from_dict(data)
    out: list[tuple[str, tuple[str, ...]]] = []
    if s.agree:
        out.append((t._("Where professions agree"), tuple(_entry(e, t) for e in s.agree)))
    if s.differ:
        out.append((t._("Where professions differ"), tuple(_entry(e, t) for e in s.differ)))
    return out
