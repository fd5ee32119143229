"""Circle settings, the prompt bank, rounds, answers, comments and reactions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Text, UniqueConstraint, delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col, select

from storage.database import Database
from storage.models import Circle
from storage.types import PUBLIC_VISIBILITIES, UTCDateTime, Visibility

PROMPT_ACTIVE = "active"
PROMPT_SUGGESTED = "suggested"
PROMPT_REMOVED = "removed"
PROMPT_REJECTED = "rejected"

ROUND_OPENING = "opening"
ROUND_OPEN = "open"
ROUND_CLOSED = "closed"


class CircleSettings(SQLModel, table=True):
    """How a circle's rounds run (locale and timezone live on the circle itself)."""

    __tablename__ = "circle_settings"

    circle_id: int = Field(foreign_key="circles.id", ondelete="CASCADE", primary_key=True)
    prompt_cron: str = Field(default="0 9 * * mon", max_length=100)
    round_hours: int = Field(default=6 * 24)
    reminder_hours: int = Field(default=24)
    #: ``None``: the default charter line in the circle's language.
    charter_line: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(sa_type=UTCDateTime)


class Prompt(SQLModel, table=True):
    """A question in a circle's bank (seeded, added by a host, or suggested by a member)."""

    __tablename__ = "prompts"

    id: int | None = Field(default=None, primary_key=True)
    circle_id: int = Field(foreign_key="circles.id", ondelete="CASCADE", index=True)
    #: Seeded prompts are rendered from the bundled bank in the circle's current language.
    seed_key: str | None = Field(default=None, max_length=64)
    text: str = Field(default="", sa_type=Text)
    #: JSON list of up to three sub-questions.
    sub_questions: str = Field(default="[]", sa_type=Text)
    status: str = Field(default=PROMPT_ACTIVE, max_length=16)
    position: int = Field(default=0)
    times_used: int = Field(default=0)
    suggested_by: int | None = Field(default=None, foreign_key="members.id", ondelete="SET NULL")
    created_at: datetime = Field(sa_type=UTCDateTime)

    @property
    def subs(self) -> list[str]:
        """The sub-questions."""
        value = json.loads(self.sub_questions or "[]")
        return [str(item) for item in value]


class Round(SQLModel, table=True):
    """One week's question: posted once, answered in its thread, then closed."""

    __tablename__ = "rounds"
    __table_args__ = (UniqueConstraint("circle_id", "scheduled_for", name="uq_rounds_circle_time"),)

    id: int | None = Field(default=None, primary_key=True)
    circle_id: int = Field(foreign_key="circles.id", ondelete="CASCADE", index=True)
    prompt_id: int | None = Field(default=None, foreign_key="prompts.id", ondelete="SET NULL")
    number: int
    #: The schedule slot this round fills (or the moment a host opened it).
    scheduled_for: datetime = Field(sa_type=UTCDateTime)
    opened_at: datetime = Field(sa_type=UTCDateTime)
    closes_at: datetime = Field(sa_type=UTCDateTime)
    reminder_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str = Field(default=ROUND_OPENING, max_length=16)
    #: The prompt as posted (in the circle's language at the time), for digests and history.
    prompt_text: str = Field(default="", sa_type=Text)
    sub_questions: str = Field(default="[]", sa_type=Text)
    platform: str = Field(max_length=32)
    channel_id: str = Field(max_length=255)
    message_id: str | None = Field(default=None, max_length=255)
    thread_id: str | None = Field(default=None, max_length=255, index=True)
    late: bool = Field(default=False)


