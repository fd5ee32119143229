"""The database goes away and comes back: a real PostgreSQL restarted mid-test, a locked SQLite.

Reads and writes during the outage raise ``DatabaseUnavailable`` (nothing reported stored that
was not), the first ones after it succeed, and counting rows shows nothing lost, nothing doubled.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.testing import Harness
from bot.testing.postgres import PostgresServer
from storage import members
from storage import rounds as store
from storage.database import Database, DatabaseUnavailable
from storage.rounds import Round


@pytest.fixture
async def pg(restartable_postgres_url: str) -> AsyncIterator[Database]:
    """The bot's database on a PostgreSQL server of its own (see ``restartable_postgres``)."""
    database = Database(restartable_postgres_url)
    await database.upgrade()
    try:
        yield database
    finally:
        await database.dispose()


async def _open_round(db: Database, now: datetime) -> tuple[int, int]:
    """A circle with an open round and a member to answer it: their ids."""
    circle = await members.get_or_create_circle(
        db, "p", "space", name="n", locale="fr", timezone="UTC", now=now
    )
    account = await members.account_for(db, "p", "ana", "Ana", now=now)
    assert circle.id is not None
    round_ = await store.create_round(
        db,
        Round(
            circle_id=circle.id,
            number=1,
            scheduled_for=now,
            opened_at=now,
            closes_at=now + timedelta(days=6),
            status=store.ROUND_OPEN,
            platform="p",
            channel_id="c",
        ),
    )
    assert round_ is not None and round_.id is not None
    return round_.id, account.member_id


def _answers(round_id: int, member_id: int, now: datetime, numbers: range) -> list[dict[str, Any]]:
    return [
        {
            "round_id": round_id,
            "member_id": member_id,
            "platform": "p",
            "message_id": f"m{i}",
            "text": f"answer {i}",
            "created_at": now,
        }
        for i in numbers
    ]


async def _store(db: Database, answers: list[dict[str, Any]]) -> list[Any]:
    """Store answers concurrently (one group-commit batch); each result or exception."""
    return await asyncio.gather(
        *(store.add_answer(db, **answer) for answer in answers), return_exceptions=True
    )


async def _stored(db: Database, round_id: int) -> list[str]:
    """The message ids of the answers stored, sorted, duplicates kept."""
    return sorted(a.message_id for a in await store.answers(db, round_id))


def _ids(numbers: range) -> list[str]:
    return sorted(f"m{i}" for i in numbers)


async def _fill_pool(db: Database, round_id: int) -> None:
    """Several concurrent reads leave several connections idle in the pool."""
    await asyncio.gather(*(store.answers(db, round_id) for _ in range(4)))
    assert db.engine.pool.checkedin() >= 2  # type: ignore[attr-defined]


def _unavailable(results: list[Any]) -> list[DatabaseUnavailable]:
    return [r for r in results if isinstance(r, DatabaseUnavailable)]


# ------------------------------------------------------------------ PostgreSQL restarts


@pytest.mark.parametrize("mode", ["fast", "immediate"])  # a clean restart, and a crash
async def test_after_a_restart_the_first_reads_and_writes_succeed(
    pg: Database, restartable_postgres: PostgresServer, now: datetime, mode: str
) -> None:
    round_id, member_id = await _open_round(pg, now)
    assert all(
        isinstance(r, int) for r in await _store(pg, _answers(round_id, member_id, now, range(10)))
    )
    await _fill_pool(pg, round_id)

    await asyncio.to_thread(restartable_postgres.restart, mode)

    # The pooled connections lead to the old server process: they are replaced, not used.
    reads = await asyncio.gather(*(store.answers(pg, round_id) for _ in range(4)))
    assert [len(r) for r in reads] == [10] * 4
    results = await _store(pg, _answers(round_id, member_id, now, range(10, 20)))
    assert all(isinstance(r, int) for r in results), results
    assert await _stored(pg, round_id) == _ids(range(20))


