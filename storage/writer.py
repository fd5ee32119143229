"""Group commit: small writes from concurrent tasks share transactions.

A busy circle delivers many messages at once (the gateway hands each event to its own task).
Committing each answer in its own transaction costs a round trip to the database thread for
every step; here, while one transaction commits, the writes that arrive queue up and go
together into the next one. Every caller still awaits the commit of its own write: nothing is
acknowledged before it is durable.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final, TypeVar

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.dml import Insert

log = logging.getLogger(__name__)

T = TypeVar("T")
Write = Callable[[AsyncConnection], Awaitable[Any]]

MAX_BATCH: Final = 256


def insert_ignoring_duplicates(engine: AsyncEngine, table: Table, values: dict[str, Any]) -> Insert:
    """``INSERT … ON CONFLICT DO NOTHING`` in the engine's dialect (SQLite or PostgreSQL)."""
    if engine.dialect.name == "postgresql":
        return postgresql.insert(table).values(**values).on_conflict_do_nothing()
    return sqlite.insert(table).values(**values).on_conflict_do_nothing()


class GroupWriter:
    """Runs writes in shared transactions, in arrival order."""

    def __init__(self, engine: AsyncEngine, *, max_batch: int = MAX_BATCH) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._pending: list[tuple[Write, asyncio.Future[Any]]] = []
        self._draining: asyncio.Task[None] | None = None

    async def write(self, op: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run ``op`` inside a transaction and return its result once committed."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append((op, future))
        if self._draining is None or self._draining.done():
            self._draining = asyncio.create_task(self._drain(), name="group-writer")
        return await future

    async def _drain(self) -> None:
        while self._pending:
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            try:
                async with self._engine.begin() as conn:
                    results = [await op(conn) for op, _ in batch]
            except Exception:
                # One write failed and took the shared transaction with it: run each alone so
                # the others still land and only the faulty one reports its error.
                await self._one_by_one(batch)
            else:
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)

    async def _one_by_one(self, batch: list[tuple[Write, asyncio.Future[Any]]]) -> None:
        for op, future in batch:
            try:
                async with self._engine.begin() as conn:
                    result = await op(conn)
            except Exception as error:
                if not future.done():
                    future.set_exception(error)
            else:
                if not future.done():
                    future.set_result(result)
