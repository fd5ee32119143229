"""Votes storage: one vote a member per statement, the latest choice kept, replays harmless,
and a member's votes and proposed statements erased with them."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from storage import Database, rounds
from storage import votes as store
from storage.members import account_for, get_or_create_circle
from storage.rounds import Round


async def _round(db: Database, now: datetime) -> tuple[int, int]:
    circle = await get_or_create_circle(
        db, "discord", "c1", name="c1", locale="fr", timezone="Europe/Paris", now=now
    )
    created = await rounds.create_round(
        db,
        Round(
            circle_id=circle.id or 0,
            number=0,
            scheduled_for=now,
            opened_at=now,
            closes_at=now + timedelta(days=6),
            platform="discord",
            channel_id="c1",
        ),
    )
    assert created is not None and created.id is not None
    return circle.id or 0, created.id


async def _member(db: Database, name: str, now: datetime) -> int:
    return (await account_for(db, "discord", name, name, now=now)).member_id


async def _posted(db: Database, round_id: int, circle_id: int, text: str, now: datetime) -> int:
    statement = await store.add_statement(
        db, round_id, circle_id, text, now=now, status=store.STATEMENT_POSTED
    )
    assert statement.id is not None
    return statement.id


async def test_a_member_has_one_vote_per_statement_and_may_change_it(
    db: Database, now: datetime
) -> None:
    circle, round_id = await _round(db, now)
    ana = await _member(db, "ana", now)
    first = await _posted(db, round_id, circle, "Les réseaux isolent les métiers.", now)
    await store.record_vote(db, first, ana, store.AGREE, profession="nurse", at=now, now=now)
    later = now + timedelta(minutes=5)
    await store.record_vote(db, first, ana, store.DISAGREE, profession="nurse", at=later, now=later)
    assert await store.vote_count(db, first) == 1
    vote = await store.vote_of(db, first, ana)
    assert vote is not None and vote.choice == store.DISAGREE
    assert await store.round_votes(db, round_id) == [
        store.Cast(first, ana, store.DISAGREE, "nurse")
    ]


async def test_a_replayed_older_vote_does_not_undo_a_newer_one(db: Database, now: datetime) -> None:
    circle, round_id = await _round(db, now)
    ana = await _member(db, "ana", now)
    first = await _posted(db, round_id, circle, "Les réseaux isolent les métiers.", now)
    later = now + timedelta(minutes=5)
    await store.record_vote(db, first, ana, store.PASS, profession="", at=later, now=later)
    # The platform hands the earlier "agree" again after the member changed their mind.
    await store.record_vote(db, first, ana, store.AGREE, profession="", at=now, now=later)
    vote = await store.vote_of(db, first, ana)
    assert vote is not None and vote.choice == store.PASS
    # The same vote stored twice is still one vote.
    await store.record_vote(db, first, ana, store.PASS, profession="", at=later, now=later)
    assert await store.vote_count(db, first) == 1


async def test_unknown_choices_are_refused(db: Database, now: datetime) -> None:
    circle, round_id = await _round(db, now)
    ana = await _member(db, "ana", now)
    first = await _posted(db, round_id, circle, "Une phrase.", now)
    with pytest.raises(ValueError):
        await store.record_vote(db, first, ana, "maybe", profession="", at=now, now=now)
    with pytest.raises(IntegrityError):  # no vote on a statement that does not exist
        await store.record_vote(db, first + 99, ana, store.AGREE, profession="", at=now, now=now)


async def test_only_posted_statements_count(db: Database, now: datetime) -> None:
    circle, round_id = await _round(db, now)
    ana = await _member(db, "ana", now)
    posted = await _posted(db, round_id, circle, "Posted.", now)
    dropped = await _posted(db, round_id, circle, "Dropped later.", now)
    await store.record_vote(db, posted, ana, store.AGREE, profession="nurse", at=now, now=now)
    await store.record_vote(db, dropped, ana, store.AGREE, profession="nurse", at=now, now=now)
    await store.update_statement(db, dropped, status=store.STATEMENT_DROPPED)
    assert [c.statement_id for c in await store.round_votes(db, round_id)] == [posted]
    assert [s.id for s in await store.statements(db, round_id, store.STATEMENT_POSTED)] == [posted]
    found = await store.round_of(db, posted)
    assert found is not None and found.id == round_id


async def test_erasing_a_member_takes_their_votes_and_proposals_and_keeps_others(
    db: Database, now: datetime
) -> None:
    circle, round_id = await _round(db, now)
    ana, bob = await _member(db, "ana", now), await _member(db, "bob", now)
    bots = await _posted(db, round_id, circle, "Drafted by the bot.", now)
    proposal = await store.add_statement(
        db,
        round_id,
        circle,
        "Proposed by ana.",
        now=now,
        source=store.SOURCE_MEMBER,
        proposed_by=ana,
    )
    assert proposal.id is not None
    await store.update_statement(db, proposal.id, status=store.STATEMENT_POSTED)
    for member in (ana, bob):
        await store.record_vote(db, bots, member, store.AGREE, profession="x", at=now, now=now)
    await store.record_vote(db, proposal.id, bob, store.AGREE, profession="x", at=now, now=now)

    data = await store.member_data(db, ana)
    assert [v["statement"] for v in data["votes"]] == ["Drafted by the bot."]
    assert [s["text"] for s in data["proposed_statements"]] == ["Proposed by ana."]
    assert [s.id for s in await store.statements_proposed_by(db, ana)] == [proposal.id]

    await store.erase_member(db, ana)
    assert await store.member_data(db, ana) == {"votes": [], "proposed_statements": []}
    assert await store.get_statement(db, proposal.id) is None
    assert await store.round_votes(db, round_id) == [store.Cast(bots, bob, store.AGREE, "x")]


async def test_votes_stored_together_keep_each_members_latest_choice(
    db: Database, now: datetime
) -> None:
    circle, round_id = await _round(db, now)
    ana, bob = await _member(db, "ana", now), await _member(db, "bob", now)
    first = await _posted(db, round_id, circle, "Les réseaux isolent les métiers.", now)
    later = now + timedelta(minutes=1)
    # One batch may carry the same member's vote twice (PostgreSQL refuses to update one row
    # twice in a statement): the latest is kept, whatever the order they came in.
    await store.record_votes(
        db,
        [
            store.Choice(first, ana, store.DISAGREE, "nurse", later),
            store.Choice(first, ana, store.AGREE, "nurse", now),
            store.Choice(first, bob, store.PASS, "", now),
        ],
        now=later,
    )
    assert await store.round_votes(db, round_id) == [
        store.Cast(first, ana, store.DISAGREE, "nurse"),
        store.Cast(first, bob, store.PASS, ""),
    ]
    # An older batch changes nothing; a newer one replaces.
    await store.record_votes(db, [store.Choice(first, ana, store.AGREE, "nurse", now)], now=later)
    await store.record_votes(db, [store.Choice(first, bob, store.AGREE, "", later)], now=later)
    assert [c.choice for c in await store.round_votes(db, round_id)] == [
        store.DISAGREE,
        store.AGREE,
    ]


async def test_ballots_read_many_votes_at_once_like_one(db: Database, now: datetime) -> None:
    circle, round_id = await _round(db, now)
    ana, bob = await _member(db, "ana", now), await _member(db, "bob", now)
    first = await _posted(db, round_id, circle, "Les réseaux isolent les métiers.", now)
    second = await _posted(db, round_id, circle, "Publier prend du temps.", now)
    await store.record_vote(db, first, ana, store.AGREE, profession="nurse", at=now, now=now)
    found = await store.ballots(db, [(first, ana), (second, ana), (first, bob), (999, ana)])
    assert set(found) == {(first, ana), (second, ana), (first, bob)}  # 999: no statement
    for key, ballot in found.items():
        single = await store.ballot(db, *key)
        assert single is not None
        assert (ballot.statement.id, ballot.round.id, ballot.latest_round_id) == (
            single.statement.id,
            single.round.id,
            single.latest_round_id,
        )
        assert ballot.profession == single.profession
        assert (ballot.previous is None) == (single.previous is None)
    previous = found[(first, ana)].previous
    assert previous is not None and previous.choice == store.AGREE
    assert found[(first, bob)].previous is None and found[(second, ana)].previous is None
