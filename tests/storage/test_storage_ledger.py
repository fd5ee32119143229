"""The exactly-once ledger: settled events and performed effects, stored once, found again,
and written together when they arrive together (a backlog caught up in batches)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import event

from storage import ledger
from storage.database import Database


def _event(i: int, now: datetime, *, status: str = ledger.EVENT_DONE) -> ledger.HandledEvent:
    return ledger.HandledEvent(
        key=f"{i:064d}",
        platform="memory",
        channel_id="circle",
        kind="MessagePosted",
        status=status,
        handled_at=now,
    )


@contextmanager
def _statements(db: Database) -> Iterator[list[str]]:
    """The SQL statements sent to the database meanwhile."""
    sent: list[str] = []

    def record(*args: Any) -> None:
        sent.append(str(args[2]))

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


async def test_events_settled_together_are_stored_once_in_one_insert(
    db: Database, now: datetime
) -> None:
    with _statements(db) as sent:
        await asyncio.gather(*(ledger.settle(db, _event(i, now)) for i in range(300)))
    inserts = [s for s in sent if s.startswith("INSERT INTO handled_events")]
    assert len(inserts) <= 3  # the first alone, the rest gathered while it commits
    keys = [f"{i:064d}" for i in range(300)]
    assert await ledger.statuses(db, keys) == dict.fromkeys(keys, ledger.EVENT_DONE)


async def test_a_second_record_of_a_settled_event_changes_nothing(
    db: Database, now: datetime
) -> None:
    await ledger.settle(db, _event(1, now))
    # Replayed in the same batch as a dead letter, then again later: the first record stays.
    await asyncio.gather(
        ledger.settle(db, _event(1, now, status=ledger.EVENT_DEAD)),
        ledger.settle(db, _event(2, now)),
        ledger.settle(db, _event(2, now, status=ledger.EVENT_DEAD)),
    )
    await ledger.settle(db, _event(2, now, status=ledger.EVENT_DEAD))
    found = await ledger.statuses(db, [f"{1:064d}", f"{2:064d}"])
    assert set(found.values()) == {ledger.EVENT_DONE}
    count, _latest = await ledger.dead_letters(db, "memory", "circle")
    assert count == 0


async def test_statuses_leave_out_what_was_never_settled_across_many_keys(
    db: Database, now: datetime
) -> None:
    await asyncio.gather(*(ledger.settle(db, _event(i, now)) for i in range(0, 1200, 2)))
    found = await ledger.statuses(db, [f"{i:064d}" for i in range(1200)])  # over one chunk
    assert sorted(found) == [f"{i:064d}" for i in range(0, 1200, 2)]


async def test_effects_recorded_together_are_found_by_their_scope(
    db: Database, now: datetime
) -> None:
    await asyncio.gather(
        *(ledger.record_effect(db, f"s{i % 3}", f"e{i}", f"r{i}", now=now) for i in range(30)),
        ledger.record_effect(db, "s0", "e0", "another result", now=now),  # a repeat
    )
    assert await ledger.effects_of(db, "s0") == {f"e{i}": f"r{i}" for i in range(0, 30, 3)}
