"""Key/value state for platform adapters (sync tokens, last seen event ids)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from storage.database import Database
from storage.models import AdapterState


async def get_state(db: Database, adapter: str, key: str) -> str | None:
    """Return the value stored under (``adapter``, ``key``), or None."""
    async with db.session() as session:
        row = await session.get(AdapterState, (adapter, key))
        return None if row is None else row.value


async def set_state(db: Database, adapter: str, key: str, value: str, *, now: datetime) -> None:
    """Insert or replace the value stored under (``adapter``, ``key``)."""
    stmt = (
        update(AdapterState)
        .where(col(AdapterState.adapter) == adapter, col(AdapterState.key) == key)
        .values(value=value, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    async with db.session() as session:
        if (await session.exec(stmt)).rowcount:
            await session.commit()
            return
        session.add(AdapterState(adapter=adapter, key=key, value=value, updated_at=now))
        try:
            await session.commit()
        except IntegrityError:
            # A concurrent writer inserted the row first; ours is the later write.
            await session.rollback()
            await session.exec(stmt)
            await session.commit()
