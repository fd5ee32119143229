"""The digest's votes: where professions agree and differ on the round's statements.

Read when the digest is computed (:func:`with_votes`, after the analysis of the answers), so
a digest stores the votes as they stood at its close. The top crux, when there is one, gives
the follow-up question: what separates two professions is worth a round of its own.
"""

from __future__ import annotations

import dataclasses

from bot.config import Config
from cogs.digest.result import Digest, FollowUp, VoteCount, Votes, real
from cogs.votes.standing import standing
from storage.database import Database
from storage.rounds import Round


async def with_votes(db: Database, digest: Digest, round_: Round, config: Config) -> Digest:
    """``digest`` with the round's votes, the top crux as its follow-up when there is one.

    The re-identification guard is the digest's (``[digest] min_profession_size``), the
    minimums to be ranked the votes' (``[votes] min_voters``, ``min_professions``).
    """
    votes = await standing(
        db, round_.id or 0, config.votes, min_group=config.digest.min_profession_size
    )
    follow = crux_follow_up(votes)
    return dataclasses.replace(
        digest, votes=votes, follow_up=follow if follow is not None else digest.follow_up
    )


def crux_follow_up(votes: Votes) -> FollowUp | None:
    """The follow-up of the widest crux: the named professions that agree most and least
    (empty when fewer than two are named); ``None`` without a crux."""
    if not votes.differ:
        return None
    top = votes.differ[0]
    named = [c for c in top.counts if real(c.profession)]
    if len(named) < 2:
        return FollowUp("crux", top.text)

    def share(c: VoteCount) -> float:  # smoothed as the ranking does (Polis)
        return (c.agree + 1) / (c.votes + 2)

    ordered = sorted(named, key=lambda c: (-share(c), -c.votes, c.profession))
    return FollowUp("crux", top.text, ordered[0].profession, ordered[-1].profession)


def without_author(d: Digest, who: str) -> Digest:
    """``d`` without the statements ``who`` proposed (their words go with them), nor a
    follow-up question quoting one."""
    gone = {e.text for e in (*d.votes.agree, *d.votes.differ) if e.author == who}
    if not gone:
        return d
    votes = dataclasses.replace(
        d.votes,
        agree=tuple(e for e in d.votes.agree if e.author != who),
        differ=tuple(e for e in d.votes.differ if e.author != who),
    )
    follow = d.follow_up
    if follow.kind == "crux" and follow.label in gone:
        follow = crux_follow_up(votes) or FollowUp("generic")
    return dataclasses.replace(d, votes=votes, follow_up=follow)
