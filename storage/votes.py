"""Statements of a round that members vote on privately, and their votes (one a member)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Text, UniqueConstraint, delete, func, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased
from sqlalchemy.sql.dml import Insert
from sqlmodel import Field, SQLModel, col, select

from storage.database import Database
from storage.models import Account, Member
from storage.rounds import Round
from storage.types import UTCDateTime
from storage.writer import dialect_insert

STATEMENT_PROPOSED = "proposed"
STATEMENT_POSTED = "posted"
STATEMENT_DROPPED = "dropped"

SOURCE_BOT = "bot"
SOURCE_MEMBER = "member"
SOURCE_HOST = "host"

AGREE = "agree"
DISAGREE = "disagree"
PASS = "pass"
CHOICES = (AGREE, DISAGREE, PASS)


class Statement(SQLModel, table=True):
    """A short statement of a round: drafted by the bot, proposed by a member, or a host's."""

    __tablename__ = "vote_statements"

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="rounds.id", ondelete="CASCADE", index=True)
    circle_id: int = Field(foreign_key="circles.id", ondelete="CASCADE", index=True)
    text: str = Field(sa_type=Text)
    #: proposed (waits for a host) | posted (open to votes) | dropped.
    status: str = Field(default=STATEMENT_PROPOSED, max_length=16)
    #: bot | member | host.
    source: str = Field(default=SOURCE_BOT, max_length=16)
    #: The member who proposed it (erased with them); ``None`` for the bot's and hosts'.
    proposed_by: int | None = Field(
        default=None, foreign_key="members.id", ondelete="CASCADE", index=True
    )
    #: The message that shows it in the round's thread, once posted.
    message_id: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(sa_type=UTCDateTime)
    posted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Vote(SQLModel, table=True):
    """A member's vote on a statement, tagged with the profession they had when voting."""

    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("statement_id", "member_id", name="uq_votes_once"),)

    id: int | None = Field(default=None, primary_key=True)
    statement_id: int = Field(foreign_key="vote_statements.id", ondelete="CASCADE", index=True)
    member_id: int = Field(foreign_key="members.id", ondelete="CASCADE", index=True)
    choice: str = Field(max_length=16)
    profession_key: str = Field(default="", max_length=64)
    #: When the member chose this (the command's time): an older vote never replaces it.
    voted_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)


@dataclass(frozen=True, slots=True)
class Cast:
    """One vote as the consensus reads it."""

    statement_id: int
    member_id: int
    choice: str
    profession: str


# ---------------------------------------------------------------- statements


async def add_statement(
    db: Database,
    round_id: int,
    circle_id: int,
    text: str,
    *,
    now: datetime,
    source: str = SOURCE_BOT,
    status: str = STATEMENT_PROPOSED,
    proposed_by: int | None = None,
) -> Statement:
    """Store a new statement of a round."""
    async with db.session() as session:
        statement = Statement(
            round_id=round_id,
            circle_id=circle_id,
            text=text,
            status=status,
            source=source,
            proposed_by=proposed_by,
            created_at=now,
        )
        session.add(statement)
        await session.commit()
        await session.refresh(statement)
        return statement


async def get_statement(db: Database, statement_id: int) -> Statement | None:
    """The statement with this id."""
    async with db.session() as session:
        return await session.get(Statement, statement_id)


async def statements(db: Database, round_id: int, *statuses: str) -> list[Statement]:
    """A round's statements (with one of ``statuses``, when given), oldest first."""
    async with db.session() as session:
        stmt = select(Statement).where(col(Statement.round_id) == round_id)
        if statuses:
            stmt = stmt.where(col(Statement.status).in_(statuses))
        return list((await session.exec(stmt.order_by(col(Statement.id)))).all())


async def update_statement(db: Database, statement_id: int, **changes: object) -> None:
    """Change a statement's text, status, message or posting time."""
    allowed = {"text", "status", "message_id", "posted_at"}
    if set(changes) - allowed:
        raise TypeError(f"cannot change {sorted(set(changes) - allowed)}")
    async with db.session() as session:
        await session.exec(
            update(Statement).where(col(Statement.id) == statement_id).values(**changes)
        )
        await session.commit()


async def round_of(db: Database, statement_id: int) -> Round | None:
    """The round a statement belongs to."""
    async with db.session() as session:
        stmt = (
            select(Round)
            .join(Statement, col(Statement.round_id) == col(Round.id))
            .where(col(Statement.id) == statement_id)
        )
        return (await session.exec(stmt)).first()


# ---------------------------------------------------------------- votes


@dataclass(frozen=True, slots=True)
class Ballot:
    """What a vote on a statement needs to know, read at once."""

    statement: Statement
    round: Round
    #: The circle's latest round (votes close when a newer one opens).
    latest_round_id: int | None
    #: The member's vote so far, and their current profession (``""``: none).
    previous: Vote | None
    profession: str