class Answer(SQLModel, table=True):
    """A member's answer to a round, tagged with the profession they had when answering."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("platform", "message_id", name="uq_answers_message"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="rounds.id", ondelete="CASCADE", index=True)
    member_id: int = Field(foreign_key="members.id", ondelete="CASCADE", index=True)
    platform: str = Field(max_length=32)
    message_id: str = Field(max_length=255)
    text: str = Field(sa_type=Text)
    profession_key: str | None = Field(default=None, max_length=64)
    profession_wording: str = Field(default="", max_length=200)
    #: visible | redacted | held | hidden (the ``stored`` names of storage.types.Visibility).
    visibility: str = Field(default=Visibility.VISIBLE.stored, max_length=16)
    late: bool = Field(default=False)
    created_at: datetime = Field(sa_type=UTCDateTime)
    edited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AnswerRevision(SQLModel, table=True):
    """An earlier text of an edited answer."""

    __tablename__ = "answer_revisions"

    id: int | None = Field(default=None, primary_key=True)
    answer_id: int = Field(foreign_key="answers.id", ondelete="CASCADE", index=True)
    text: str = Field(sa_type=Text)
    replaced_at: datetime = Field(sa_type=UTCDateTime)


class Comment(SQLModel, table=True):
    """A reply to an answer: a comment on that viewpoint."""

    __tablename__ = "comments"
    __table_args__ = (UniqueConstraint("platform", "message_id", name="uq_comments_message"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="rounds.id", ondelete="CASCADE", index=True)
    answer_id: int | None = Field(
        default=None, foreign_key="answers.id", ondelete="SET NULL", index=True
    )
    member_id: int = Field(foreign_key="members.id", ondelete="CASCADE", index=True)
    platform: str = Field(max_length=32)
    message_id: str = Field(max_length=255)
    text: str = Field(sa_type=Text)
    profession_key: str | None = Field(default=None, max_length=64)
    visibility: str = Field(default=Visibility.VISIBLE.stored, max_length=16)
    created_at: datetime = Field(sa_type=UTCDateTime)
    edited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Reaction(SQLModel, table=True):
    """A member's reaction to an answer (readers take part by reacting)."""

    __tablename__ = "reactions"
    __table_args__ = (
        UniqueConstraint("answer_id", "member_id", "emoji", name="uq_reactions_once"),
    )

    id: int | None = Field(default=None, primary_key=True)
    answer_id: int = Field(foreign_key="answers.id", ondelete="CASCADE", index=True)
    member_id: int = Field(foreign_key="members.id", ondelete="CASCADE", index=True)
    emoji: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)


# ---------------------------------------------------------------- settings


async def get_settings(db: Database, circle_id: int) -> CircleSettings | None:
    """The circle's round settings, if it has any yet."""
    async with db.session() as session:
        return await session.get(CircleSettings, circle_id)


async def ensure_settings(db: Database, circle_id: int, *, now: datetime) -> CircleSettings:
    """The circle's settings, created with the defaults on first use."""
    async with db.session() as session:
        found = await session.get(CircleSettings, circle_id)
        if found is not None:
            return found
        settings = CircleSettings(circle_id=circle_id, created_at=now)
        session.add(settings)
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            found = await session.get(CircleSettings, circle_id)
            assert found is not None
            return found
        return settings


async def all_settings(db: Database) -> list[CircleSettings]:
    """Every circle's settings."""
    async with db.session() as session:
        return list((await session.exec(select(CircleSettings))).all())


async def circles_without_settings(db: Database) -> list[Circle]:
    """Circles that have no round settings yet (created before rounds kept them)."""
    async with db.session() as session:
        stmt = (
            select(Circle)
            .outerjoin(CircleSettings, col(CircleSettings.circle_id) == col(Circle.id))
            .where(col(CircleSettings.circle_id).is_(None))
            .order_by(col(Circle.id))
        )
        return list((await session.exec(stmt)).all())


async def update_settings(db: Database, circle_id: int, **changes: object) -> CircleSettings:
    """Change some settings of a circle."""
    async with db.session() as session:
        settings = await session.get(CircleSettings, circle_id)
        if settings is None:
            raise LookupError(f"no settings for circle {circle_id}")
        for name, value in changes.items():
            if name not in CircleSettings.model_fields or name in ("circle_id", "created_at"):
                raise TypeError(f"unknown setting {name!r}")
            setattr(settings, name, value)
        session.add(settings)
        await session.commit()
        return settings


# ---------------------------------------------------------------- prompts


