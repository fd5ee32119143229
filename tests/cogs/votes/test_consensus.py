"""Consensus by profession, checked against figures computed by hand.

The round: three nurses (n1-n3), three architects (a1-a3) and one developer (d1), who is
the only one of her profession and so is pooled into "other professions".
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from cogs.votes import consensus as c


@dataclass(frozen=True)
class Cast:
    statement_id: int
    member_id: int
    choice: str
    profession: str


PROFESSION = {1: "nurse", 2: "nurse", 3: "nurse", 11: "architect", 12: "architect"}
PROFESSION |= {13: "architect", 21: "developer"}
N1, N2, N3, A1, A2, A3, D1 = 1, 2, 3, 11, 12, 13, 21


def votes(statement: int, **by_member: str) -> list[Cast]:
    return [
        Cast(statement, int(m[1:]), choice, PROFESSION[int(m[1:])])
        for m, choice in by_member.items()
    ]


A, D, P = "agree", "disagree", "pass"
ROUND = [
    # 1: every profession agrees, one architect does not.
    *votes(1, m1=A, m2=A, m3=A, m11=A, m12=A, m13=D, m21=A),
    # 2: nurses agree, architects disagree: a crux.
    *votes(2, m1=A, m2=A, m3=A, m11=D, m12=D, m13=D),
    # 3: two votes only: not ranked.
    *votes(3, m1=A, m2=P),
    # 4: rejected by both professions alike.
    *votes(4, m1=D, m2=D, m3=D, m11=D, m12=P),
]


def standing(**kwargs: int) -> dict[int, c.Scored]:
    return dict(c.by_statement(c.score(ROUND, **kwargs)))


def test_smoothing_is_polis_one_vote_is_not_unanimity() -> None:
    assert c.smoothed(0, 0) == 0.5
    assert c.smoothed(1, 1) == pytest.approx(2 / 3)
    assert c.smoothed(3, 3) == pytest.approx(0.8)
    assert c.smoothed(0, 3) == pytest.approx(0.2)


def test_a_lone_professional_is_pooled_with_other_professions() -> None:
    groups = c.groups(ROUND)
    assert groups[D1] == c.POOLED
    assert groups[N1] == "nurse" and groups[A1] == "architect"
    s1 = standing()[1]
    assert [(t.profession, t.agree, t.disagree, t.passed) for t in s1.tallies] == [
        ("architect", 2, 1, 0),
        ("nurse", 3, 0, 0),
        (c.POOLED, 1, 0, 0),
    ]


def test_per_profession_shares_and_consensus_by_hand() -> None:
    s = standing()
    # 1: nurses (3+1)/(3+2) = 0.8, architects (2+1)/(3+2) = 0.6, other (1+1)/(1+2) = 2/3.
    shares = {t.profession: t.share for t in s[1].tallies}
    assert shares == pytest.approx({"nurse": 0.8, "architect": 0.6, c.POOLED: 2 / 3})
    assert s[1].consensus == pytest.approx(0.8 * 0.6 * 2 / 3)  # 0.32
    assert s[1].spread == pytest.approx(0.2)
    # 2: nurses 0.8, architects (0+1)/(3+2) = 0.2, other professions did not vote: 1/2.
    assert s[2].consensus == pytest.approx(0.8 * 0.2 * 0.5)  # 0.08
    assert s[2].spread == pytest.approx(0.6)
    # 3: nurses (1+1)/(2+2) = 0.5 (a pass counts as a vote), the others 1/2 each.
    assert s[3].consensus == pytest.approx(0.125)
    # 4: nurses (0+1)/(3+2) = 0.2, architects (0+1)/(2+2) = 0.25, other 1/2.
    assert s[4].consensus == pytest.approx(0.025)
    assert s[4].spread == pytest.approx(0.05)


def test_minimum_votes_before_ranking() -> None:
    s = standing()
    assert (s[1].voters, s[1].professions, s[1].ranked) == (7, 3, True)
    assert (s[3].voters, s[3].professions, s[3].ranked) == (2, 1, False)
    assert (s[4].voters, s[4].ranked) == (5, True)
    # Configurable: eight voters needed, or three professions.
    assert not standing(min_voters=8)[1].ranked
    assert [k for k, v in standing(min_professions=3).items() if v.ranked] == [1]
    # Five nurses alone never rank: one profession is not agreement across professions.
    alone = [Cast(9, m, A, "nurse") for m in range(100, 105)]
    (only,) = c.score(alone)
    assert only.voters == 5 and not only.ranked


def test_bridging_and_cruxes() -> None:
    scored = c.score(ROUND)
    assert [s.statement_id for s in c.bridging(scored)] == [1]
    # 2 splits professions (spread 0.6); 4 is rejected alike (spread 0.05): no crux.
    assert [s.statement_id for s in c.cruxes(scored)] == [2]
    assert [s.statement_id for s in c.cruxes(scored, min_spread=0.0)] == [2, 4]
    # Unranked statements are neither.
    assert 3 not in {s.statement_id for s in [*c.bridging(scored), *c.cruxes(scored, min_spread=0)]}


def test_bridges_are_ordered_by_consensus() -> None:
    wide = [
        *votes(1, m1=A, m2=A, m3=A, m11=A, m12=A, m13=D),  # 0.8 * 0.6 = 0.48
        *votes(2, m1=A, m2=A, m3=A, m11=A, m12=A, m13=A),  # 0.8 * 0.8 = 0.64
        *votes(3, m1=A, m2=A, m3=P, m11=A, m12=A, m13=P),  # 0.6 * 0.6 = 0.36
    ]
    scored = c.score(wide)
    assert [round(s.consensus, 4) for s in scored] == [0.48, 0.64, 0.36]
    assert [s.statement_id for s in c.bridging(scored)] == [2, 1, 3]
    assert [s.statement_id for s in c.bridging(scored, limit=2)] == [2, 1]


def test_a_member_counts_in_the_profession_of_their_latest_vote() -> None:
    moved = [
        Cast(1, 1, A, "nurse"),
        Cast(1, 2, A, "nurse"),
        Cast(1, 3, A, "nurse"),
        Cast(2, 11, A, "architect"),
        Cast(2, 12, A, "architect"),
        Cast(2, 3, A, "architect"),  # member 3 changed profession before voting again
    ]
    groups = c.groups(moved)
    assert groups[3] == "architect"
    # Two nurses are left: too few to be shown alone, so they are pooled.
    assert groups[1] == groups[2] == c.POOLED
    first, _second = c.score(moved)
    assert [(t.profession, t.agree) for t in first.tallies] == [("architect", 1), (c.POOLED, 2)]


def test_members_without_a_recognised_profession_are_other_professions() -> None:
    unnamed = [
        *(Cast(1, m, A, "nurse") for m in (1, 2, 3)),
        *(Cast(1, m, A, key) for m, key in ((4, ""), (5, "other"), (6, ""))),
    ]
    (s,) = c.score(unnamed)
    assert [(t.profession, t.votes) for t in s.tallies] == [("nurse", 3), (c.POOLED, 3)]
    # Six voters, but one profession only: "other professions" is not a profession.
    assert (s.voters, s.professions, s.ranked) == (6, 1, False)