async def ballot(db: Database, statement_id: int, member_id: int) -> Ballot | None:
    """The statement, its round, the circle's latest round, the member's vote and profession,
    in one session (a vote is on the message path); ``None`` if the statement is unknown."""
    from storage.professions import MemberProfession

    async with db.session() as session:
        found = (
            await session.exec(
                select(Statement, Round)
                .join(Round, col(Round.id) == col(Statement.round_id))
                .where(col(Statement.id) == statement_id)
            )
        ).first()
        if found is None:
            return None
        statement, round_ = found
        latest = (
            await session.exec(
                select(func.max(Round.id)).where(col(Round.circle_id) == statement.circle_id)
            )
        ).one()
        previous = (
            await session.exec(
                select(Vote).where(
                    col(Vote.statement_id) == statement_id, col(Vote.member_id) == member_id
                )
            )
        ).first()
        profession = (
            await session.exec(
                select(MemberProfession.key).where(col(MemberProfession.member_id) == member_id)
            )
        ).first()
    return Ballot(statement, round_, latest, previous, profession or "")


async def ballots(db: Database, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], Ballot]:
    """:func:`ballot` for many (statement, member) pairs in three queries, whatever their
    number (concurrent votes share them through a :class:`~storage.writer.GroupReader`)."""
    from storage.professions import MemberProfession

    statement_ids = sorted({s for s, _ in keys})
    member_ids = sorted({m for _, m in keys})
    later = aliased(Round)  # the circle's rounds, beside the statement's own
    latest = (
        select(func.max(later.id))
        .where(later.circle_id == col(Statement.circle_id))
        .correlate(Statement)
        .scalar_subquery()
    )
    found: dict[int, tuple[Statement, Round, int | None]] = {}
    previous: dict[tuple[int, int], Vote] = {}
    professions: dict[int, str] = {}
    async with db.session() as session:
        for at in range(0, len(statement_ids), 900):  # under SQLite's bound-parameter limit
            rows = await session.exec(
                select(Statement, Round, latest)
                .join(Round, col(Round.id) == col(Statement.round_id))
                .where(col(Statement.id).in_(statement_ids[at : at + 900]))
            )
            found.update((s.id or 0, (s, r, n)) for s, r, n in rows.all())
        for at in range(0, len(member_ids), 900):
            chunk = member_ids[at : at + 900]
            votes = await session.exec(
                select(Vote).where(
                    col(Vote.member_id).in_(chunk), col(Vote.statement_id).in_(list(found))
                )
            )
            previous.update(((v.statement_id, v.member_id), v) for v in votes.all())
            keys_of = await session.exec(
                select(MemberProfession.member_id, MemberProfession.key).where(
                    col(MemberProfession.member_id).in_(chunk)
                )
            )
            professions.update(keys_of.all())
    return {
        (s, m): Ballot(*found[s], previous.get((s, m)), professions.get(m) or "")
        for s, m in keys
        if s in found
    }


@dataclass(frozen=True, slots=True)
class Choice:
    """A vote to store (see :func:`record_votes`)."""

    statement_id: int
    member_id: int
    choice: str
    profession: str
    at: datetime


_UPSERTS: dict[str, Insert] = {}


def _upsert(db: Database) -> Insert:
    """The vote upsert for the database's dialect: built once (SQLAlchemy then caches its
    compiled form), the newer choice kept, an older one changing nothing."""
    dialect = db.engine.dialect.name
    if dialect not in _UPSERTS:
        table = Vote.__table__  # type: ignore[attr-defined]
        stmt = dialect_insert(db.engine, table)
        _UPSERTS[dialect] = stmt.on_conflict_do_update(
            index_elements=["statement_id", "member_id"],
            set_={
                "choice": stmt.excluded.choice,
                "profession_key": stmt.excluded.profession_key,
                "voted_at": stmt.excluded.voted_at,
            },
            where=table.c.voted_at <= stmt.excluded.voted_at,
        )
    return _UPSERTS[dialect]


async def record_votes(db: Database, votes: Sequence[Choice], *, now: datetime) -> None:
    """Store votes in one shared transaction: one row per member and statement, the latest
    choice kept (of those given, then against the one stored: an older one changes nothing)."""
    latest: dict[tuple[int, int], Choice] = {}
    for vote in votes:
        if vote.choice not in CHOICES:
            raise ValueError(f"unknown choice {vote.choice!r}")
        key = (vote.statement_id, vote.member_id)
        if key not in latest or latest[key].at <= vote.at:
            latest[key] = vote
    rows = [
        {
            "statement_id": v.statement_id,
            "member_id": v.member_id,
            "choice": v.choice,
            "profession_key": v.profession[:64],
            "voted_at": v.at,
            "created_at": now,
        }
        for v in latest.values()
    ]

    stmt = _upsert(db)

    async def upsert(conn: AsyncConnection) -> None:
        await conn.execute(stmt, rows)  # executemany: the statement compiled once, cached

    # Group-committed like answers: votes arriving together share one transaction.
    if rows:
        await db.write(upsert)


