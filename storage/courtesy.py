"""Courtesy moderation: per-circle settings, the audit log, strikes, mutes and the hosts' queue."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Text, delete, func, or_, update
from sqlmodel import Field, SQLModel, col, select

from storage.database import Database
from storage.models import Account
from storage.types import UTCDateTime

MODE_ENFORCE: Final = "enforce"
MODE_OBSERVE: Final = "observe"
MODES: Final = (MODE_OBSERVE, MODE_ENFORCE)

ACTOR_RULES: Final = "rules"
ACTOR_HOST: Final = "host"

SOURCE_RULES: Final = "rules"
SOURCE_REPORT: Final = "report"

STATUS_PENDING: Final = "pending"
STATUS_APPROVED: Final = "approved"
STATUS_REJECTED: Final = "rejected"


class CourtesySettings(SQLModel, table=True):
    """How a circle is moderated: its mode, its charter and its rule overrides."""

    __tablename__ = "courtesy_settings"

    circle_id: int = Field(foreign_key="circles.id", ondelete="CASCADE", primary_key=True)
    mode: str = Field(default=MODE_ENFORCE, max_length=16)
    #: ``None``: the default charter in the circle's language.
    charter: str | None = Field(default=None, sa_type=Text)
    #: JSON object in the shape of ``cogs/courtesy/data/rules.toml`` (rules, allow, words...).
    overrides: str = Field(default="{}", sa_type=Text)
    updated_at: datetime = Field(sa_type=UTCDateTime)

    @property
    def override_data(self) -> dict[str, Any]:
        """The overrides as a mapping."""
        value = json.loads(self.overrides or "{}")
        return value if isinstance(value, dict) else {}


class AuditEntry(SQLModel, table=True):
    """One decision, by the rules or by a host."""

    __tablename__ = "courtesy_audit"

    id: int | None = Field(default=None, primary_key=True)
    circle_id: int = Field(foreign_key="circles.id", ondelete="CASCADE", index=True)
    #: The member the decision is about (``None`` for circle-wide decisions).
    member_id: int | None = Field(
        default=None, foreign_key="members.id", ondelete="SET NULL", index=True
    )
    message_id: str | None = Field(default=None, max_length=255)
    rule: str | None = Field(default=None, max_length=64)
    category: str = Field(default="ok", max_length=16)
    action: str = Field(max_length=16)
    #: ``rules`` or ``host``.
    actor: str = Field(max_length=16)
    actor_member_id: int | None = Field(default=None, foreign_key="members.id", ondelete="SET NULL")
    #: ``observe`` decisions were only logged.
    mode: str = Field(default=MODE_ENFORCE, max_length=16)
    note: str = Field(default="", sa_type=Text)
    created_at: datetime = Field(sa_type=UTCDateTime)
    #: Who decided, for the rules' decisions: ``rules``, or the semantic layer's ``gate`` or
    #: ``encoder`` (``None`` for hosts' decisions and rows older than the semantic layer).
    layer: str | None = Field(default=None, max_length=16)
    #: The semantic layer's probability for the family it named, when it decided.
    score: float | None = None
    #: What tripped the rules, in words (a listed word or phrase, the kind of personal detail,
    #: a count): never a pattern, never the personal detail itself.
    term: str | None = Field(default=None, max_length=200)


class Strike(SQLModel, table=True):
    """Strikes a member earned in a circle; they decay with time (see the cog)."""

    __tablename__ = "courtesy_strikes"

    id: int | None = Field(default=None, primary_key=True)
    circle_id: int = Field(foreign_key="circles.id", ondelete="CASCADE", index=True)
    member_id: int = Field(foreign_key="members.id", ondelete="CASCADE", index=True)
    weight: float
    rule: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    #: Pardoned by a host or spent on a mute.
    cleared_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Mute(SQLModel, table=True):
    """A temporary mute (never a ban)."""

    __tablename__ = "courtesy_mutes"

    id: int | None = Field(default=None, primary_key=True)
    circle_id: int = Field(foreign_key="circles.id", ondelete="CASCADE", index=True)
    member_id: int = Field(foreign_key="members.id", ondelete="CASCADE", index=True)
    until: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    lifted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class QueueItem(SQLModel, table=True):
    """A message waiting for a host: held by the rules, or reported by a member."""

    __tablename__ = "courtesy_queue"

    id: int | None = Field(default=None, primary_key=True)
    circle_id: int = Field(foreign_key="circles.id", ondelete="CASCADE", index=True)
    #: The author, when known.
    member_id: int | None = Field(
        default=None, foreign_key="members.id", ondelete="CASCADE", index=True
    )
    platform: str = Field(max_length=32)
    channel_id: str = Field(max_length=255)
    channel_name: str = Field(default="", max_length=200)
    thread_id: str | None = Field(default=None, max_length=255)
    message_id: str | None = Field(default=None, max_length=255)
    author_id: str = Field(default="", max_length=255)
    author_name: str = Field(default="", max_length=200)
    text: str = Field(default="", sa_type=Text)
    #: The text with personal details masked, when it had any.
    redacted_text: str | None = Field(default=None, sa_type=Text)
    rule: str | None = Field(default=None, max_length=64)
    category: str = Field(default="ok", max_length=16)
    #: ``rules`` (held) or ``report``.
    source: str = Field(max_length=16)
    reporter_member_id: int | None = Field(
        default=None, foreign_key="members.id", ondelete="SET NULL"
    )
    #: What the reporter said.
    note: str = Field(default="", sa_type=Text)
    status: str = Field(default=STATUS_PENDING, max_length=16, index=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by: int | None = Field(default=None, foreign_key="members.id", ondelete="SET NULL")
    reason: str = Field(default="", sa_type=Text)


class Example(SQLModel, table=True):
    """A held message a host approved: the circle's semantic layer allows similar ones."""

    __tablename__ = "courtesy_examples"

    id: int | None = Field(default=None, primary_key=True)
    circle_id: int = Field(foreign_key="circles.id", ondelete="CASCADE", index=True)
    #: The author (forgetting them forgets their examples).
    member_id: int | None = Field(
        default=None, foreign_key="members.id", ondelete="CASCADE", index=True
    )
    #: As it was published (personal details masked).
    text: str = Field(sa_type=Text)
    created_at: datetime = Field(sa_type=UTCDateTime)


