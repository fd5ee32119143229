"""Group commit: small writes from concurrent tasks share transactions.

A busy circle delivers many messages at once (the gateway hands each event to its own task).
Committing each answer in its own transaction costs a round trip to the database for every
step; here, while one transaction commits, the writes that arrive queue up and go together
into the next one, and rows for the same table are sent as one multi-row ``INSERT`` (rows
whose id is not wanted back, such as the ledger's, as one ``executemany``); a write that knows
how to run many of its kind at once (:meth:`GroupWriter.write_each`) gets every item queued
with it in one call. Every caller still awaits the commit of its own write: nothing is
acknowledged before it is durable.

When the database goes away (:class:`~storage.errors.DatabaseUnavailable`), every write of the
transaction gets that error, none is reported done, and the writer carries on with the next
writes once the database is back. No caller is left waiting, even if the writer is cancelled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Generic, TypeVar

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.dml import Insert

from storage.errors import DatabaseUnavailable, unavailable

T = TypeVar("T")
I = TypeVar("I")  # noqa: E741 - the item of a batched write
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
Write = Callable[[AsyncConnection], Awaitable[Any]]
#: A write run once for all the items queued with it: one result per item, in their order.
WriteMany = Callable[[AsyncConnection, list[Any]], Awaitable[Sequence[Any]]]

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
    many: WriteMany | None = None
    item: Any = None
    table: Table | None = None
    values: dict[str, Any] = field(default_factory=dict)
    key: tuple[str, ...] = ()
    #: Whether the row's id is wanted back (``insert``) or nothing (``add``).
    returning: bool = True

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
        # Built once: a statement reused keeps its compiled form and cache key.
        self._statements: dict[tuple[Table, tuple[str, ...], bool], Insert] = {}

    @property
    def pending(self) -> int:
        """Writes queued for the next transaction."""
        return len(self._pending)

    async def write(self, op: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run ``op`` inside a shared transaction; return its result once committed."""
        result: T = await self._submit(_Job(self._future(), op=op))
        return result

    async def write_each(
        self, op: Callable[[AsyncConnection, list[I]], Awaitable[Sequence[T]]], item: I
    ) -> T:
        """Run ``op`` once for ``item`` and every other item queued with the same ``op`` for
        the same transaction; ``item``'s result once committed.

        ``op`` gets the items in arrival order and returns one result per item, in the same
        order. When it raises, the shared transaction is retried write by write, so ``op``
        then runs for ``item`` alone and only a faulty item reports the error. Pass the same
        function object every time (a module-level function): items group by ``op`` itself.
        """
        result: T = await self._submit(_Job(self._future(), many=op, item=item))
        return result

    async def insert(self, table: Table, values: dict[str, Any], key: Sequence[str]) -> int | None:
        """Insert one row unless a row with the same unique ``key`` exists; its id, or ``None``."""
        job = _Job(self._future(), table=table, values=values, key=tuple(key))
        inserted: int | None = await self._submit(job)
        return inserted

    async def add(self, table: Table, values: dict[str, Any]) -> None:
        """Insert one row unless it breaks a unique constraint (then nothing happens).

        The rows added to a table in one transaction are sent as one ``executemany``.
        """
        await self._submit(_Job(self._future(), table=table, values=values, returning=False))

    @staticmethod
    def _future() -> asyncio.Future[Any]:
        return asyncio.get_running_loop().create_future()

    async def _submit(self, job: _Job) -> Any:
        self._pending.append(job)
        if self._draining is None or self._draining.done():
            self._draining = asyncio.create_task(self._drain(), name="group-writer")
        return await job.future

    async def _drain(self) -> None:
        batch: list[_Job] = []
        try:
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                await self._commit(batch)
        except BaseException as error:
            # Cancelled (the loop is closing) or worse: nobody may wait for a commit that will
            # not come. The batch under way may have been committed; the queued ones were not.
            queued, self._pending = self._pending, []
            _fail(batch, error, in_doubt=True, message="the database writer stopped")
            _fail(queued, error, message="the database writer stopped")
            raise

    async def _commit(self, batch: list[_Job]) -> None:
        try:
            results = await self._transaction(batch)
        except DatabaseUnavailable as error:
            # The database, not a write, is at fault: running them one by one would fail the
            # same way (or wait for each connection attempt in turn).
            _fail(batch, error, in_doubt=error.in_doubt)
        except Exception:
            # One write failed and took the shared transaction with it: run each alone so
            # the others still land and only the faulty one reports its error.
            await self._one_by_one(batch)
        else:
            _succeed(batch, results)

    async def _transaction(self, jobs: Sequence[_Job]) -> dict[int, Any]:
        """Run ``jobs`` in one transaction and commit it; their results by ``id(job)``.

        Raises:
            DatabaseUnavailable: With ``in_doubt`` set if the connection broke while committing.
        """
        committing = False
        try:
            async with self._engine.begin() as conn:
                results = await self._run(conn, jobs)
                committing = True
        except DatabaseUnavailable as error:
            error.in_doubt = error.in_doubt or committing
            raise
        except Exception as error:
            # An engine without Database's error hooks raises the driver's errors as they are.
            if unavailable(error):
                raise DatabaseUnavailable(str(error), in_doubt=committing) from error
            raise
        return results

    async def _run(self, conn: AsyncConnection, batch: Sequence[_Job]) -> dict[int, Any]:
        results: dict[int, Any] = {}
        inserts: dict[tuple[Table, tuple[str, ...], bool], list[_Job]] = {}
        for job in batch:
            if job.table is not None:
                inserts.setdefault((job.table, job.key, job.returning), []).append(job)
        for jobs in inserts.values():
            if jobs[0].returning:
                results.update(await self._insert_many(conn, jobs))
            else:
                await conn.execute(self._statement(jobs[0]), [job.values for job in jobs])
                results.update((id(job), None) for job in jobs)
        groups: dict[WriteMany, list[_Job]] = {}
        for job in batch:
            if job.many is not None:
                groups.setdefault(job.many, []).append(job)
        for job in batch:
            if job.op is not None:
                results[id(job)] = await job.op(conn)
            elif job.many is not None and id(job) not in results:
                # The group runs where its first write arrived, all its items at once.
                group = groups[job.many]
                outcomes = await job.many(conn, [each.item for each in group])
                # One result per item: a short or long answer fails the transaction.
                results.update((id(each), out) for each, out in zip(group, outcomes, strict=True))
        return results

    async def _insert_many(self, conn: AsyncConnection, jobs: Sequence[_Job]) -> dict[int, Any]:
        first: dict[tuple[Any, ...], _Job] = {}
        for job in jobs:
            first.setdefault(job.key_value, job)
        stmt = self._statement(jobs[0])
        rows = (await conn.execute(stmt, [job.values for job in first.values()])).all()
        ids = {tuple(row[1:]): row[0] for row in rows}
        # A row already stored, or sent twice in this batch, gets None: it was not inserted now.
        return {
            id(job): ids.get(job.key_value) if first[job.key_value] is job else None for job in jobs
        }

    def _statement(self, job: _Job) -> Insert:
        """The ``INSERT … ON CONFLICT DO NOTHING`` for ``job``'s table (``RETURNING`` its id
        and key when the id is wanted)."""
        assert job.table is not None
        shape = (job.table, job.key, job.returning)
        stmt = self._statements.get(shape)
        if stmt is None:
            table = job.table
            stmt = insert_ignoring_duplicates(self._engine, table)
            if job.returning:
                stmt = stmt.returning(table.c.id, *(table.c[name] for name in job.key))
            self._statements[shape] = stmt
        return stmt

    async def _one_by_one(self, batch: Sequence[_Job]) -> None:
        for index, job in enumerate(batch):
            try:
                results = await self._transaction([job])
            except DatabaseUnavailable as error:
                _fail([job], error, in_doubt=error.in_doubt)
                _fail(batch[index + 1 :], error)
                return
            except Exception as error:
                if not job.future.done():
                    job.future.set_exception(error)
            else:
                _succeed([job], results)


