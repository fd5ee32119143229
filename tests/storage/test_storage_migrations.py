"""The migrations build the schema the models describe, on a configured engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from storage import Database
from storage.database import alembic_config, run_migration_fn

TABLES = {"circles", "members", "accounts", "job_runs", "adapter_state"}


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, SQLModel.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _entries(directory: Path) -> list[Path]:
    return list(directory.iterdir())


async def _pragma(db: Database, name: str) -> Any:
    async with db.engine.connect() as conn:
        return (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar_one()


async def test_models_and_migrations_agree(db: Database) -> None:
    async with db.engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == []


async def test_the_revisions_read_without_alembic_are_alembics(db: Database) -> None:
    """A start reads the head and the database's revision itself (Alembic is not loaded)."""
    assert db.head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()
    async with db.engine.connect() as conn:
        theirs = await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())
    assert await db.current_revision() == theirs == db.head_revision()
    command_revisions = [
        script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    ]
    assert db.head_revision() == command_revisions[0]


async def test_is_up_to_date_only_after_upgrade(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
    try:
        assert await db.current_revision() is None
        assert not await db.is_up_to_date()

        await db.upgrade()
        assert await db.current_revision() == db.head_revision()
        assert await db.is_up_to_date()

        await db.upgrade()
        assert await db.is_up_to_date()
        async with db.engine.connect() as conn:
            assert await conn.run_sync(_tables) >= TABLES
    finally:
        await db.dispose()


async def test_downgrade_to_base_then_upgrade_again(db: Database) -> None:
    def downgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "base")

    await run_migration_fn(db.engine, downgrade)
    async with db.engine.connect() as conn:
        assert not TABLES & await conn.run_sync(_tables)
    assert await db.current_revision() is None

    await db.upgrade()
    assert await db.is_up_to_date()


async def test_file_database_uses_wal_and_foreign_keys(file_db: Database) -> None:
    # A second engine only has connections that never ran a migration.
    fresh = Database(file_db.engine.url.render_as_string(hide_password=False))
    try:
        for db in (file_db, fresh):
            assert await _pragma(db, "journal_mode") == "wal"
            assert await _pragma(db, "foreign_keys") == 1
            assert await _pragma(db, "busy_timeout") == 5000
            assert await _pragma(db, "synchronous") == 1  # NORMAL
    finally:
        await fresh.dispose()


async def test_in_memory_database_is_shared_and_keeps_foreign_keys() -> None:
    db = Database("sqlite+aiosqlite://")
    try:
        await db.upgrade()
        # Every connection is the same one, so it must leave the migration with FKs back on.
        assert await db.is_up_to_date()
        assert await _pragma(db, "foreign_keys") == 1
        async with db.engine.connect() as conn:
            assert await conn.run_sync(_tables) >= TABLES
    finally:
        await db.dispose()


async def test_missing_parent_directory_is_created(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "cercle.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await db.upgrade()
        assert path.is_file()
    finally:
        await db.dispose()


async def test_url_masks_password() -> None:
    db = Database("postgresql+asyncpg://cercle:s3cr3t@db.example:5432/cercle")
    try:
        assert "s3cr3t" not in db.url
        assert "s3cr3t" not in repr(db)
        assert db.url == "postgresql+asyncpg://cercle:***@db.example:5432/cercle"
        assert db.dialect_name == "postgresql"
    finally:
        await db.dispose()


@pytest.mark.parametrize("url", ["sqlite+aiosqlite://", "sqlite+aiosqlite:///:memory:"])
async def test_memory_urls_do_not_create_files(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    db = Database(url)
    try:
        await db.upgrade()
        assert await db.is_up_to_date()
    finally:
        await db.dispose()
    assert _entries(tmp_path) == []


async def test_failed_migration_leaves_no_partial_schema(file_db: Database) -> None:
    def half_done(connection: Connection) -> None:
        connection.exec_driver_sql("CREATE TABLE half_done (id INTEGER PRIMARY KEY)")
        raise RuntimeError("migration bug")

    with pytest.raises(RuntimeError, match="migration bug"):
        await run_migration_fn(file_db.engine, half_done)
    async with file_db.engine.connect() as conn:
        assert "half_done" not in await conn.run_sync(_tables)
    assert await _pragma(file_db, "foreign_keys") == 1


async def test_migration_leaving_dangling_foreign_keys_is_refused(file_db: Database) -> None:
    def orphan_an_account(connection: Connection) -> None:
        connection.exec_driver_sql(
            "INSERT INTO accounts (member_id, platform, platform_user_id, display_name, created_at)"
            " VALUES (42, 'discord', '1', 'Ghost', '2025-01-01 00:00:00')"
        )

    with pytest.raises(RuntimeError, match="foreign key"):
        await run_migration_fn(file_db.engine, orphan_an_account)
    async with file_db.engine.connect() as conn:
        count = (await conn.exec_driver_sql("SELECT count(*) FROM accounts")).scalar_one()
    assert count == 0
