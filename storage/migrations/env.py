"""Alembic environment.

``Database.upgrade()`` passes its own connection through
``config.attributes["connection"]``; the ``alembic`` CLI (see ``storage/alembic.ini``)
builds an engine from ``sqlalchemy.url``, overridable with ``-x url=…``.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

import storage.schema  # noqa: F401  (registers every table on SQLModel.metadata)
from storage.database import DEFAULT_URL, Database, run_migration_fn
from storage.types import UTCDateTime

config = context.config
target_metadata = SQLModel.metadata


def _url() -> str:
    return (
        context.get_x_argument(as_dictionary=True).get("url")
        or config.get_main_option("sqlalchemy.url")
        or DEFAULT_URL
    )


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    # Render application types as their plain SQLAlchemy equivalents so revision
    # scripts stay frozen and importable whatever happens to storage.types or sqlmodel.
    if type_ == "type":
        if isinstance(obj, UTCDateTime):
            return "sa.DateTime()"
        if isinstance(obj, AutoString):
            return f"sa.String(length={obj.length!r})" if obj.length else "sa.String()"
    return False


def _do_run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=True,
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_migrations_online() -> None:
    db = Database(_url())
    try:
        await run_migration_fn(db.engine, _do_run_migrations)
    finally:
        await db.dispose()


if context.is_offline_mode():
    _run_migrations_offline()
else:
    passed_connection = config.attributes.get("connection")
    if passed_connection is None:
        asyncio.run(_run_migrations_online())
    else:
        _do_run_migrations(passed_connection)
