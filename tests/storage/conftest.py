"""Fixtures for the storage tests.

``db`` is a fresh database, once SQLite (a file) and once PostgreSQL: a throwaway server
the suite starts on loopback, or ``CERCLE_TEST_POSTGRES_URL`` if set (its Cercle tables
are dropped before each test, so point it at a throwaway database).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import SQLModel

import storage.schema  # noqa: F401  (registers every table)
from storage import Database

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture
def now() -> datetime:
    """A fixed, timezone-aware UTC instant."""
    return datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)


@pytest.fixture
async def file_db(tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh SQLite file database in ``tmp_path``, upgraded to head."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'cercle.db'}")
    await database.upgrade()
    try:
        yield database
    finally:
        await database.dispose()


async def _reset_postgres(database: Database) -> None:
    tables = [*(t.name for t in SQLModel.metadata.sorted_tables), "alembic_version"]
    async with database.engine.begin() as conn:
        for table in tables:
            await conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{table}" CASCADE')


@pytest.fixture(params=BACKENDS)
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh database upgraded to head: SQLite file, and PostgreSQL if configured."""
    if request.param == "sqlite":
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'cercle.db'}")
    else:
        database = Database(request.getfixturevalue("postgres_url"))
        await _reset_postgres(database)
    await database.upgrade()
    try:
        yield database
    finally:
        await database.dispose()
