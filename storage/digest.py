"""Stored digests (one per round, posted once) and the sentence-embedding cache of answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import LargeBinary, Text, and_, delete, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col, select

from storage import state
from storage.database import Database
from storage.models import Circle
from storage.rounds import ROUND_CLOSED, Answer, Round
from storage.types import PUBLIC_VISIBILITIES, UTCDateTime
from storage.writer import dialect_insert

DIGEST_PENDING = "pending"
DIGEST_POSTED = "posted"


class DigestRecord(SQLModel, table=True):
    """A round's digest: claimed once, then posted once; its data survive for exports."""

    __tablename__ = "digests"

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="rounds.id", ondelete="CASCADE", unique=True)
    circle_id: int = Field(foreign_key="circles.id", ondelete="CASCADE", index=True)
    status: str = Field(default=DIGEST_PENDING, max_length=16)
    locale: str = Field(default="fr", max_length=8)
    #: The analysis as JSON (see ``cogs.digest.analysis.Digest.as_dict``).
    data: str = Field(default="", sa_type=Text)
    #: The digest as posted, in Markdown.
    markdown: str = Field(default="", sa_type=Text)
    chart: bytes | None = Field(default=None, sa_type=LargeBinary)
    #: JSON list of the posted messages' ids.
    message_ids: str = Field(default="[]", sa_type=Text)
    created_at: datetime = Field(sa_type=UTCDateTime)
    posted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AnswerEmbedding(SQLModel, table=True):
    """The sentence vectors of an answer (float16), valid while its text hash matches."""

    __tablename__ = "digest_embeddings"

    answer_id: int = Field(foreign_key="answers.id", ondelete="CASCADE", primary_key=True)
    text_hash: str = Field(max_length=40)
    sentences: int
    dims: int
    vectors: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = Field(sa_type=UTCDateTime)


@dataclass(frozen=True, slots=True)
class CachedVectors:
    """One cached row, as raw bytes (the caller knows the dtype)."""

    text_hash: str
    sentences: int
    dims: int
    vectors: bytes


# ---------------------------------------------------------------- digests


async def claim(db: Database, round_id: int, circle_id: int, *, now: datetime) -> bool:
    """Reserve a round's digest; ``False`` if another fire (or instance) already did."""
    async with db.session() as session:
        session.add(DigestRecord(round_id=round_id, circle_id=circle_id, created_at=now))
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            return False
        return True


async def get(db: Database, round_id: int) -> DigestRecord | None:
    """The digest of a round."""
    async with db.session() as session:
        stmt = select(DigestRecord).where(col(DigestRecord.round_id) == round_id)
        return (await session.exec(stmt)).first()


async def save(db: Database, record: DigestRecord) -> DigestRecord:
    """Store changes to a digest."""
    async with db.session() as session:
        merged = await session.merge(record)
        await session.commit()
        await session.refresh(merged)
        return merged


async def pending(db: Database) -> list[DigestRecord]:
    """Digests claimed but never posted (the bot stopped in between)."""
    async with db.session() as session:
        stmt = (
            select(DigestRecord)
            .where(col(DigestRecord.status) == DIGEST_PENDING)
            .order_by(col(DigestRecord.id))
        )
        return list((await session.exec(stmt)).all())


async def containing(db: Database, needle: str) -> list[DigestRecord]:
    """Digests whose stored data contain ``needle`` (to find a member's quotes)."""
    async with db.session() as session:
        stmt = (
            select(DigestRecord)
            .where(col(DigestRecord.data).contains(needle))
            .order_by(col(DigestRecord.id))
        )
        return list((await session.exec(stmt)).all())


async def posted(db: Database) -> list[tuple[DigestRecord, Round, Circle]]:
    """Every posted digest with its round and circle, newest first (``cercle archive``)."""
    async with db.session() as session:
        stmt = (
            select(DigestRecord, Round, Circle)
            .join(Round, col(Round.id) == col(DigestRecord.round_id))
            .join(Circle, col(Circle.id) == col(DigestRecord.circle_id))
            .where(col(DigestRecord.status) == DIGEST_POSTED)
            .order_by(col(DigestRecord.posted_at).desc(), col(DigestRecord.id).desc())
        )
        return [tuple(row) for row in (await session.exec(stmt)).all()]  # type: ignore[misc]


# ---------------------------------------------------------------- which round


async def last_closed_round(db: Database, circle_id: int) -> Round | None:
    """The circle's most recently closed round (the one whose digest was last due)."""
    async with db.session() as session:
        stmt = (
            select(Round)
            .where(col(Round.circle_id) == circle_id, col(Round.status) == ROUND_CLOSED)
            .order_by(col(Round.number).desc(), col(Round.id).desc())
        )
        return (await session.exec(stmt)).first()