# ------------------------------------------------------------------ settings


async def get_settings(db: Database, circle_id: int) -> CourtesySettings | None:
    """A circle's moderation settings, if it has any."""
    async with db.session() as session:
        return await session.get(CourtesySettings, circle_id)


async def save_settings(
    db: Database,
    circle_id: int,
    *,
    now: datetime,
    mode: str | None = None,
    charter: str | None = None,
    reset_charter: bool = False,
    overrides: dict[str, Any] | None = None,
) -> CourtesySettings:
    """Create or change a circle's settings; only the given fields change.

    Raises:
        ValueError: an unknown mode.
    """
    if mode is not None and mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}")
    async with db.session() as session:
        row = await session.get(CourtesySettings, circle_id)
        if row is None:
            row = CourtesySettings(circle_id=circle_id, updated_at=now)
            session.add(row)
        if mode is not None:
            row.mode = mode
        if reset_charter:
            row.charter = None
        elif charter is not None:
            row.charter = charter
        if overrides is not None:
            row.overrides = json.dumps(overrides, ensure_ascii=False, sort_keys=True)
        row.updated_at = now
        await session.commit()
        await session.refresh(row)
        return row


# ------------------------------------------------------------------ audit


async def log(db: Database, entry: AuditEntry) -> AuditEntry:
    """Record a decision."""
    async with db.session() as session:
        session.add(entry)
        await session.commit()
        await session.refresh(entry)
        return entry


async def recent_log(
    db: Database, circle_id: int, *, member_id: int | None = None, limit: int = 20
) -> list[AuditEntry]:
    """The latest decisions of a circle, newest first, optionally about one member."""
    stmt = select(AuditEntry).where(col(AuditEntry.circle_id) == circle_id)
    if member_id is not None:
        stmt = stmt.where(col(AuditEntry.member_id) == member_id)
    stmt = stmt.order_by(col(AuditEntry.created_at).desc(), col(AuditEntry.id).desc()).limit(limit)
    async with db.session() as session:
        return list((await session.exec(stmt)).all())


async def count_decisions(
    db: Database,
    circle_id: int,
    member_id: int,
    *,
    category: str,
    action: str,
    since: datetime,
) -> int:
    """How many of the rules' carried-out decisions of this kind the member had since ``since``."""
    stmt = (
        select(func.count())
        .select_from(AuditEntry)
        .where(
            col(AuditEntry.circle_id) == circle_id,
            col(AuditEntry.member_id) == member_id,
            col(AuditEntry.actor) == ACTOR_RULES,
            col(AuditEntry.mode) == MODE_ENFORCE,
            col(AuditEntry.category) == category,
            col(AuditEntry.action) == action,
            col(AuditEntry.created_at) >= since,
        )
    )
    async with db.session() as session:
        return int((await session.exec(stmt)).one())


# ------------------------------------------------------------------ strikes and mutes


async def add_strike(db: Database, strike: Strike) -> Strike:
    """Record a strike."""
    async with db.session() as session:
        session.add(strike)
        await session.commit()
        await session.refresh(strike)
        return strike