async def seed_prompts(db: Database, circle_id: int, keys: Sequence[str], *, now: datetime) -> int:
    """Put the bundled prompts in a circle's bank once; returns how many were added."""
    async with db.session() as session:
        existing = set(
            (
                await session.exec(
                    select(Prompt.seed_key).where(col(Prompt.circle_id) == circle_id)
                )
            ).all()
        )
        added = 0
        for position, key in enumerate(keys):
            if key not in existing:
                session.add(
                    Prompt(circle_id=circle_id, seed_key=key, position=position, created_at=now)
                )
                added += 1
        await session.commit()
        return added


async def add_prompt(
    db: Database,
    circle_id: int,
    text: str,
    subs: Sequence[str],
    *,
    now: datetime,
    status: str = PROMPT_ACTIVE,
    suggested_by: int | None = None,
) -> Prompt:
    """Add a prompt at the end of the bank (or to the suggestions queue)."""
    async with db.session() as session:
        last = (
            await session.exec(
                select(func.max(Prompt.position)).where(col(Prompt.circle_id) == circle_id)
            )
        ).one()
        lowest = (
            await session.exec(
                select(func.min(Prompt.times_used)).where(
                    col(Prompt.circle_id) == circle_id, col(Prompt.status) == PROMPT_ACTIVE
                )
            )
        ).one()
        prompt = Prompt(
            circle_id=circle_id,
            text=text,
            sub_questions=json.dumps(list(subs), ensure_ascii=False),
            status=status,
            position=(last or 0) + 1,
            # A new prompt joins the current cycle: it neither jumps the queue nor repeats one.
            times_used=lowest or 0,
            suggested_by=suggested_by,
            created_at=now,
        )
        session.add(prompt)
        await session.commit()
        return prompt


async def get_prompt(db: Database, circle_id: int, prompt_id: int) -> Prompt | None:
    """A prompt of this circle."""
    async with db.session() as session:
        prompt = await session.get(Prompt, prompt_id)
        return prompt if prompt is not None and prompt.circle_id == circle_id else None


async def prompts(db: Database, circle_id: int, status: str = PROMPT_ACTIVE) -> list[Prompt]:
    """The circle's prompts with a status, in rotation order (least used first)."""
    async with db.session() as session:
        stmt = (
            select(Prompt)
            .where(col(Prompt.circle_id) == circle_id, col(Prompt.status) == status)
            .order_by(col(Prompt.times_used), col(Prompt.position), col(Prompt.id))
        )
        return list((await session.exec(stmt)).all())


async def set_prompt_status(db: Database, prompt_id: int, status: str) -> None:
    """Move a prompt to another status."""
    async with db.session() as session:
        await session.exec(update(Prompt).where(col(Prompt.id) == prompt_id).values(status=status))
        await session.commit()


async def mark_used(db: Database, prompt_id: int) -> None:
    """Count one use of a prompt (posted or skipped)."""
    async with db.session() as session:
        await session.exec(
            update(Prompt)
            .where(col(Prompt.id) == prompt_id)
            .values(times_used=Prompt.times_used + 1)
        )
        await session.commit()


# ---------------------------------------------------------------- rounds


async def create_round(db: Database, new: Round) -> Round | None:
    """Insert a round; ``None`` when that schedule slot already has one (a duplicate fire)."""
    async with db.session() as session:
        count = (
            await session.exec(
                select(func.count()).select_from(Round).where(col(Round.circle_id) == new.circle_id)
            )
        ).one()
        new.number = count + 1
        session.add(new)
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            return None
        return new


async def save_round(db: Database, round_: Round) -> Round:
    """Store changes to a round."""
    async with db.session() as session:
        merged = await session.merge(round_)
        await session.commit()
        return merged


async def get_round(db: Database, round_id: int) -> Round | None:
    """A round by id."""
    async with db.session() as session:
        return await session.get(Round, round_id)


