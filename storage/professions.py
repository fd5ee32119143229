"""Professions: each member's profession, where they set it, hosts' custom professions, proposals.

A member has one profession (a key of the bundled vocabulary, a circle's custom profession or
``other``) and the wording they chose. Wording the vocabulary does not know becomes a proposal
in the circle where it was given, until a host accepts it (a new custom profession) or merges it
into an existing profession.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import UniqueConstraint, delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.database import Database
from storage.types import UTCDateTime

#: The key of members whose profession is not (yet) recognised.
OTHER_KEY = "other"
MAX_KEY = 120
MAX_WORDING = 100
MAX_LABEL = 100

PROPOSAL_PENDING = "pending"
PROPOSAL_ACCEPTED = "accepted"
PROPOSAL_MERGED = "merged"


class MemberProfession(SQLModel, table=True):
    """A member's current profession and their own wording of it."""

    __tablename__ = "member_professions"

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="members.id", ondelete="CASCADE", unique=True)
    key: str = Field(max_length=MAX_KEY, index=True)
    wording: str = Field(default="", max_length=MAX_WORDING)
    set_at: datetime = Field(sa_type=UTCDateTime)


class CircleProfessionMember(SQLModel, table=True):
    """A member set their profession in a circle: the circle counts them among its professions."""

    __tablename__ = "circle_profession_members"
    __table_args__ = (
        UniqueConstraint("circle_id", "member_id", name="uq_circle_profession_members_member"),
    )

    id: int | None = Field(default=None, primary_key=True)
    circle_id: int = Field(foreign_key="circles.id", ondelete="CASCADE")
    member_id: int = Field(foreign_key="members.id", ondelete="CASCADE", index=True)
    set_at: datetime = Field(sa_type=UTCDateTime)


class CustomProfession(SQLModel, table=True):
    """A profession a circle's host added from a proposal."""

    __tablename__ = "custom_professions"
    __table_args__ = (UniqueConstraint("circle_id", "key", name="uq_custom_professions_key"),)

    id: int | None = Field(default=None, primary_key=True)
    circle_id: int = Field(foreign_key="circles.id", ondelete="CASCADE")
    key: str = Field(max_length=MAX_KEY)
    label: str = Field(max_length=MAX_LABEL)
    created_at: datetime = Field(sa_type=UTCDateTime)