async def active_strikes(db: Database, circle_id: int, member_id: int) -> list[Strike]:
    """The member's strikes in the circle that were neither pardoned nor spent, oldest first."""
    stmt = (
        select(Strike)
        .where(
            col(Strike.circle_id) == circle_id,
            col(Strike.member_id) == member_id,
            col(Strike.cleared_at).is_(None),
        )
        .order_by(col(Strike.created_at), col(Strike.id))
    )
    async with db.session() as session:
        return list((await session.exec(stmt)).all())


async def clear_strikes(db: Database, circle_id: int, member_id: int, *, now: datetime) -> int:
    """Clear the member's active strikes (pardon, or spent on a mute); returns how many."""
    stmt = (
        update(Strike)
        .where(
            col(Strike.circle_id) == circle_id,
            col(Strike.member_id) == member_id,
            col(Strike.cleared_at).is_(None),
        )
        .values(cleared_at=now)
        .execution_options(synchronize_session=False)
    )
    async with db.session() as session:
        count = (await session.exec(stmt)).rowcount
        await session.commit()
        return int(count or 0)


async def add_mute(db: Database, mute: Mute) -> Mute:
    """Record a mute."""
    async with db.session() as session:
        session.add(mute)
        await session.commit()
        await session.refresh(mute)
        return mute


async def count_mutes(db: Database, circle_id: int, member_id: int, *, since: datetime) -> int:
    """How many times the member was muted in the circle since ``since``."""
    stmt = (
        select(func.count())
        .select_from(Mute)
        .where(
            col(Mute.circle_id) == circle_id,
            col(Mute.member_id) == member_id,
            col(Mute.created_at) >= since,
        )
    )
    async with db.session() as session:
        return int((await session.exec(stmt)).one())


async def active_mute(
    db: Database, circle_id: int, member_id: int, *, now: datetime
) -> Mute | None:
    """The member's mute running at ``now``, if any."""
    stmt = (
        select(Mute)
        .where(
            col(Mute.circle_id) == circle_id,
            col(Mute.member_id) == member_id,
            col(Mute.lifted_at).is_(None),
            col(Mute.until) > now,
        )
        .order_by(col(Mute.until).desc())
    )
    async with db.session() as session:
        return (await session.exec(stmt)).first()


async def lift_mutes(db: Database, circle_id: int, member_id: int, *, now: datetime) -> int:
    """Lift the member's running mutes early; returns how many."""
    stmt = (
        update(Mute)
        .where(
            col(Mute.circle_id) == circle_id,
            col(Mute.member_id) == member_id,
            col(Mute.lifted_at).is_(None),
            col(Mute.until) > now,
        )
        .values(lifted_at=now)
        .execution_options(synchronize_session=False)
    )
    async with db.session() as session:
        count = (await session.exec(stmt)).rowcount
        await session.commit()
        return int(count or 0)


# ------------------------------------------------------------------ queue


async def enqueue(db: Database, item: QueueItem) -> QueueItem:
    """Put a message in the hosts' queue."""
    async with db.session() as session:
        session.add(item)
        await session.commit()
        await session.refresh(item)
        return item


async def pending(db: Database, circle_id: int, *, limit: int = 25) -> list[QueueItem]:
    """The circle's messages waiting for a host, oldest first."""
    stmt = (
        select(QueueItem)
        .where(col(QueueItem.circle_id) == circle_id, col(QueueItem.status) == STATUS_PENDING)
        .order_by(col(QueueItem.created_at), col(QueueItem.id))
        .limit(limit)
    )
    async with db.session() as session:
        return list((await session.exec(stmt)).all())


async def get_item(db: Database, circle_id: int, item_id: int) -> QueueItem | None:
    """One queue item of the circle."""
    async with db.session() as session:
        item = await session.get(QueueItem, item_id)
        return item if item is not None and item.circle_id == circle_id else None


async def decide(
    db: Database, item_id: int, status: str, *, host: int | None, reason: str, now: datetime
) -> QueueItem | None:
    """Approve or reject a pending item; ``None`` if it was not pending any more."""
    if status not in (STATUS_APPROVED, STATUS_REJECTED):
        raise ValueError(f"cannot decide {status!r}")
    stmt = (
        update(QueueItem)
        .where(col(QueueItem.id) == item_id, col(QueueItem.status) == STATUS_PENDING)
        .values(status=status, decided_at=now, decided_by=host, reason=reason)
        .execution_options(synchronize_session=False)
    )
    async with db.session() as session:
        if not (await session.exec(stmt)).rowcount:
            await session.rollback()
            return None
        await session.commit()
        return await session.get(QueueItem, item_id)