async def test_writes_and_reads_while_the_server_is_down_raise_and_nothing_is_lost_or_doubled(
    pg: Database, restartable_postgres: PostgresServer, now: datetime
) -> None:
    round_id, member_id = await _open_round(pg, now)
    assert all(
        isinstance(r, int) for r in await _store(pg, _answers(round_id, member_id, now, range(50)))
    )
    await _fill_pool(pg, round_id)

    await asyncio.to_thread(restartable_postgres.stop)
    during = _answers(round_id, member_id, now, range(50, 70))
    failed = await _store(pg, during)
    assert len(_unavailable(failed)) == 20, failed
    assert not any(error.in_doubt for error in _unavailable(failed))
    with pytest.raises(DatabaseUnavailable):
        await store.answers(pg, round_id)
    with pytest.raises(DatabaseUnavailable):
        await members.account_for(pg, "p", "bob", "Bob", now=now)
    assert pg.pending_writes == 0  # no caller left waiting

    await asyncio.to_thread(restartable_postgres.start)
    # The caller retries what failed, and the platform redelivers what was stored before.
    retried = await _store(pg, during)
    assert all(isinstance(r, int) for r in retried), retried
    assert await _store(pg, _answers(round_id, member_id, now, range(50))) == [None] * 50
    assert await _store(pg, _answers(round_id, member_id, now, range(70, 80))) != [None] * 10
    assert await _stored(pg, round_id) == _ids(range(80))


async def test_a_restart_during_a_shared_transaction_fails_every_write_in_it(
    pg: Database, restartable_postgres: PostgresServer, now: datetime
) -> None:
    round_id, member_id = await _open_round(pg, now)
    inside, release = asyncio.Event(), asyncio.Event()

    async def slow(conn: AsyncConnection) -> None:
        await conn.execute(text("SELECT 1"))
        inside.set()
        await release.wait()  # the server restarts meanwhile
        await conn.execute(text("SELECT 1"))

    batch = _answers(round_id, member_id, now, range(10))
    writes = asyncio.ensure_future(
        asyncio.gather(
            *(store.add_answer(pg, **answer) for answer in batch),
            pg.write(slow),
            return_exceptions=True,
        )
    )
    await inside.wait()  # the ten answers are already sent, in the same transaction
    await asyncio.to_thread(restartable_postgres.restart)
    release.set()
    results = await writes

    assert len(_unavailable(results)) == 11, results
    assert not any(error.in_doubt for error in _unavailable(results))
    assert await _stored(pg, round_id) == []  # nothing of it was committed
    assert all(isinstance(r, int) for r in await _store(pg, batch))
    assert await _stored(pg, round_id) == _ids(range(10))


async def test_a_connection_lost_while_committing_is_in_doubt_and_a_retry_stores_once(
    pg: Database, now: datetime
) -> None:
    round_id, member_id = await _open_round(pg, now)

    async def kill_own_connection(conn: AsyncConnection) -> None:
        pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        async with pg.engine.connect() as other:  # another pooled connection
            await other.execute(text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid})

    batch = _answers(round_id, member_id, now, range(5))
    results = await asyncio.gather(
        *(store.add_answer(pg, **answer) for answer in batch),
        pg.write(kill_own_connection),
        return_exceptions=True,
    )
    errors = _unavailable(results)
    assert len(errors) == 6 and all(error.in_doubt for error in errors), results
    # Stored or not, an idempotent write retried leaves one row per answer.
    await _store(pg, batch)
    assert await _stored(pg, round_id) == _ids(range(5))


