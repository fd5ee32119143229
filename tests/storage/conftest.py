"""Fixtures for the storage tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage import Database


@pytest.fixture
def now() -> datetime:
    """A fixed, timezone-aware UTC instant."""
    return datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh file database in ``tmp_path``, upgraded to head."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'cercle.db'}")
    await database.upgrade()
    try:
        yield database
    finally:
        await database.dispose()