class GroupReader(Generic[K, V]):
    """Lookups by key from concurrent tasks share queries, as writes share commits.

    While ``fetch`` runs, the keys asked for meanwhile wait and go together into its next
    call. ``fetch`` gets the distinct keys and returns the values found (a missing key reads
    as ``None``). When it raises, every caller of that call gets its own error: a
    :class:`DatabaseUnavailable` stays one (the caller may retry), any other error is
    reported as a ``RuntimeError`` raised from it.
    """

    def __init__(self, fetch: Callable[[list[K]], Awaitable[dict[K, V]]]) -> None:
        self._fetch = fetch
        self._waiting: dict[K, list[asyncio.Future[V | None]]] = {}
        self._running: asyncio.Task[None] | None = None

    async def get(self, key: K) -> V | None:
        """The value of ``key``, or ``None`` if there is none."""
        future: asyncio.Future[V | None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, []).append(future)
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self._drain(), name="group-reader")
        return await future

    async def _drain(self) -> None:
        while self._waiting:
            waiting, self._waiting = self._waiting, {}
            try:
                found = await self._fetch(list(waiting))
            except Exception as error:
                for futures in waiting.values():
                    _fail_read(futures, error)
                continue
            except BaseException as error:
                # Cancelled (the loop is closing): nobody may wait for a lookup to come.
                for futures in (*waiting.values(), *self._waiting.values()):
                    _fail_read(futures, error)
                self._waiting = {}
                raise
            for key, futures in waiting.items():
                for future in futures:
                    if not future.done():  # its caller may have been cancelled meanwhile
                        future.set_result(found.get(key))


def _fail_read(futures: Sequence[asyncio.Future[Any]], cause: BaseException) -> None:
    for future in futures:
        if future.done():
            continue
        if not isinstance(cause, Exception):
            future.cancel()
            continue
        error: Exception
        if isinstance(cause, DatabaseUnavailable):
            error = DatabaseUnavailable(str(cause), in_doubt=cause.in_doubt)
        else:
            error = RuntimeError(f"the lookup failed: {cause}")
        error.__cause__ = cause
        future.set_exception(error)


def _succeed(jobs: Sequence[_Job], results: dict[int, Any]) -> None:
    for job in jobs:
        if not job.future.done():  # its caller may have been cancelled meanwhile
            job.future.set_result(results[id(job)])


def _fail(
    jobs: Sequence[_Job], cause: BaseException, *, in_doubt: bool = False, message: str = ""
) -> None:
    """Give each waiting caller its own :class:`DatabaseUnavailable`, raised from ``cause``."""
    for job in jobs:
        if not job.future.done():
            error = DatabaseUnavailable(message or str(cause), in_doubt=in_doubt)
            error.__cause__ = cause
            job.future.set_exception(error)
