"""The exactly-once ledger: which events were settled, and which side effects were performed.

- ``handled_events``: one row per event the core settled, keyed by a hash of the event's identity
  (platform, kind, message id, time): ``done`` once every step of its handling succeeded,
  ``dead`` when it kept failing and was set aside (a dead letter, shown in ``/circle health``).
  A replay of a settled event (a Matrix sync batch re-read after a crash, Discord catch-up, the
  memory inbox) is dropped.
- ``effects``: one row per side effect performed while handling an event or running a job (a
  message sent, a member muted, a strike stored, a step finished), keyed by a hash of where it
  happened (the event or job occurrence, the step, its rank in the step). A retry or a replay
  skips what is recorded and gets the recorded result back instead of doing it again.

Keys are SHA-256 hex digests and results hold platform ids only, never a member's words or name:
forgetting a member leaves nothing of them here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Text, delete, func, select
from sqlmodel import Field, SQLModel, col
from sqlmodel import select as select_model

from storage.database import Database
from storage.types import UTCDateTime

EVENT_DONE = "done"
EVENT_DEAD = "dead"


class HandledEvent(SQLModel, table=True):
    """An event the core settled: handled (``done``) or set aside (``dead``)."""

    __tablename__ = "handled_events"

    key: str = Field(primary_key=True, max_length=64)
    platform: str = Field(max_length=32)
    #: Where it happened (the platform's channel id), to show dead letters per circle.
    channel_id: str = Field(default="", max_length=255, index=True)
    #: The event's type (``MessagePosted``, ``CommandInvoked``…).
    kind: str = Field(max_length=32)
    status: str = Field(max_length=8)
    attempts: int = Field(default=1)
    #: Why a dead letter failed (the exception's type and message, clipped).
    error: str | None = Field(default=None, sa_type=Text)
    handled_at: datetime = Field(sa_type=UTCDateTime, index=True)


class Effect(SQLModel, table=True):
    """A side effect performed once, with what it returned (platform ids as JSON)."""

    __tablename__ = "effects"

    key: str = Field(primary_key=True, max_length=64)
    #: The event or job occurrence it belongs to (its ledger key), to read them all at once.
    scope: str = Field(max_length=64, index=True)
    result: str = Field(default="", sa_type=Text)
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)


#: Keys looked up in one query at most (far under SQLite's and PostgreSQL's parameter limits).
_LOOKUP_CHUNK = 500


async def statuses(db: Database, keys: Sequence[str]) -> dict[str, str]:
    """The status (``done`` or ``dead``) of each of ``keys`` that was settled; the keys of
    events never settled are left out."""
    found: dict[str, str] = {}
    table = HandledEvent.__table__  # type: ignore[attr-defined]
    async with db.engine.connect() as conn:
        for start in range(0, len(keys), _LOOKUP_CHUNK):
            chunk = keys[start : start + _LOOKUP_CHUNK]
            stmt = select(table.c.key, table.c.status).where(table.c.key.in_(chunk))
            found.update((key, status) for key, status in (await conn.execute(stmt)).all())
    return found


async def settle(db: Database, event: HandledEvent) -> None:
    """Record that an event is settled (a second record of the same event is ignored).

    Group-committed: the events settled together share a transaction and one ``INSERT``.
    """
    await db.insert_ignoring(HandledEvent.__table__, event.model_dump())  # type: ignore[attr-defined]


async def effects_of(db: Database, scope: str) -> dict[str, str]:
    """Every side effect recorded in ``scope``: its key and result."""
    stmt = select_model(Effect.key, Effect.result).where(col(Effect.scope) == scope)
    async with db.session() as session:
        return {key: result for key, result in (await session.exec(stmt)).all()}


async def effects_in(db: Database, scopes: Sequence[str]) -> dict[str, dict[str, str]]:
    """:func:`effects_of` for many scopes in one query (scopes without any are left out)."""
    found: dict[str, dict[str, str]] = {}
    table = Effect.__table__  # type: ignore[attr-defined]
    async with db.engine.connect() as conn:
        for start in range(0, len(scopes), _LOOKUP_CHUNK):
            chunk = scopes[start : start + _LOOKUP_CHUNK]
            stmt = select(table.c.scope, table.c.key, table.c.result).where(
                table.c.scope.in_(chunk)
            )
            for scope, key, result in (await conn.execute(stmt)).all():
                found.setdefault(scope, {})[key] = result
    return found


async def record_effect(db: Database, scope: str, key: str, result: str, *, now: datetime) -> None:
    """Record a performed side effect (a second record of the same key is ignored)."""
    values = {"key": key, "scope": scope, "result": result, "created_at": now}
    await db.insert_ignoring(Effect.__table__, values)  # type: ignore[attr-defined]


async def dead_letters(
    db: Database, platform: str, channel_id: str, *, limit: int = 5
) -> tuple[int, list[HandledEvent]]:
    """How many events of a channel were set aside, and the latest ``limit`` of them."""
    where = (
        col(HandledEvent.platform) == platform,
        col(HandledEvent.channel_id) == channel_id,
        col(HandledEvent.status) == EVENT_DEAD,
    )
    async with db.session() as session:
        count = (await session.exec(select_model(func.count()).where(*where))).one()
        stmt = (
            select_model(HandledEvent).where(*where).order_by(col(HandledEvent.handled_at).desc())
        )
        return int(count), list((await session.exec(stmt.limit(limit))).all())


async def prune(db: Database, *, before: datetime) -> int:
    """Forget settled events and effects older than ``before`` (no replay reaches that far)."""
    async with db.engine.begin() as conn:
        events = await conn.execute(
            delete(HandledEvent).where(
                col(HandledEvent.handled_at) < before, col(HandledEvent.status) == EVENT_DONE
            )
        )
        effects = await conn.execute(delete(Effect).where(col(Effect.created_at) < before))
    return int(events.rowcount or 0) + int(effects.rowcount or 0)