async def record_vote(
    db: Database,
    statement_id: int,
    member_id: int,
    choice: str,
    *,
    profession: str,
    at: datetime,
    now: datetime,
) -> None:
    """Store a member's vote: one row per member and statement, the latest choice kept.

    A vote replayed from earlier than the stored one (a platform delivering an old event
    again) changes nothing.
    """
    await record_votes(db, [Choice(statement_id, member_id, choice, profession, at)], now=now)


async def vote_of(db: Database, statement_id: int, member_id: int) -> Vote | None:
    """The member's vote on a statement, if any."""
    async with db.session() as session:
        stmt = select(Vote).where(
            col(Vote.statement_id) == statement_id, col(Vote.member_id) == member_id
        )
        return (await session.exec(stmt)).first()


async def vote_count(db: Database, statement_id: int) -> int:
    """How many members voted on a statement."""
    async with db.session() as session:
        stmt = select(func.count()).select_from(Vote).where(col(Vote.statement_id) == statement_id)
        return int((await session.exec(stmt)).one())


async def round_votes(db: Database, round_id: int) -> list[Cast]:
    """Every vote on a round's posted statements."""
    async with db.session() as session:
        stmt = (
            select(Vote.statement_id, Vote.member_id, Vote.choice, Vote.profession_key)
            .join(Statement, col(Statement.id) == col(Vote.statement_id))
            .where(
                col(Statement.round_id) == round_id,
                col(Statement.status) == STATEMENT_POSTED,
            )
            .order_by(col(Vote.statement_id), col(Vote.member_id))
        )
        return [Cast(s, m, c, p or "") for s, m, c, p in (await session.exec(stmt)).all()]


async def display_names(db: Database, member_ids: Sequence[int]) -> list[str]:
    """Every name these members go by (their member and account names), to keep out of
    drafted statements."""
    ids = list(dict.fromkeys(member_ids))
    names: set[str] = set()
    async with db.session() as session:
        for at in range(0, len(ids), 900):  # under SQLite's bound-parameter limit
            chunk = ids[at : at + 900]
            names.update(
                (
                    await session.exec(select(Member.display_name).where(col(Member.id).in_(chunk)))
                ).all()
            )
            names.update(
                (
                    await session.exec(
                        select(Account.display_name).where(col(Account.member_id).in_(chunk))
                    )
                ).all()
            )
    return sorted(names)


# ---------------------------------------------------------------- member data


async def member_data(db: Database, member_id: int) -> dict[str, list[dict[str, object]]]:
    """The member's votes (with each statement's text) and the statements they proposed."""
    async with db.session() as session:
        votes = (
            await session.exec(
                select(Vote, Statement)
                .join(Statement, col(Statement.id) == col(Vote.statement_id))
                .where(col(Vote.member_id) == member_id)
                .order_by(col(Vote.statement_id))
            )
        ).all()
        proposed = (
            await session.exec(
                select(Statement)
                .where(col(Statement.proposed_by) == member_id)
                .order_by(col(Statement.id))
            )
        ).all()
    return {
        "votes": [
            {
                "statement_id": vote.statement_id,
                "statement": statement.text,
                "choice": vote.choice,
                "profession_key": vote.profession_key,
                "voted_at": vote.voted_at.isoformat(),
            }
            for vote, statement in votes
        ],
        "proposed_statements": [json.loads(s.model_dump_json()) for s in proposed],
    }


async def statements_proposed_by(db: Database, member_id: int) -> list[Statement]:
    """The statements a member proposed (to take off the platform before erasing them)."""
    async with db.session() as session:
        stmt = select(Statement).where(col(Statement.proposed_by) == member_id)
        return list((await session.exec(stmt.order_by(col(Statement.id)))).all())


async def erase_member(db: Database, member_id: int) -> None:
    """Erase a member's votes and the statements they proposed (with the votes on them)."""
    async with db.session() as session:
        await session.exec(delete(Vote).where(col(Vote.member_id) == member_id))
        mine = select(Statement.id).where(col(Statement.proposed_by) == member_id)
        await session.exec(delete(Vote).where(col(Vote.statement_id).in_(mine.scalar_subquery())))
        await session.exec(delete(Statement).where(col(Statement.proposed_by) == member_id))
        await session.commit()
