"""Async engine, sessions and programmatic Alembic migrations.

The database may go away and come back (a PostgreSQL restart, a locked SQLite file): every
failure of that kind, on a read, a write or a connection attempt, is raised as
:class:`DatabaseUnavailable`, so that callers can retry later; connections broken by a
restart are discarded, never handed out again.
"""

from __future__ import annotations

import ast
import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast

from sqlalchemy import Table, event, inspect, text
from sqlalchemy.engine import URL, Connection, Dialect, ExceptionContext, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry, StaticPool
from sqlmodel.ext.asyncio.session import AsyncSession

# Re-exported: callers catch it as storage.database.DatabaseUnavailable.
from storage.errors import DatabaseUnavailable as DatabaseUnavailable
from storage.errors import connection_lost, unavailable
from storage.writer import GroupWriter

if TYPE_CHECKING:
    from alembic.config import Config

T = TypeVar("T")
I = TypeVar("I")  # noqa: E741 - the item of a batched write

DEFAULT_URL = "sqlite+aiosqlite:///./data/cercle.db"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

#: Connections pooled to a SQLite file, and never more. SQLite takes one writer at a time (the
#: group writer, one connection a batch) and the event loop, not SQLite, bounds the reads: 2, 4,
#: 8 and 20 (+10 overflow) connections answered at the same speed (bench/RESULTS.md, #17), while
#: each one costs a thread (aiosqlite), a malloc arena and a page cache of up to 2 MiB; 20 + 10
#: of them held ~18 MiB more. No overflow: past four, a burst waits its turn (a task holds one
#: connection at a time; a session opened in :meth:`Database.transaction` joins it) instead of
#: opening and closing connections, each a new thread and its PRAGMAs.
SQLITE_POOL_SIZE: Final = 4

_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
    "PRAGMA synchronous=NORMAL",
)


def alembic_config() -> Config:
    """Build the Alembic configuration in code (no ``alembic.ini`` needed)."""
    # Alembic (~150 modules, ~11 MiB) is loaded only to migrate: a start on a current
    # schema reads the revisions itself (see :func:`_head_revision`).
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


