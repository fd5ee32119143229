"""Adapter key/value state."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlmodel import select

from storage import AdapterState, Database
from storage.state import get_state, set_state


async def _rows(db: Database) -> list[AdapterState]:
    async with db.session() as session:
        return list((await session.exec(select(AdapterState))).all())


async def test_missing_state_is_none(db: Database) -> None:
    assert await get_state(db, "matrix", "since") is None


async def test_set_state_inserts_then_replaces(db: Database, now: datetime) -> None:
    await set_state(db, "matrix", "since", "s1", now=now)
    assert await get_state(db, "matrix", "since") == "s1"

    later = now + timedelta(minutes=5)
    await set_state(db, "matrix", "since", "s2", now=later)
    assert await get_state(db, "matrix", "since") == "s2"

    rows = await _rows(db)
    assert [(r.adapter, r.key, r.value, r.updated_at) for r in rows] == [
        ("matrix", "since", "s2", later)
    ]


async def test_state_is_scoped_by_adapter_and_key(db: Database, now: datetime) -> None:
    await set_state(db, "matrix", "since", "m", now=now)
    await set_state(db, "discord", "since", "d", now=now)
    await set_state(db, "matrix", "other", "o", now=now)
    assert await get_state(db, "matrix", "since") == "m"
    assert await get_state(db, "discord", "since") == "d"
    assert await get_state(db, "matrix", "other") == "o"


async def test_concurrent_set_state_keeps_one_row(db: Database, now: datetime) -> None:
    values = [f"v{i}" for i in range(8)]
    await asyncio.gather(*(set_state(db, "matrix", "since", v, now=now) for v in values))
    rows = await _rows(db)
    assert len(rows) == 1
    assert rows[0].value in values