async def round_by_thread(db: Database, platform: str, thread_id: str) -> Round | None:
    """The round whose thread this is."""
    async with db.session() as session:
        stmt = select(Round).where(
            col(Round.platform) == platform, col(Round.thread_id) == thread_id
        )
        return (await session.exec(stmt)).first()


async def rounds_with_status(db: Database, *statuses: str) -> list[Round]:
    """Every round in one of these states (to rebuild jobs at start)."""
    async with db.session() as session:
        stmt = select(Round).where(col(Round.status).in_(statuses)).order_by(col(Round.id))
        return list((await session.exec(stmt)).all())


async def current_round(db: Database, circle_id: int) -> Round | None:
    """The circle's open round, if any."""
    async with db.session() as session:
        stmt = (
            select(Round)
            .where(col(Round.circle_id) == circle_id, col(Round.status) == ROUND_OPEN)
            .order_by(col(Round.id).desc())
        )
        return (await session.exec(stmt)).first()


async def latest_round(db: Database, circle_id: int) -> Round | None:
    """The circle's most recent round, open or closed."""
    async with db.session() as session:
        stmt = select(Round).where(col(Round.circle_id) == circle_id).order_by(col(Round.id).desc())
        return (await session.exec(stmt)).first()


# ---------------------------------------------------------------- answers


_MESSAGE_KEY = ("platform", "message_id")
_ANSWER_DEFAULTS: dict[str, Any] = {
    "profession_key": None,
    "profession_wording": "",
    "visibility": Visibility.VISIBLE.stored,
    "late": False,
    "edited_at": None,
}
_COMMENT_DEFAULTS: dict[str, Any] = {
    "answer_id": None,
    "profession_key": None,
    "visibility": Visibility.VISIBLE.stored,
    "edited_at": None,
}


async def add_answer(db: Database, **values: Any) -> int | None:
    """Store an answer (the columns of :class:`Answer` as keywords); its id, or ``None`` if
    that message was already stored (a redelivery).

    Plain values, no ORM object: this is the hot path of a busy round.
    """
    table = Answer.__table__  # type: ignore[attr-defined]
    return await db.insert_once(table, {**_ANSWER_DEFAULTS, **values}, _MESSAGE_KEY)


async def add_comment(db: Database, **values: Any) -> int | None:
    """Store a comment (the columns of :class:`Comment`); its id, or ``None`` if already stored."""
    table = Comment.__table__  # type: ignore[attr-defined]
    return await db.insert_once(table, {**_COMMENT_DEFAULTS, **values}, _MESSAGE_KEY)


async def get_answer(db: Database, answer_id: int) -> Answer | None:
    """An answer by id."""
    async with db.session() as session:
        return await session.get(Answer, answer_id)


async def answer_by_message(db: Database, platform: str, message_id: str) -> Answer | None:
    """The answer posted as this message."""
    async with db.session() as session:
        stmt = select(Answer).where(
            col(Answer.platform) == platform, col(Answer.message_id) == message_id
        )
        return (await session.exec(stmt)).first()


async def comment_by_message(db: Database, platform: str, message_id: str) -> Comment | None:
    """The comment posted as this message."""
    async with db.session() as session:
        stmt = select(Comment).where(
            col(Comment.platform) == platform, col(Comment.message_id) == message_id
        )
        return (await session.exec(stmt)).first()


async def edit_answer(
    db: Database, answer_id: int, text: str, visibility: str, *, now: datetime
) -> None:
    """Replace an answer's text, keeping the previous one as a revision."""
    async with db.session() as session:
        answer = await session.get(Answer, answer_id)
        if answer is None:
            return
        if answer.text != text:
            session.add(AnswerRevision(answer_id=answer_id, text=answer.text, replaced_at=now))
        answer.text = text
        answer.visibility = visibility
        answer.edited_at = now
        session.add(answer)
        await session.commit()


async def edit_comment(
    db: Database, comment_id: int, text: str, visibility: str, *, now: datetime
) -> None:
    """Replace a comment's text."""
    async with db.session() as session:
        comment = await session.get(Comment, comment_id)
        if comment is None:
            return
        comment.text = text
        comment.visibility = visibility
        comment.edited_at = now
        session.add(comment)
        await session.commit()


