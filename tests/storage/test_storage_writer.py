"""Group commit: concurrent small writes share transactions, and nothing is acknowledged early."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import rounds as store
from storage.database import Database
from storage.errors import DatabaseUnavailable
from storage.rounds import Answer
from storage.writer import GroupReader


async def _round(db: Database, now: datetime) -> int:
    """A circle, a member and a round to attach answers to (ids 1)."""
    async with db.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO circles (id, platform, space_id, name, locale, timezone, created_at)"
                " VALUES (1, 'p', 's', 'n', 'fr', 'UTC', :now)"
            ),
            {"now": now.replace(tzinfo=None)},
        )
        await conn.execute(
            text("INSERT INTO members (id, display_name, created_at) VALUES (1, 'ana', :now)"),
            {"now": now.replace(tzinfo=None)},
        )
        await conn.execute(
            text(
                "INSERT INTO rounds (id, circle_id, number, scheduled_for, opened_at, closes_at,"
                " status, prompt_text, sub_questions, platform, channel_id, late)"
                " VALUES (1, 1, 1, :now, :now, :now, 'open', '', '[]', 'p', 'c', false)"
            ),
            {"now": now.replace(tzinfo=None)},
        )
    return 1


def _answer(i: int, now: datetime, message: str | None = None) -> dict[str, object]:
    return {
        "round_id": 1,
        "member_id": 1,
        "platform": "p",
        "message_id": message or f"m{i}",
        "text": f"answer {i}",
        "created_at": now,
    }


async def test_concurrent_answers_are_all_stored_once(db: Database, now: datetime) -> None:
    await _round(db, now)
    ids = await asyncio.gather(*(store.add_answer(db, **_answer(i, now)) for i in range(300)))
    assert all(isinstance(i, int) for i in ids) and len(set(ids)) == 300
    stored = await store.answers(db, 1)
    assert sorted(a.message_id for a in stored) == sorted(f"m{i}" for i in range(300))


async def test_a_redelivered_message_is_stored_once(db: Database, now: datetime) -> None:
    await _round(db, now)
    # Twice in the same batch, then once more later.
    first, twin = await asyncio.gather(
        store.add_answer(db, **_answer(1, now, "dup")),
        store.add_answer(db, **_answer(2, now, "dup")),
    )
    later = await store.add_answer(db, **_answer(3, now, "dup"))
    assert isinstance(first, int) and twin is None and later is None
    assert [a.text for a in await store.answers(db, 1)] == ["answer 1"]


async def test_one_failing_write_does_not_sink_the_others(db: Database, now: datetime) -> None:
    await _round(db, now)

    async def broken(conn: AsyncConnection) -> None:
        await conn.execute(text("INSERT INTO no_such_table VALUES (1)"))

    results = await asyncio.gather(
        *(store.add_answer(db, **_answer(i, now)) for i in range(5)),
        db.write(broken),
        *(store.add_answer(db, **_answer(i, now)) for i in range(5, 10)),
        return_exceptions=True,
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1
    assert len(await store.answers(db, 1)) == 10


async def test_a_constraint_violation_is_reported_to_its_caller(
    db: Database, now: datetime
) -> None:
    await _round(db, now)
    bad = {**_answer(1, now), "round_id": 999}  # no such round: the foreign key refuses it
    with pytest.raises(IntegrityError):
        await store.add_answer(db, **bad)
    assert await store.answers(db, 1) == []


async def test_writes_are_committed_when_the_caller_resumes(db: Database, now: datetime) -> None:
    await _round(db, now)
    new_id = await store.add_answer(db, **_answer(1, now))
    # A separate engine sees the row: it was committed, not just flushed.
    other = Database(db.engine.url.render_as_string(hide_password=False))
    try:
        async with other.session() as session:
            assert await session.get(Answer, new_id) is not None
    finally:
        await other.dispose()


async def test_concurrent_lookups_share_a_query_and_each_failure_is_its_own() -> None:
    calls: list[list[int]] = []
    fail = False

    async def fetch(keys: list[int]) -> dict[int, str]:
        calls.append(sorted(keys))
        await asyncio.sleep(0)
        if fail:
            raise DatabaseUnavailable("the database went away")
        return {k: f"v{k}" for k in keys if k % 2 == 0}

    reader: GroupReader[int, str] = GroupReader(fetch)
    found = await asyncio.gather(*(reader.get(k) for k in [1, 2, 2, 3, 4]))
    assert found == [None, "v2", "v2", None, "v4"]
    assert calls == [[1, 2, 3, 4]]  # one query, each key once
    fail = True
    errors = await asyncio.gather(reader.get(5), reader.get(6), return_exceptions=True)
    assert all(isinstance(e, DatabaseUnavailable) for e in errors)
    assert errors[0] is not errors[1]  # each caller its own, to retry or report
    fail = False
    assert await reader.get(6) == "v6"  # back: the next lookup works


async def test_a_batched_write_runs_once_for_the_items_queued_together(
    db: Database, now: datetime
) -> None:
    calls: list[list[str]] = []

    async def add_members(conn: AsyncConnection, names: list[str]) -> list[str]:
        calls.append(list(names))
        for name in names:
            await conn.execute(
                text("INSERT INTO members (display_name, created_at) VALUES (:n, :t)"),
                {"n": name, "t": now.replace(tzinfo=None)},
            )
        return [name.upper() for name in names]

    names = [f"m{i}" for i in range(6)]
    results = await asyncio.gather(*(db.write_each(add_members, name) for name in names))
    assert results == [name.upper() for name in names]  # each caller its own result
    assert calls == [names]  # one call, in arrival order
    async with db.engine.connect() as conn:
        stored = (await conn.execute(text("SELECT display_name FROM members"))).scalars().all()
    assert sorted(stored) == names


async def test_a_failing_item_of_a_batched_write_fails_alone(db: Database, now: datetime) -> None:
    async def add_members(conn: AsyncConnection, names: list[str]) -> list[None]:
        for name in names:
            if name == "bad":
                raise ValueError("refused")
            await conn.execute(
                text("INSERT INTO members (display_name, created_at) VALUES (:n, :t)"),
                {"n": name, "t": now.replace(tzinfo=None)},
            )
        return [None] * len(names)

    names = ["a", "b", "bad", "c", "d"]
    results = await asyncio.gather(
        *(db.write_each(add_members, name) for name in names), return_exceptions=True
    )
    assert [type(r).__name__ for r in results] == ["NoneType"] * 2 + ["ValueError"] + [
        "NoneType"
    ] * 2
    async with db.engine.connect() as conn:
        stored = (await conn.execute(text("SELECT display_name FROM members"))).scalars().all()
    # The shared transaction was rolled back, then each item ran alone: the others landed once.
    assert sorted(stored) == ["a", "b", "c", "d"]
