"""Professions storage: a member's profession, circle links, custom professions, proposals."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, func
from sqlmodel import SQLModel, col, select

from storage import Database, Member
from storage.members import account_for, get_or_create_circle
from storage.professions import (
    OTHER_KEY,
    PROPOSAL_ACCEPTED,
    PROPOSAL_MERGED,
    PROPOSAL_PENDING,
    CircleProfessionMember,
    MemberProfession,
    ProfessionProposal,
    add_custom_profession,
    circle_profession_counts,
    custom_professions,
    erase_member,
    get_member_profession,
    get_proposal,
    member_circles,
    member_proposals,
    proposals,
    resolve_proposals,
    set_member_profession,
)


async def _member(db: Database, name: str, now: datetime) -> int:
    return (await account_for(db, "discord", name, name, now=now)).member_id


async def _circle(db: Database, space: str, now: datetime) -> int:
    circle = await get_or_create_circle(
        db, "discord", space, name=space, locale="fr", timezone="Europe/Paris", now=now
    )
    assert circle.id is not None
    return circle.id


async def _count(db: Database, model: type[SQLModel]) -> int:
    async with db.session() as session:
        return (await session.exec(select(func.count()).select_from(model))).one()


async def test_set_then_change_a_members_profession(db: Database, now: datetime) -> None:
    ana = await _member(db, "ana", now)
    circle = await _circle(db, "c1", now)
    assert await get_member_profession(db, ana) is None

    first, proposal = await set_member_profession(
        db, ana, "nurse", "infirmière libérale", circle_id=circle, now=now
    )
    assert proposal is None
    assert (first.key, first.wording, first.set_at) == ("nurse", "infirmière libérale", now)

    later = now + timedelta(days=1)
    await set_member_profession(db, ana, "software_developer", "dev", circle_id=circle, now=later)
    current = await get_member_profession(db, ana)
    assert current is not None
    assert (current.key, current.wording, current.set_at) == ("software_developer", "dev", later)
    assert await _count(db, MemberProfession) == 1
    assert await _count(db, CircleProfessionMember) == 1


async def test_a_member_is_linked_to_every_circle_where_they_set_it(
    db: Database, now: datetime
) -> None:
    ana = await _member(db, "ana", now)
    c1, c2 = await _circle(db, "c1", now), await _circle(db, "c2", now)
    await set_member_profession(db, ana, "nurse", "", circle_id=c1, now=now)
    await set_member_profession(db, ana, "nurse", "", circle_id=c2, now=now)
    await set_member_profession(db, ana, "nurse", "", circle_id=None, now=now)
    assert await member_circles(db, ana) == [c1, c2]


async def test_circle_counts_only_its_members(db: Database, now: datetime) -> None:
    c1, c2 = await _circle(db, "c1", now), await _circle(db, "c2", now)
    for name, key, circle in [
        ("ana", "nurse", c1),
        ("bob", "nurse", c1),
        ("cy", "other", c1),
        ("dan", "architect", c1),
        ("eve", "lawyer", c2),
    ]:
        member = await _member(db, name, now)
        await set_member_profession(db, member, key, name, circle_id=circle, now=now)
    assert await circle_profession_counts(db, c1) == [("nurse", 2), ("architect", 1), ("other", 1)]
    assert await circle_profession_counts(db, c2) == [("lawyer", 1)]
    assert await circle_profession_counts(db, 999) == []


async def test_proposal_lifecycle(db: Database, now: datetime) -> None:
    ana, bob = await _member(db, "ana", now), await _member(db, "bob", now)
    circle = await _circle(db, "c1", now)
    _, proposal = await set_member_profession(
        db, ana, OTHER_KEY, "dompteur", circle_id=circle, now=now, propose=True
    )
    assert proposal is not None and proposal.id is not None
    assert proposal.status == PROPOSAL_PENDING
    _, second = await set_member_profession(
        db, bob, OTHER_KEY, "Dompteur", circle_id=circle, now=now, propose=True
    )
    assert second is not None and second.id is not None
    assert [p.id for p in await proposals(db, circle)] == [proposal.id, second.id]

    # Bob changed his mind meanwhile: only Ana's profession follows the host's decision.
    await set_member_profession(db, bob, "nurse", "infirmier", circle_id=circle, now=now)
    assert [p.id for p in await proposals(db, circle)] == [proposal.id]

    later = now + timedelta(hours=1)
    changed = await resolve_proposals(
        db, [proposal.id, second.id], status=PROPOSAL_MERGED, key="airline_pilot", now=later
    )
    assert [(c.member_id, c.key, c.wording) for c in changed] == [
        (ana, "airline_pilot", "dompteur")
    ]
    settled = await get_proposal(db, proposal.id)
    assert settled is not None
    assert (settled.status, settled.resolved_key, settled.resolved_at) == (
        PROPOSAL_MERGED,
        "airline_pilot",
        later,
    )
    assert await proposals(db, circle) == []
    assert [p.id for p in await proposals(db, circle, statuses=[PROPOSAL_MERGED])] == [proposal.id]
    # Settling again changes nothing.
    assert (
        await resolve_proposals(db, [proposal.id], status=PROPOSAL_ACCEPTED, key="x", now=later)
        == []
    )


async def test_resolving_as_pending_is_refused(db: Database, now: datetime) -> None:
    with pytest.raises(ValueError, match="cannot resolve"):
        await resolve_proposals(db, [1], status=PROPOSAL_PENDING, key="nurse", now=now)


async def test_a_proposal_needs_a_circle(db: Database, now: datetime) -> None:
    ana = await _member(db, "ana", now)
    with pytest.raises(ValueError, match="circle"):
        await set_member_profession(db, ana, OTHER_KEY, "x", circle_id=None, now=now, propose=True)
    assert await get_member_profession(db, ana) is None


async def test_custom_professions_are_per_circle_and_added_once(
    db: Database, now: datetime
) -> None:
    c1, c2 = await _circle(db, "c1", now), await _circle(db, "c2", now)
    first = await add_custom_profession(db, c1, "custom:Dompteur", "Dompteur", now=now)
    again = await add_custom_profession(db, c1, "custom:Dompteur", "Autre nom", now=now)
    assert again.id == first.id and again.label == "Dompteur"
    await add_custom_profession(db, c2, "custom:Dompteur", "Dompteur", now=now)
    assert [c.key for c in await custom_professions(db, c1)] == ["custom:Dompteur"]
    assert len(await custom_professions(db, c2)) == 1


async def test_erase_member_forgets_everything_about_them(db: Database, now: datetime) -> None:
    ana, bob = await _member(db, "ana", now), await _member(db, "bob", now)
    circle = await _circle(db, "c1", now)
    await set_member_profession(
        db, ana, OTHER_KEY, "dompteur", circle_id=circle, now=now, propose=True
    )
    await set_member_profession(db, bob, "nurse", "", circle_id=circle, now=now)
    assert len(await member_proposals(db, ana)) == 1

    await erase_member(db, ana)
    assert await get_member_profession(db, ana) is None
    assert await member_circles(db, ana) == []
    assert await member_proposals(db, ana) == []
    assert await circle_profession_counts(db, circle) == [("nurse", 1)]  # Bob stays


async def test_deleting_a_member_cascades(db: Database, now: datetime) -> None:
    ana = await _member(db, "ana", now)
    circle = await _circle(db, "c1", now)
    await set_member_profession(
        db, ana, OTHER_KEY, "dompteur", circle_id=circle, now=now, propose=True
    )
    async with db.session() as session:
        await session.exec(delete(Member).where(col(Member.id) == ana))
        await session.commit()
    for model in (MemberProfession, CircleProfessionMember, ProfessionProposal):
        assert await _count(db, model) == 0