async def revisions(db: Database, answer_id: int) -> list[AnswerRevision]:
    """Earlier texts of an answer, oldest first."""
    async with db.session() as session:
        stmt = (
            select(AnswerRevision)
            .where(col(AnswerRevision.answer_id) == answer_id)
            .order_by(col(AnswerRevision.id))
        )
        return list((await session.exec(stmt)).all())


async def delete_by_message(
    db: Database, platform: str, message_id: str, *, only_visible: bool = False
) -> bool:
    """Remove the answer or comment posted as this message; ``True`` if one was removed.

    With ``only_visible``, what moderation took out of view (redacted, held, hidden) stays.
    """
    async with db.session() as session:
        removed = 0
        for model in (Answer, Comment):
            stmt = delete(model).where(
                col(model.platform) == platform, col(model.message_id) == message_id
            )
            if only_visible:
                stmt = stmt.where(col(model.visibility) == Visibility.VISIBLE.stored)
            result = await session.exec(stmt)
            removed += result.rowcount or 0
        await session.commit()
        return removed > 0


async def publish(db: Database, platform: str, message_id: str, text: str) -> None:
    """A host approved a held answer or comment: show it, with the text as published."""
    async with db.session() as session:
        for model in (Answer, Comment):
            await session.exec(
                update(model)
                .where(col(model.platform) == platform, col(model.message_id) == message_id)
                .values(visibility=Visibility.VISIBLE.stored, text=text)
            )
        await session.commit()


async def set_visibility(db: Database, platform: str, message_id: str, visibility: str) -> None:
    """Change how an answer or comment may be shown (a host approved or rejected it)."""
    async with db.session() as session:
        for model in (Answer, Comment):
            await session.exec(
                update(model)
                .where(col(model.platform) == platform, col(model.message_id) == message_id)
                .values(visibility=visibility)
            )
        await session.commit()


async def answers(db: Database, round_id: int) -> list[Answer]:
    """Every stored answer of a round, in order."""
    async with db.session() as session:
        stmt = select(Answer).where(col(Answer.round_id) == round_id).order_by(col(Answer.id))
        return list((await session.exec(stmt)).all())


async def comments(db: Database, round_id: int) -> list[Comment]:
    """Every stored comment of a round, in order."""
    async with db.session() as session:
        stmt = select(Comment).where(col(Comment.round_id) == round_id).order_by(col(Comment.id))
        return list((await session.exec(stmt)).all())


async def public_answers(db: Database, round_id: int) -> list[Answer]:
    """The round's answers that may be seen and counted (never held or hidden ones), in order."""
    async with db.session() as session:
        stmt = (
            select(Answer)
            .where(
                col(Answer.round_id) == round_id,
                col(Answer.visibility).in_(PUBLIC_VISIBILITIES),
            )
            .order_by(col(Answer.id))
        )
        return list((await session.exec(stmt)).all())


async def public_comments(db: Database, round_id: int) -> list[Comment]:
    """The round's comments that may be seen and counted, in order."""
    async with db.session() as session:
        stmt = (
            select(Comment)
            .where(
                col(Comment.round_id) == round_id,
                col(Comment.visibility).in_(PUBLIC_VISIBILITIES),
            )
            .order_by(col(Comment.id))
        )
        return list((await session.exec(stmt)).all())


async def answered_profession_keys(db: Database, circle_id: int) -> set[str]:
    """Every profession that has answered in one of the circle's rounds (any visibility)."""
    async with db.session() as session:
        stmt = (
            select(Answer.profession_key)
            .join(Round, col(Round.id) == col(Answer.round_id))
            .where(col(Round.circle_id) == circle_id, col(Answer.profession_key).is_not(None))
            .distinct()
        )
        return {key for key in (await session.exec(stmt)).all() if key}