class ProfessionProposal(SQLModel, table=True):
    """Wording the vocabulary did not know, waiting for (or settled by) a host of the circle."""

    __tablename__ = "profession_proposals"

    id: int | None = Field(default=None, primary_key=True)
    circle_id: int = Field(foreign_key="circles.id", ondelete="CASCADE", index=True)
    member_id: int = Field(foreign_key="members.id", ondelete="CASCADE", index=True)
    wording: str = Field(max_length=MAX_WORDING)
    status: str = Field(default=PROPOSAL_PENDING, max_length=16)
    #: The profession it was accepted as or merged into.
    resolved_key: str | None = Field(default=None, max_length=MAX_KEY)
    created_at: datetime = Field(sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# ---------------------------------------------------------------- members' professions


async def _member_profession(session: AsyncSession, member_id: int) -> MemberProfession | None:
    stmt = select(MemberProfession).where(col(MemberProfession.member_id) == member_id)
    return (await session.exec(stmt)).first()


async def get_member_profession(db: Database, member_id: int) -> MemberProfession | None:
    """The member's current profession, if they set one."""
    async with db.session() as session:
        return await _member_profession(session, member_id)


async def member_professions(db: Database, member_ids: list[int]) -> dict[int, MemberProfession]:
    """The current profession of each of these members who set one, in one query."""
    async with db.session() as session:
        stmt = select(MemberProfession).where(col(MemberProfession.member_id).in_(member_ids))
        return {row.member_id: row for row in (await session.exec(stmt)).all()}


async def set_member_profession(
    db: Database,
    member_id: int,
    key: str,
    wording: str,
    *,
    circle_id: int | None,
    now: datetime,
    propose: bool = False,
) -> tuple[MemberProfession, ProfessionProposal | None]:
    """Set the member's profession, in one transaction.

    The member is linked to ``circle_id`` (when given) and their pending proposals are withdrawn
    (they chose again); with ``propose`` the wording becomes a new pending proposal there.

    Raises:
        ValueError: ``propose`` without a circle.
    """
    if propose and circle_id is None:
        raise ValueError("a proposal belongs to a circle")
    for attempt in range(2):
        async with db.session() as session:
            try:
                current = await _member_profession(session, member_id)
                if current is None:
                    current = MemberProfession(
                        member_id=member_id, key=key, wording=wording, set_at=now
                    )
                    session.add(current)
                else:
                    current.key, current.wording, current.set_at = key, wording, now
                if circle_id is not None:
                    await _link(session, circle_id, member_id, now)
                await session.exec(
                    delete(ProfessionProposal).where(
                        col(ProfessionProposal.member_id) == member_id,
                        col(ProfessionProposal.status) == PROPOSAL_PENDING,
                    )
                )
                proposal = None
                if propose and circle_id is not None:
                    proposal = ProfessionProposal(
                        circle_id=circle_id, member_id=member_id, wording=wording, created_at=now
                    )
                    session.add(proposal)
                await session.commit()
                return current, proposal
            except IntegrityError:
                # A concurrent first write for this member won; apply ours over it.
                await session.rollback()
                if attempt:
                    raise
    raise AssertionError("unreachable")  # pragma: no cover


async def _link(session: AsyncSession, circle_id: int, member_id: int, now: datetime) -> None:
    stmt = select(CircleProfessionMember).where(
        col(CircleProfessionMember.circle_id) == circle_id,
        col(CircleProfessionMember.member_id) == member_id,
    )
    link = (await session.exec(stmt)).first()
    if link is None:
        session.add(CircleProfessionMember(circle_id=circle_id, member_id=member_id, set_at=now))
    else:
        link.set_at = now


async def member_circles(db: Database, member_id: int) -> list[int]:
    """The circles where the member set their profession."""
    stmt = (
        select(CircleProfessionMember.circle_id)
        .where(col(CircleProfessionMember.member_id) == member_id)
        .order_by(col(CircleProfessionMember.circle_id))
    )
    async with db.session() as session:
        return list((await session.exec(stmt)).all())


async def circle_profession_counts(db: Database, circle_id: int) -> list[tuple[str, int]]:
    """How many of the circle's members have each profession key, most common first."""
    count = func.count(col(MemberProfession.id))
    stmt = (
        select(MemberProfession.key, count)
        .join(
            CircleProfessionMember,
            col(CircleProfessionMember.member_id) == col(MemberProfession.member_id),
        )
        .where(col(CircleProfessionMember.circle_id) == circle_id)
        .group_by(col(MemberProfession.key))
        .order_by(count.desc(), col(MemberProfession.key))
    )
    async with db.session() as session:
        return [(key, int(n)) for key, n in (await session.exec(stmt)).all()]


# ---------------------------------------------------------------- custom professions


async def add_custom_profession(
    db: Database, circle_id: int, key: str, label: str, *, now: datetime
) -> CustomProfession:
    """Add a custom profession to the circle; an existing one with this key is returned as is."""
    stmt = select(CustomProfession).where(
        col(CustomProfession.circle_id) == circle_id, col(CustomProfession.key) == key
    )
    async with db.session() as session:
        existing = (await session.exec(stmt)).first()
        if existing is not None:
            return existing
        custom = CustomProfession(circle_id=circle_id, key=key, label=label, created_at=now)
        session.add(custom)
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            existing = (await session.exec(stmt)).first()
            if existing is None:
                raise
            return existing
        return custom


async def custom_professions(db: Database, circle_id: int) -> list[CustomProfession]:
    """The circle's custom professions, oldest first."""
    stmt = (
        select(CustomProfession)
        .where(col(CustomProfession.circle_id) == circle_id)
        .order_by(col(CustomProfession.id))
    )
    async with db.session() as session:
        return list((await session.exec(stmt)).all())


# ---------------------------------------------------------------- proposals


async def get_proposal(db: Database, proposal_id: int) -> ProfessionProposal | None:
    """A proposal by id."""
    async with db.session() as session:
        return await session.get(ProfessionProposal, proposal_id)


async def proposals(
    db: Database, circle_id: int, *, statuses: Sequence[str] = (PROPOSAL_PENDING,)
) -> list[ProfessionProposal]:
    """The circle's proposals with one of ``statuses``, oldest first."""
    stmt = (
        select(ProfessionProposal)
        .where(
            col(ProfessionProposal.circle_id) == circle_id,
            col(ProfessionProposal.status).in_(list(statuses)),
        )
        .order_by(col(ProfessionProposal.id))
    )
    async with db.session() as session:
        return list((await session.exec(stmt)).all())


async def member_proposals(db: Database, member_id: int) -> list[ProfessionProposal]:
    """Every proposal the member made, oldest first."""
    stmt = (
        select(ProfessionProposal)
        .where(col(ProfessionProposal.member_id) == member_id)
        .order_by(col(ProfessionProposal.id))
    )
    async with db.session() as session:
        return list((await session.exec(stmt)).all())


async def resolve_proposals(
    db: Database, proposal_ids: Sequence[int], *, status: str, key: str, now: datetime
) -> list[MemberProfession]:
    """Settle pending proposals as ``status`` (accepted or merged) into the profession ``key``.

    Each proposer still counted as ``other`` gets ``key``, keeping their wording. Proposals
    already settled are left alone.

    Returns:
        The professions that changed.
    """
    if status not in (PROPOSAL_ACCEPTED, PROPOSAL_MERGED):
        raise ValueError(f"cannot resolve a proposal as {status!r}")
    stmt = select(ProfessionProposal).where(
        col(ProfessionProposal.id).in_(list(proposal_ids)),
        col(ProfessionProposal.status) == PROPOSAL_PENDING,
    )
    changed: list[MemberProfession] = []
    async with db.session() as session:
        for proposal in (await session.exec(stmt)).all():
            proposal.status, proposal.resolved_key, proposal.resolved_at = status, key, now
            current = await _member_profession(session, proposal.member_id)
            if current is not None and current.key == OTHER_KEY:
                current.key, current.set_at = key, now
                changed.append(current)
        await session.commit()
    return changed


# ---------------------------------------------------------------- member data


async def erase_member(db: Database, member_id: int) -> None:
    """Forget the member's profession, where they set it and their proposals."""
    async with db.session() as session:
        for model in (MemberProfession, CircleProfessionMember, ProfessionProposal):
            await session.exec(delete(model).where(col(model.member_id) == member_id))
        await session.commit()
