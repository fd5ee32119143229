"""The connections a burst of reads gets: a few shared ones on SQLite, many on PostgreSQL (#17)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event, text

from storage.database import SQLITE_POOL_SIZE, Database

BURST = 12


async def _burst(db: Database) -> tuple[list[int], int, int]:
    """``BURST`` concurrent reads, each holding its connection a moment: their results, the
    most connections in use at once, and how many connections were opened meanwhile."""
    await db.dispose()  # the connections left by the migration would be reused
    opened = 0
    in_use = most = 0

    def count(*_args: Any) -> None:
        nonlocal opened
        opened += 1

    event.listen(db.engine.sync_engine, "connect", count)

    async def read(number: int) -> int:
        nonlocal in_use, most
        async with db.session() as session:
            conn = await session.connection()
            value = (await conn.execute(text(f"SELECT {number}"))).scalar_one()
            in_use += 1
            most = max(most, in_use)
            await asyncio.sleep(0.02)  # still holding it while the others ask
            in_use -= 1
            return int(value)

    results = await asyncio.gather(*(read(n) for n in range(BURST)))
    event.remove(db.engine.sync_engine, "connect", count)
    return results, most, opened


async def test_a_burst_of_reads_on_sqlite_waits_for_a_few_connections(file_db: Database) -> None:
    results, most, opened = await _burst(file_db)
    assert results == list(range(BURST))
    # Every read answered, on the pool's connections only: none opened and closed for the burst.
    assert most == opened == SQLITE_POOL_SIZE


async def test_postgresql_serves_the_whole_burst_at_once(postgres_url: str) -> None:
    db = Database(postgres_url)
    try:
        results, most, _opened = await _burst(db)
    finally:
        await db.dispose()
    assert results == list(range(BURST))
    assert most == BURST  # not held to SQLite's few connections