async def round_numbered(db: Database, circle_id: int, number: int) -> Round | None:
    """The circle's round ``#number``."""
    async with db.session() as session:
        stmt = select(Round).where(col(Round.circle_id) == circle_id, col(Round.number) == number)
        return (await session.exec(stmt)).first()


# ---------------------------------------------------------------- embeddings


async def cached_vectors(db: Database, answer_ids: Sequence[int]) -> dict[int, CachedVectors]:
    """Cached vectors of these answers, by answer id."""
    out: dict[int, CachedVectors] = {}
    async with db.session() as session:
        for at in range(0, len(answer_ids), 900):  # under SQLite's bound-parameter limit
            chunk = answer_ids[at : at + 900]
            stmt = select(AnswerEmbedding).where(col(AnswerEmbedding.answer_id).in_(chunk))
            for row in (await session.exec(stmt)).all():
                out[row.answer_id] = CachedVectors(
                    row.text_hash, row.sentences, row.dims, row.vectors
                )
    return out


async def answers_without_vectors(
    db: Database, round_id: int, *, after: int = 0, limit: int = 256
) -> list[tuple[int, str]]:
    """(id, text) of the round's public answers that have no vectors for their text: none
    stored, or stored before the answer's last edit. At most ``limit``, by id, after ``after``.

    The vectors themselves are never read: the answers that have them cost an index lookup.
    """
    stmt = (
        select(Answer.id, Answer.text)
        .outerjoin(AnswerEmbedding, col(AnswerEmbedding.answer_id) == col(Answer.id))
        .where(
            col(Answer.round_id) == round_id,
            col(Answer.visibility).in_(PUBLIC_VISIBILITIES),
            col(Answer.id) > after,
            or_(
                col(AnswerEmbedding.answer_id).is_(None),
                and_(
                    col(Answer.edited_at).is_not(None),
                    col(Answer.edited_at) > col(AnswerEmbedding.created_at),
                ),
            ),
        )
        .order_by(col(Answer.id))
        .limit(limit)
    )
    async with db.session() as session:
        return [(int(i or 0), text) for i, text in (await session.exec(stmt)).all()]


async def store_vectors(
    db: Database, rows: Sequence[tuple[int, CachedVectors]], *, now: datetime
) -> None:
    """Insert or replace cached vectors.

    One statement executed with many parameter sets: SQLAlchemy compiles it once (cached), not
    a VALUES clause of bound parameters per row, which took ~35 ms of the event loop for each
    chunk of the embedding job.
    """
    if not rows:
        return
    table = AnswerEmbedding.__table__  # type: ignore[attr-defined]
    stmt = dialect_insert(db.engine, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=["answer_id"],
        set_={
            "text_hash": stmt.excluded.text_hash,
            "sentences": stmt.excluded.sentences,
            "dims": stmt.excluded.dims,
            "vectors": stmt.excluded.vectors,
            "created_at": stmt.excluded.created_at,
        },
    )
    values = [
        {
            "answer_id": answer_id,
            "text_hash": v.text_hash,
            "sentences": v.sentences,
            "dims": v.dims,
            "vectors": v.vectors,
            "created_at": now,
        }
        for answer_id, v in rows
    ]
    async with db.engine.begin() as conn:
        await conn.execute(stmt, values)


async def forget_vectors(db: Database, answer_ids: Sequence[int]) -> None:
    """Drop cached vectors (they also go with their answers)."""
    async with db.session() as session:
        await session.exec(
            delete(AnswerEmbedding).where(col(AnswerEmbedding.answer_id).in_(answer_ids))
        )
        await session.commit()


async def professions_of(db: Database, member_ids: Sequence[int]) -> dict[int, str]:
    """Current profession key of each member who has one (reactors, for agreement)."""
    from storage.professions import MemberProfession

    out: dict[int, str] = {}
    ids = list(dict.fromkeys(member_ids))
    async with db.session() as session:
        for at in range(0, len(ids), 900):
            stmt = select(MemberProfession.member_id, MemberProfession.key).where(
                col(MemberProfession.member_id).in_(ids[at : at + 900])
            )
            out.update({member: key for member, key in (await session.exec(stmt)).all()})
    return out


_NAMED = "named"


async def set_named(db: Database, member_id: int, name: str | None, *, now: datetime) -> None:
    """Opt a member in (their display name) or out (``None``) of being named in quotes."""
    await state.set_state(db, "digest", f"{_NAMED}:{member_id}", name or "", now=now)


async def forget_named(db: Database, member_id: int) -> None:
    """Drop the member's choice about being named (they are forgotten)."""
    await state.delete_state(db, "digest", f"{_NAMED}:{member_id}")


async def named_members(db: Database) -> dict[int, str]:
    """Members who opted in to be named next to their quotes, with the name to show."""
    prefix = f"{_NAMED}:"
    values = await state.states_with_prefix(db, "digest", prefix)
    return {int(key.removeprefix(prefix)): name for key, name in values.items() if name}
