"""Where professions agree and where they differ, from a round's votes: the digest's hook.

:func:`standing` reads the votes and ranks the statements (:mod:`~cogs.votes.consensus`);
the result is the digest's :class:`~cogs.digest.result.Votes`, stored with it and shown by
:mod:`cogs.digest.votes_view`. Counts are per profession; a profession with fewer voters in
the round than the guard (``[digest] min_profession_size``) is counted with "other
professions", so no vote can be traced to a person.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from bot.i18n import Translator
from cogs.digest import votes_view
from cogs.digest.result import VoteCount, VoteEntry, Votes, votes_from_dict
from cogs.votes import consensus
from storage import votes as store
from storage.database import Database

if TYPE_CHECKING:
    from bot.config import VotesSettings

#: Statements shown in each of the two sections.
SHOWN: Final = 3

#: The digest's names for them (this module's first names, kept for its callers).
Count = VoteCount
Entry = VoteEntry
Standing = Votes
from_dict = votes_from_dict


def rank(
    casts: list[store.Cast],
    texts: Mapping[int, str],
    *,
    min_voters: int = consensus.MIN_VOTERS,
    min_professions: int = consensus.MIN_PROFESSIONS,
    min_group: int = consensus.MIN_GROUP,
    limit: int = SHOWN,
    authors: Mapping[int, str] | None = None,
) -> Votes:
    """The standing of statements (``texts`` by id) from their votes.

    ``authors`` names the member who proposed a statement (``member:<id>``), so erasing
    them can find its text in stored digests.
    """
    scored = consensus.score(
        casts, min_voters=min_voters, min_professions=min_professions, min_group=min_group
    )
    scored = [s for s in scored if s.statement_id in texts]
    written = authors or {}

    def entry(s: consensus.Scored) -> VoteEntry:
        return VoteEntry(
            statement_id=s.statement_id,
            text=texts.get(s.statement_id, ""),
            voters=s.voters,
            consensus=round(s.consensus, 6),
            spread=round(s.spread, 6),
            counts=tuple(VoteCount(t.profession, t.agree, t.disagree, t.passed) for t in s.tallies),
            author=written.get(s.statement_id, ""),
        )

    return Votes(
        agree=tuple(entry(s) for s in consensus.bridging(scored, limit=limit)),
        differ=tuple(entry(s) for s in consensus.cruxes(scored, limit=limit)),
        statements=len(texts),
        voters=len({c.member_id for c in casts}),
        ranked=sum(1 for s in scored if s.ranked),
        min_voters=min_voters,
        min_professions=min_professions,
    )


async def standing(
    db: Database,
    round_id: int,
    settings: VotesSettings | None = None,
    *,
    min_group: int = consensus.MIN_GROUP,
) -> Votes:
    """Where professions agree and differ on the round's statements, from their votes now.

    Professions with fewer than ``min_group`` voters are counted with other professions.
    """
    posted = await store.statements(db, round_id, store.STATEMENT_POSTED)
    texts = {s.id: s.text for s in posted if s.id is not None}
    authors = {
        s.id: f"member:{s.proposed_by}" for s in posted if s.id is not None and s.proposed_by
    }
    casts = await store.round_votes(db, round_id)
    if settings is None:
        return rank(casts, texts, min_group=min_group, authors=authors)
    return rank(
        casts,
        texts,
        min_voters=settings.min_voters,
        min_professions=settings.min_professions,
        min_group=min_group,
        authors=authors,
    )


def sections(data: Votes | Mapping[str, Any], t: Translator) -> list[tuple[str, tuple[str, ...]]]:
    """The digest's two vote sections (title, entries); none when nothing is ranked."""
    s = data if isinstance(data, Votes) else votes_from_dict(data)
    return votes_view.sections(s, t)
