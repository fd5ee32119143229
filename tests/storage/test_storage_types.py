"""Datetimes are stored as naive UTC and come back aware."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.dialects.sqlite.base import SQLiteDialect
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import StatementError

from storage import Database, Member, UTCDateTime
from storage.jobs import claim_run, get_run, last_run

PARIS_SUMMER = timezone(timedelta(hours=2))


@pytest.mark.parametrize("dialect", [SQLiteDialect(), PGDialect()])
def test_bind_converts_to_naive_utc(dialect: Dialect) -> None:
    value = datetime(2025, 6, 1, 12, 0, tzinfo=PARIS_SUMMER)
    stored = UTCDateTime().process_bind_param(value, dialect)
    assert stored == datetime(2025, 6, 1, 10, 0)
    assert stored is not None and stored.tzinfo is None


def test_bind_rejects_naive() -> None:
    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(datetime(2025, 6, 1, 12, 0), SQLiteDialect())


def test_result_is_aware_utc() -> None:
    loaded = UTCDateTime().process_result_value(datetime(2025, 6, 1, 10, 0), SQLiteDialect())
    assert loaded == datetime(2025, 6, 1, 10, 0, tzinfo=UTC)
    assert loaded is not None and loaded.tzinfo is UTC


async def test_round_trip_is_aware_utc_and_stored_naive(db: Database) -> None:
    scheduled = datetime(2025, 6, 1, 12, 0, tzinfo=PARIS_SUMMER)
    started = datetime(2025, 6, 1, 10, 0, 5, tzinfo=UTC)
    assert await claim_run(db, "digest", scheduled, instance="a", now=started)

    run = await get_run(db, "digest", scheduled)
    assert run is not None
    assert run.scheduled_for == scheduled
    assert run.scheduled_for.tzinfo is UTC
    assert run.scheduled_for.hour == 10
    assert run.started_at.tzinfo is UTC

    async with db.engine.connect() as conn:
        raw = (await conn.exec_driver_sql("SELECT scheduled_for FROM job_runs")).scalar_one()
    # SQLite returns the stored text, PostgreSQL a naive datetime: both in UTC.
    assert str(raw).startswith("2025-06-01 10:00:00")


async def test_same_instant_in_other_offset_finds_the_row(db: Database, now: datetime) -> None:
    utc_time = datetime(2025, 6, 1, 10, 0, tzinfo=UTC)
    assert await claim_run(db, "digest", utc_time, instance="a", now=now)
    assert await get_run(db, "digest", utc_time.astimezone(PARIS_SUMMER)) is not None
    assert not await claim_run(
        db, "digest", utc_time.astimezone(PARIS_SUMMER), instance="b", now=now
    )


async def test_max_compares_instants_not_local_times(db: Database, now: datetime) -> None:
    earlier_but_larger_local = datetime(2025, 6, 1, 11, 0, tzinfo=PARIS_SUMMER)  # 09:00 UTC
    later = datetime(2025, 6, 1, 9, 30, tzinfo=UTC)
    await claim_run(db, "digest", earlier_but_larger_local, instance="a", now=now)
    await claim_run(db, "digest", later, instance="a", now=now)
    latest = await last_run(db, "digest")
    assert latest == later
    assert latest is not None and latest.tzinfo is UTC


async def test_naive_datetime_is_rejected_on_write(db: Database) -> None:
    with pytest.raises(StatementError) as excinfo:
        await claim_run(
            db, "digest", datetime(2025, 6, 1, 10, 0), instance="a", now=datetime.now(UTC)
        )
    assert isinstance(excinfo.value.orig, ValueError)

    async with db.session() as session:
        session.add(Member(display_name="Ada", created_at=datetime(2025, 1, 1)))
        with pytest.raises(StatementError) as excinfo:
            await session.commit()
    assert isinstance(excinfo.value.orig, ValueError)
    assert await last_run(db, "digest") is None