# ------------------------------------------------------------------ examples


async def add_example(db: Database, example: Example) -> Example:
    """Remember an approved message for its circle."""
    async with db.session() as session:
        session.add(example)
        await session.commit()
        await session.refresh(example)
        return example


async def examples(db: Database, circle_id: int) -> list[Example]:
    """The circle's approved examples, oldest first."""
    stmt = (
        select(Example)
        .where(col(Example.circle_id) == circle_id)
        .order_by(col(Example.created_at), col(Example.id))
    )
    async with db.session() as session:
        return list((await session.exec(stmt)).all())


async def example_circles(db: Database, member_id: int) -> set[int]:
    """The circles holding examples written by the member."""
    stmt = select(Example.circle_id).where(col(Example.member_id) == member_id).distinct()
    async with db.session() as session:
        return set((await session.exec(stmt)).all())


# ------------------------------------------------------------------ members


async def find_accounts(db: Database, platform: str, query: str) -> list[Account]:
    """Accounts on ``platform`` whose user id or display name is ``query`` (any case)."""
    wanted = query.strip().lower()
    stmt = select(Account).where(
        col(Account.platform) == platform,
        or_(
            func.lower(col(Account.platform_user_id)) == wanted,
            func.lower(col(Account.display_name)) == wanted,
        ),
    )
    async with db.session() as session:
        return list((await session.exec(stmt)).all())


async def accounts_of(db: Database, member_id: int) -> list[Account]:
    """A member's platform accounts."""
    stmt = select(Account).where(col(Account.member_id) == member_id)
    async with db.session() as session:
        return list((await session.exec(stmt)).all())


# ------------------------------------------------------------------ member data


def _row(model: SQLModel) -> dict[str, Any]:
    data = model.model_dump()
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in data.items()}


async def export_member(db: Database, member_id: int) -> dict[str, Any]:
    """Everything stored about the member by the courtesy rules, as JSON-ready data."""
    async with db.session() as session:
        audit = (
            await session.exec(select(AuditEntry).where(col(AuditEntry.member_id) == member_id))
        ).all()
        strikes = (
            await session.exec(select(Strike).where(col(Strike.member_id) == member_id))
        ).all()
        mutes = (await session.exec(select(Mute).where(col(Mute.member_id) == member_id))).all()
        held = (
            await session.exec(select(QueueItem).where(col(QueueItem.member_id) == member_id))
        ).all()
        reports = (
            await session.exec(
                select(QueueItem).where(col(QueueItem.reporter_member_id) == member_id)
            )
        ).all()
        approved = (
            await session.exec(select(Example).where(col(Example.member_id) == member_id))
        ).all()
    return {
        "decisions": [_row(e) for e in audit],
        "strikes": [_row(s) for s in strikes],
        "mutes": [_row(m) for m in mutes],
        "queued_messages": [_row(q) for q in held],
        "reports_made": [
            {"id": q.id, "created_at": q.created_at.isoformat(), "note": q.note} for q in reports
        ],
        "approved_examples": [_row(e) for e in approved],
    }


async def erase_member(db: Database, member_id: int) -> None:
    """Forget the member: their strikes, mutes, queued messages, approved examples, decisions
    about them; the reports they made lose their name and what they wrote (in the queue and in
    the log), the decisions they took as a host lose their name."""
    statements: Sequence[Any] = (
        delete(Example).where(col(Example.member_id) == member_id),
        delete(Strike).where(col(Strike.member_id) == member_id),
        delete(Mute).where(col(Mute.member_id) == member_id),
        delete(QueueItem).where(col(QueueItem.member_id) == member_id),
        delete(AuditEntry).where(col(AuditEntry.member_id) == member_id),
        update(QueueItem)
        .where(col(QueueItem.reporter_member_id) == member_id)
        .values(reporter_member_id=None, note=""),
        update(AuditEntry)
        .where(col(AuditEntry.actor_member_id) == member_id, col(AuditEntry.action) == "report")
        .values(note=""),
        update(QueueItem).where(col(QueueItem.decided_by) == member_id).values(decided_by=None),
        update(AuditEntry)
        .where(col(AuditEntry.actor_member_id) == member_id)
        .values(actor_member_id=None),
    )
    async with db.session() as session:
        for statement in statements:
            await session.exec(statement.execution_options(synchronize_session=False))
        await session.commit()


async def running_mutes(db: Database, *, now: datetime) -> list[Mute]:
    """Every mute not lifted and not over yet (to schedule their end after a restart)."""
    stmt = select(Mute).where(col(Mute.lifted_at).is_(None), col(Mute.until) > now)
    async with db.session() as session:
        return list((await session.exec(stmt)).all())
