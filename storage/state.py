"""Key/value state for platform adapters (sync tokens, last seen event ids) and cogs."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import delete, or_
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select

from storage.database import Database
from storage.models import AdapterState
from storage.writer import dialect_insert


async def get_state(db: Database, adapter: str, key: str) -> str | None:
    """Return the value stored under (``adapter``, ``key``), or None."""
    async with db.session() as session:
        row = await session.get(AdapterState, (adapter, key))
        return None if row is None else row.value


async def states_of(db: Database, adapter: str, keys: list[str]) -> dict[str, str]:
    """The values stored under these keys of ``adapter`` (those that exist), in one query."""
    async with db.session() as session:
        stmt = select(AdapterState).where(
            col(AdapterState.adapter) == adapter, col(AdapterState.key).in_(keys)
        )
        return {row.key: row.value for row in (await session.exec(stmt)).all()}


async def states_with_prefix(db: Database, adapter: str, prefix: str) -> dict[str, str]:
    """Every (key, value) of ``adapter`` whose key starts with ``prefix``."""
    async with db.session() as session:
        stmt = select(AdapterState).where(
            col(AdapterState.adapter) == adapter, col(AdapterState.key).startswith(prefix)
        )
        return {row.key: row.value for row in (await session.exec(stmt)).all()}


async def set_state(db: Database, adapter: str, key: str, value: str, *, now: datetime) -> None:
    """Insert or replace the value stored under (``adapter``, ``key``).

    Goes through the group writer: small state writes never wait on a lock held by another
    transaction of this process.
    """
    table = AdapterState.__table__  # type: ignore[attr-defined]
    stmt = (
        dialect_insert(db.engine, table)
        .values(adapter=adapter, key=key, value=value, updated_at=now)
        .on_conflict_do_update(
            index_elements=[table.c.adapter, table.c.key],
            set_={"value": value, "updated_at": now},
        )
    )

    async def upsert(conn: AsyncConnection) -> None:
        await conn.execute(stmt)

    await db.write(upsert)


async def delete_state(db: Database, adapter: str, *keys: str) -> None:
    """Remove the values stored under these keys of ``adapter`` (missing keys are fine)."""
    if not keys:
        return
    async with db.session() as session:
        await session.exec(
            delete(AdapterState).where(
                col(AdapterState.adapter) == adapter, col(AdapterState.key).in_(keys)
            )
        )
        await session.commit()


async def forget_user(db: Database, adapter: str, user_id: str) -> int:
    """Remove what ``adapter`` keeps about one of its users; returns how many entries.

    Adapters key such entries by the platform's user id, last (``dm:@ana:example.org``,
    ``mute:!room:example.org:@ana:example.org``), or hold it in a JSON value (the sender of a
    reaction): those are the entries removed. Nothing else of the adapter is touched.
    """
    in_values = {json.dumps(user_id), json.dumps(user_id, ensure_ascii=False)}
    about = or_(
        col(AdapterState.key) == user_id,
        col(AdapterState.key).endswith(f":{user_id}", autoescape=True),
        *(col(AdapterState.value).contains(quoted, autoescape=True) for quoted in in_values),
    )
    async with db.session() as session:
        result = await session.exec(
            delete(AdapterState).where(col(AdapterState.adapter) == adapter, about)
        )
        await session.commit()
        return int(result.rowcount or 0)