async def tag_untagged(
    db: Database, member_id: int, round_ids: Sequence[int], key: str, wording: str
) -> int:
    """Give a profession to a member's untagged answers and comments in these rounds."""
    if not round_ids:
        return 0
    async with db.session() as session:
        result = await session.exec(
            update(Answer)
            .where(
                col(Answer.member_id) == member_id,
                col(Answer.round_id).in_(round_ids),
                col(Answer.profession_key).is_(None),
            )
            .values(profession_key=key, profession_wording=wording)
        )
        await session.exec(
            update(Comment)
            .where(
                col(Comment.member_id) == member_id,
                col(Comment.round_id).in_(round_ids),
                col(Comment.profession_key).is_(None),
            )
            .values(profession_key=key)
        )
        await session.commit()
        return int(result.rowcount or 0)


# ---------------------------------------------------------------- reactions


async def add_reaction(
    db: Database, answer_id: int, member_id: int, emoji: str, *, now: datetime
) -> bool:
    """Record a reaction once; ``False`` if it was already there."""
    table = Reaction.__table__  # type: ignore[attr-defined]
    values = {"answer_id": answer_id, "member_id": member_id, "emoji": emoji, "created_at": now}
    return await db.insert_once(table, values, ("answer_id", "member_id", "emoji")) is not None


async def remove_reaction(db: Database, answer_id: int, member_id: int, emoji: str) -> None:
    """Forget a reaction."""
    async with db.session() as session:
        await session.exec(
            delete(Reaction).where(
                col(Reaction.answer_id) == answer_id,
                col(Reaction.member_id) == member_id,
                col(Reaction.emoji) == emoji,
            )
        )
        await session.commit()


async def reactions(db: Database, round_id: int) -> list[Reaction]:
    """Every reaction to the answers of a round."""
    async with db.session() as session:
        stmt = (
            select(Reaction)
            .join(Answer, col(Answer.id) == col(Reaction.answer_id))
            .where(col(Answer.round_id) == round_id)
            .order_by(col(Reaction.id))
        )
        return list((await session.exec(stmt)).all())


# ---------------------------------------------------------------- member data


async def member_data(db: Database, member_id: int) -> dict[str, list[dict[str, object]]]:
    """Everything stored about a member's participation, JSON-ready."""
    async with db.session() as session:
        out: dict[str, list[dict[str, object]]] = {}
        for name, model in (
            ("answers", Answer),
            ("comments", Comment),
            ("reactions", Reaction),
        ):
            rows = (
                await session.exec(select(model).where(col(model.member_id) == member_id))
            ).all()
            out[name] = [json.loads(row.model_dump_json()) for row in rows]
        suggested = (
            await session.exec(select(Prompt).where(col(Prompt.suggested_by) == member_id))
        ).all()
        out["suggested_prompts"] = [json.loads(p.model_dump_json()) for p in suggested]
        return out


async def erase_member(db: Database, member_id: int) -> None:
    """Erase a member's answers (with their history), comments, reactions and the questions
    they suggested; a suggestion a host took into the bank stays there, as the circle's."""
    async with db.session() as session:
        for model in (Reaction, Comment, Answer):
            await session.exec(delete(model).where(col(model.member_id) == member_id))
        suggested = col(Prompt.suggested_by) == member_id
        await session.exec(delete(Prompt).where(suggested, col(Prompt.status) != PROMPT_ACTIVE))
        await session.exec(update(Prompt).where(suggested).values(suggested_by=None))
        await session.commit()


async def purge_closed_before(db: Database, cutoff: datetime) -> int:
    """Delete answers and comments of rounds closed before ``cutoff``; how many were deleted.

    Rounds themselves (their prompt, number and dates) stay, as do digests.
    """
    async with db.session() as session:
        old_rounds = select(Round.id).where(
            col(Round.status) == ROUND_CLOSED, col(Round.closed_at) < cutoff
        )
        removed = 0
        for model in (Comment, Answer):
            result = await session.exec(
                delete(model).where(col(model.round_id).in_(old_rounds.scalar_subquery()))
            )
            removed += result.rowcount or 0
        await session.commit()
        return removed