async def test_a_whole_bot_carries_on_across_a_server_restart(
    restartable_postgres_url: str, restartable_postgres: PostgresServer
) -> None:
    async with Harness("discord", db_url=restartable_postgres_url) as h:
        await h.say("ana", "bonjour")  # the channel becomes a circle
        await h.advance("3h")  # its first round opens, with its thread
        thread = list(h.platform.threads.values())[-1]
        await h.say("ana", "Avant le redémarrage du serveur.", thread=thread)

        await asyncio.to_thread(restartable_postgres.restart)

        await h.say("bob", "Après le redémarrage du serveur.", thread=thread)
        circle = await h.bot.directory.circle_for(h.platform.channel)
        assert circle is not None and circle.id is not None
        round_ = await store.latest_round(h.db, circle.id)
        assert round_ is not None and round_.id is not None
        texts = sorted(a.text for a in await store.answers(h.db, round_.id))
        assert texts == ["Après le redémarrage du serveur.", "Avant le redémarrage du serveur."]
        # Its scheduled jobs still run: the round closes at the end of the week.
        await h.advance("7d")
        closed = await store.get_round(h.db, round_.id)
        assert closed is not None and closed.status == store.ROUND_CLOSED


# ------------------------------------------------- SQLite, and what is not transient


@pytest.fixture
async def impatient(file_db: Database) -> Database:
    """The SQLite file database, without its 5 s wait for a lock (so the test does not wait)."""
    event.listen(
        file_db.engine.sync_engine,
        "connect",
        lambda connection, _record: connection.execute("PRAGMA busy_timeout=0"),
    )
    await file_db.dispose()  # the connections opened to migrate it would still wait
    return file_db


async def test_a_locked_sqlite_file_raises_until_it_is_released(
    impatient: Database, tmp_path: Path, now: datetime
) -> None:
    db = impatient
    round_id, member_id = await _open_round(db, now)
    other = sqlite3.connect(tmp_path / "cercle.db", isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")  # another process writing, for longer than we wait
        failed = await _store(db, _answers(round_id, member_id, now, range(5)))
        assert len(_unavailable(failed)) == 5, failed
        other.execute("COMMIT")
    finally:
        other.close()
    assert all(
        isinstance(r, int) for r in await _store(db, _answers(round_id, member_id, now, range(5)))
    )
    assert await _stored(db, round_id) == _ids(range(5))


async def test_a_faulty_write_is_not_mistaken_for_an_outage(db: Database, now: datetime) -> None:
    round_id, member_id = await _open_round(db, now)

    async def broken(conn: AsyncConnection) -> None:
        await conn.execute(text("INSERT INTO no_such_table VALUES (1)"))

    results = await asyncio.gather(
        *(store.add_answer(db, **a) for a in _answers(round_id, member_id, now, range(3))),
        db.write(broken),
        return_exceptions=True,
    )
    assert _unavailable(results) == [] and isinstance(results[-1], Exception)
    assert await _stored(db, round_id) == _ids(range(3))


async def test_a_writer_stopped_mid_transaction_leaves_no_caller_waiting(
    file_db: Database, now: datetime
) -> None:
    db = file_db
    round_id, member_id = await _open_round(db, now)
    inside = asyncio.Event()

    async def stuck(conn: AsyncConnection) -> None:
        inside.set()
        await asyncio.Event().wait()  # never returns

    answers = _answers(round_id, member_id, now, range(4))
    batch = asyncio.ensure_future(
        asyncio.gather(
            *(store.add_answer(db, **answer) for answer in answers[:3]),
            db.write(stuck),
            return_exceptions=True,
        )
    )
    await inside.wait()
    queued = asyncio.ensure_future(store.add_answer(db, **answers[3]))
    await asyncio.sleep(0)  # it joins the queue behind the stuck transaction
    assert db.pending_writes == 1
    (writer,) = [t for t in asyncio.all_tasks() if t.get_name() == "group-writer"]
    writer.cancel()  # as when the event loop shuts down

    in_flight = _unavailable(await batch)
    waiting = _unavailable(await asyncio.gather(queued, return_exceptions=True))
    assert len(in_flight) == 4 and all(error.in_doubt for error in in_flight)
    assert len(waiting) == 1 and not waiting[0].in_doubt
    assert db.pending_writes == 0
    assert await _stored(db, round_id) == []
    # A new writer takes the next writes.
    assert isinstance(await store.add_answer(db, **answers[0]), int)