@functools.cache
def _head_revision() -> str:
    """The newest revision in :data:`MIGRATIONS_DIR`, read from the scripts' ``revision`` and
    ``down_revision`` assignments without importing them (or Alembic)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in MIGRATIONS_DIR.joinpath("versions").glob("*.py"):
        values: dict[str, Any] = {}
        for node in ast.parse(script.read_text(encoding="utf-8")).body:
            target: ast.expr | None = None
            if isinstance(node, ast.AnnAssign):
                target = node.target
            elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
            value = getattr(node, "value", None)
            if isinstance(target, ast.Name) and value is not None:
                with contextlib.suppress(ValueError):
                    values[target.id] = ast.literal_eval(value)
        if isinstance(values.get("revision"), str):
            revisions.add(values["revision"])
            down = values.get("down_revision")
            parents.update([down] if isinstance(down, str) else down or ())
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"expected one head revision in {MIGRATIONS_DIR}, found {heads}")
    return heads.pop()


def _is_memory_sqlite(url: URL) -> bool:
    database = url.database or ""
    if database in ("", ":memory:"):
        return True
    return url.query.get("mode") == "memory" or database.startswith("file::memory:")


def _sqlite_file_path(url: URL) -> Path | None:
    """Return the database file of a SQLite URL, or None for in-memory databases."""
    if _is_memory_sqlite(url):
        return None
    database = url.database or ""
    if url.query.get("uri") == "true" and database.startswith("file:"):
        database = database.removeprefix("file:").split("?", 1)[0]
    return Path(database)


def _set_sqlite_pragmas(dbapi_connection: Any, connection_record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    try:
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def _connect(
    dialect: Dialect, record: ConnectionPoolEntry, cargs: tuple[Any, ...], cparams: dict[str, Any]
) -> Any:
    """Open a driver connection; a refused or failed attempt raises :class:`DatabaseUnavailable`.

    SQLAlchemy passes errors that are not the driver's (asyncpg raises ``OSError`` when
    nothing listens) through unchanged and unseen by ``handle_error``: they are caught here.
    """
    try:
        return dialect.connect(*cargs, **cparams)
    except Exception as error:
        if unavailable(error):
            raise DatabaseUnavailable(f"cannot connect to the database: {error}") from error
        raise


def _on_error(context: ExceptionContext) -> BaseException | None:
    """Raise :class:`DatabaseUnavailable` in place of a transient driver error."""
    if context.is_pre_ping:
        # The pool is testing a pooled connection: on a disconnect it discards it and opens
        # another, which it can only do if it sees the driver's own error.
        return None
    error = context.original_exception
    if not (context.is_disconnect or unavailable(error)):
        return None
    if connection_lost(error):
        # Discard this connection, and every one opened before it (the server restarted).
        context.is_disconnect = True
    return DatabaseUnavailable(f"the database is unavailable: {error}")


async def run_migration_fn(engine: AsyncEngine, fn: Callable[[Connection], None]) -> None:
    """Run a synchronous schema function in a single transaction.

    On SQLite, foreign keys are switched off meanwhile (batch migrations recreate
    tables, and dropping a parent table would cascade), an explicit ``BEGIN`` makes
    the DDL atomic (the driver would otherwise autocommit each statement), and
    integrity is checked before committing.

    Args:
        engine: Engine to migrate.
        fn: Called with a connection already inside a transaction.

    Raises:
        RuntimeError: If the migration left foreign key violations (SQLite).
    """
    sqlite = engine.dialect.name == "sqlite"
    async with engine.connect() as conn:
        if sqlite:
            # Ignored inside a transaction, so it must precede BEGIN.
            await conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            await conn.commit()
        try:
            async with conn.begin():
                if sqlite:
                    await conn.exec_driver_sql("BEGIN")
                await conn.run_sync(fn)
                if sqlite:
                    result = await conn.exec_driver_sql("PRAGMA foreign_key_check")
                    violations = result.all()
                    if violations:
                        raise RuntimeError(f"foreign key violations after migration: {violations}")
        finally:
            if sqlite:
                await conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                await conn.commit()


#: The session of the :meth:`Database.transaction` being run, if any.
_joined: ContextVar[AsyncSession | None] = ContextVar("cercle_joined_session", default=None)


class _JoinedSession:
    """The enclosing transaction's session, for code that opens and commits its own.

    Its ``commit`` only flushes (ids are assigned, nothing is committed yet) and leaving it
    closes nothing: the transaction commits, or rolls back, as a whole.
    """

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def __aenter__(self) -> AsyncSession:
        return cast(AsyncSession, self)

    async def __aexit__(self, *_exc: object) -> None:
        return None

    async def commit(self) -> None:
        await self._session.flush()

    async def close(self) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


class Database:
    """Owns the async engine and hands out sessions.

    Reads and writes raise :class:`DatabaseUnavailable` while the database is away (server
    down or restarting, connection lost, SQLite file locked); the next call after it is back
    succeeds on a fresh connection.

    Args:
        url: SQLAlchemy async URL (``sqlite+aiosqlite://…`` or ``postgresql+asyncpg://…``).
        echo: Log every SQL statement.
    """

    def __init__(self, url: str = DEFAULT_URL, *, echo: bool = False) -> None:
        sa_url = make_url(url)
        kwargs: dict[str, Any] = {"echo": echo}
        is_sqlite = sa_url.get_backend_name() == "sqlite"
        if is_sqlite:
            path = _sqlite_file_path(sa_url)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                kwargs["pool_size"] = SQLITE_POOL_SIZE
                kwargs["max_overflow"] = 0
            elif not sa_url.database or sa_url.database == ":memory:":
                # One shared connection, otherwise each session gets its own empty database.
                kwargs["poolclass"] = StaticPool
            else:
                # Shared-cache URI memory databases support several connections; stating
                # the pool avoids SQLAlchemy 2.1's deprecated mode=memory pool selection.
                kwargs["poolclass"] = AsyncAdaptedQueuePool
        else:
            # Test each pooled connection before handing it out: after a server restart the
            # pool still holds connections to the old process, which are replaced, not used.
            kwargs["pool_pre_ping"] = True
        self._engine = create_async_engine(sa_url, **kwargs)
        if is_sqlite:
            event.listen(self._engine.sync_engine, "connect", _set_sqlite_pragmas)
        event.listen(self._engine.sync_engine, "do_connect", _connect)
        event.listen(self._engine.sync_engine, "handle_error", _on_error)
        self._sessions = async_sessionmaker(
            self._engine, class_=AsyncSession, expire_on_commit=False
        )
        self._writer: GroupWriter | None = None

    @property
    def url(self) -> str:
        """The database URL with its password masked, safe for logs."""
        return self._engine.url.render_as_string(hide_password=True)

    @property
    def engine(self) -> AsyncEngine:
        """The underlying async engine."""
        return self._engine

    @property
    def dialect_name(self) -> str:
        """The SQLAlchemy dialect name, e.g. ``sqlite`` or ``postgresql``."""
        return self._engine.dialect.name

    async def write(self, op: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run a small write in a transaction shared with concurrent writes (group commit).

        Returns once the transaction holding it committed; see :mod:`storage.writer`.

        Raises:
            DatabaseUnavailable: The database is away: nothing of the write was committed,
                unless ``in_doubt`` says the connection broke while committing.
        """
        if self._writer is None:
            self._writer = GroupWriter(self._engine)
        return await self._writer.write(op)

    async def write_each(
        self, op: Callable[[AsyncConnection, list[I]], Awaitable[Sequence[T]]], item: I
    ) -> T:
        """Run ``op`` for ``item`` together with the other items queued with the same ``op``
        (group commit); ``item``'s result once committed. See
        :meth:`storage.writer.GroupWriter.write_each`.

        Raises:
            DatabaseUnavailable: As for :meth:`write`.
        """
        if self._writer is None:
            self._writer = GroupWriter(self._engine)
        return await self._writer.write_each(op, item)

    async def insert_once(
        self, table: Table, values: dict[str, Any], key: Sequence[str]
    ) -> int | None:
        """Insert a row unless its unique ``key`` exists (group-committed); its id or ``None``.

        Raises:
            DatabaseUnavailable: As for :meth:`write`; inserting again after it stores the
                row once (``None`` then if the first attempt had in fact been committed).
        """
        if self._writer is None:
            self._writer = GroupWriter(self._engine)
        return await self._writer.insert(table, values, key)

    async def insert_ignoring(self, table: Table, values: dict[str, Any]) -> None:
        """Insert a row unless its unique key exists (group-committed; the rows of a table
        committed together are sent as one statement).

        Raises:
            DatabaseUnavailable: As for :meth:`write`.
        """
        if self._writer is None:
            self._writer = GroupWriter(self._engine)
        await self._writer.add(table, values)

    @property
    def pending_writes(self) -> int:
        """Writes waiting for the group writer's next transaction."""
        return self._writer.pending if self._writer is not None else 0

    def session(self) -> AsyncSession:
        """Return a new session; use it as ``async with db.session() as s:``.

        Inside :meth:`transaction` it is that transaction's session instead.
        """
        joined = _joined.get()
        if joined is not None:
            return cast(AsyncSession, _JoinedSession(joined))
        return self._sessions()

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One transaction for everything run inside, committed at the end or not at all.

        The sessions opened inside with :meth:`session` join it (their own commits only
        flush); writes through :meth:`write` or the engine do not. Not for concurrent tasks.
        """
        async with self._sessions() as session:
            token = _joined.set(session)
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
            finally:
                _joined.reset(token)

    async def upgrade(self, revision: str = "head") -> None:
        """Apply Alembic migrations up to ``revision`` through this engine."""

        def _run_upgrade(connection: Connection) -> None:
            from alembic import command

            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)

        await run_migration_fn(self._engine, _run_upgrade)

    async def current_revision(self) -> str | None:
        """Return the revision the database is at, or None if unversioned."""

        def _current(connection: Connection) -> str | None:
            # What Alembic's MigrationContext reads, without loading Alembic.
            if not inspect(connection).has_table("alembic_version"):
                return None
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
            if len(rows) > 1:
                raise RuntimeError(f"the database is at several revisions: {rows}")
            return str(rows[0][0]) if rows else None

        async with self._engine.connect() as conn:
            return await conn.run_sync(_current)

    def head_revision(self) -> str:
        """Return the newest migration revision shipped with the code."""
        return _head_revision()

    async def is_up_to_date(self) -> bool:
        """Tell whether the database schema is at the head revision."""
        return await self.current_revision() == self.head_revision()

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self._engine.dispose()

    def __repr__(self) -> str:
        return f"Database({self.url!r})"
