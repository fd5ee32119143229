"""Group commit: small writes from concurrent tasks share transactions.

A busy circle delivers many messages at once (the gateway hands each event to its own task).
Committing each answer in its own transaction costs a round trip to the database for every
step; here, while one transaction commits, the writes that arrive queue up and go together
into the next one, and rows for the same table are sent as one multi-row ``INSERT``. Every
caller still awaits the commit of its own write: nothing is acknowledged before it is durable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.dml import Insert

T = TypeVar("T")
Write = Callable[[AsyncConnection], Awaitable[Any]]

MAX_BATCH: Final = 500


def dialect_insert(engine: AsyncEngine, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An ``INSERT`` that takes ``ON CONFLICT`` clauses, for SQLite or PostgreSQL."""
    if engine.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_ignoring_duplicates(engine: AsyncEngine, table: Table) -> Insert:
    """``INSERT … ON CONFLICT DO NOTHING`` in the engine's dialect."""
    return dialect_insert(engine, table).on_conflict_do_nothing()


@dataclass(slots=True)
class _Job:
    future: asyncio.Future[Any]
    op: Write | None = None
    table: Table | None = None
    values: dict[str, Any] = field(default_factory=dict)
    key: tuple[str, ...] = ()

    @property
    def key_value(self) -> tuple[Any, ...]:
        return tuple(self.values[name] for name in self.key)


class GroupWriter:
    """Runs writes in shared transactions, in arrival order."""

    def __init__(self, engine: AsyncEngine, *, max_batch: int = MAX_BATCH) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._pending: list[_Job] = []
        self._draining: asyncio.Task[None] | None = None

    @property
    def pending(self) -> int:
        """Writes queued for the next transaction."""
        return len(self._pending)

    async def write(self, op: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run ``op`` inside a shared transaction; return its result once committed."""
        result: T = await self._submit(_Job(self._future(), op=op))
        return result

    async def insert(self, table: Table, values: dict[str, Any], key: Sequence[str]) -> int | None:
        """Insert one row unless a row with the same unique ``key`` exists; its id, or ``None``."""
        job = _Job(self._future(), table=table, values=values, key=tuple(key))
        inserted: int | None = await self._submit(job)
        return inserted

    @staticmethod
    def _future() -> asyncio.Future[Any]:
        return asyncio.get_running_loop().create_future()

    async def _submit(self, job: _Job) -> Any:
        self._pending.append(job)
        if self._draining is None or self._draining.done():
            self._draining = asyncio.create_task(self._drain(), name="group-writer")
        return await job.future

    async def _drain(self) -> None:
        while self._pending:
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            try:
                async with self._engine.begin() as conn:
                    results = await self._run(conn, batch)
            except Exception:
                # One write failed and took the shared transaction with it: run each alone so
                # the others still land and only the faulty one reports its error.
                await self._one_by_one(batch)
            else:
                for job in batch:
                    if not job.future.done():
                        job.future.set_result(results[id(job)])

    async def _run(self, conn: AsyncConnection, batch: Sequence[_Job]) -> dict[int, Any]:
        results: dict[int, Any] = {}
        inserts: dict[tuple[str, tuple[str, ...]], list[_Job]] = {}
        for job in batch:
            if job.table is not None:
                inserts.setdefault((job.table.name, job.key), []).append(job)
        for jobs in inserts.values():
            results.update(await self._insert_many(conn, jobs))
        for job in batch:
            if job.op is not None:
                results[id(job)] = await job.op(conn)
        return results

    async def _insert_many(self, conn: AsyncConnection, jobs: Sequence[_Job]) -> dict[int, Any]:
        table, key = jobs[0].table, jobs[0].key
        assert table is not None
        first: dict[tuple[Any, ...], _Job] = {}
        for job in jobs:
            first.setdefault(job.key_value, job)
        stmt = insert_ignoring_duplicates(self._engine, table).returning(
            table.c.id, *(table.c[name] for name in key)
        )
        rows = (await conn.execute(stmt, [job.values for job in first.values()])).all()
        ids = {tuple(row[1:]): row[0] for row in rows}
        # A row already stored, or sent twice in this batch, gets None: it was not inserted now.
        return {
            id(job): ids.get(job.key_value) if first[job.key_value] is job else None for job in jobs
        }

    async def _one_by_one(self, batch: Sequence[_Job]) -> None:
        for job in batch:
            try:
                async with self._engine.begin() as conn:
                    result = (await self._run(conn, [job]))[id(job)]
            except Exception as error:
                if not job.future.done():
                    job.future.set_exception(error)
            else:
                if not job.future.done():
                    job.future.set_result(result)
