"""The job ledger lets exactly one instance run each scheduled occurrence."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from storage import Database
from storage.jobs import claim_run, finish_run, get_run, last_run

MONDAY = datetime(2025, 3, 17, 8, 0, tzinfo=UTC)


async def test_claim_is_granted_once_per_key_and_time(db: Database, now: datetime) -> None:
    assert await claim_run(db, "weekly_prompt", MONDAY, instance="host-a", now=now)
    assert not await claim_run(db, "weekly_prompt", MONDAY, instance="host-b", now=now)
    assert await claim_run(db, "weekly_prompt", MONDAY + timedelta(weeks=1), instance="b", now=now)
    assert await claim_run(db, "digest", MONDAY, instance="host-b", now=now)

    run = await get_run(db, "weekly_prompt", MONDAY)
    assert run is not None
    assert run.instance == "host-a"
    assert run.status == "running"
    assert run.started_at == now
    assert run.finished_at is None


async def test_finish_records_success(db: Database, now: datetime) -> None:
    await claim_run(db, "digest", MONDAY, instance="a", now=now)
    done_at = now + timedelta(seconds=3)
    await finish_run(db, "digest", MONDAY, ok=True, now=done_at)

    run = await get_run(db, "digest", MONDAY)
    assert run is not None
    assert (run.status, run.finished_at, run.error) == ("done", done_at, None)


async def test_finish_records_failure_and_error(db: Database, now: datetime) -> None:
    await claim_run(db, "digest", MONDAY, instance="a", now=now)
    await finish_run(db, "digest", MONDAY, ok=False, now=now, error="Traceback: boom")

    run = await get_run(db, "digest", MONDAY)
    assert run is not None
    assert (run.status, run.error) == ("failed", "Traceback: boom")


async def test_finish_unclaimed_run_raises(db: Database, now: datetime) -> None:
    with pytest.raises(LookupError):
        await finish_run(db, "digest", MONDAY, ok=True, now=now)


async def test_get_run_missing_is_none(db: Database) -> None:
    assert await get_run(db, "digest", MONDAY) is None


async def test_last_run_is_latest_scheduled_time_for_the_key(db: Database, now: datetime) -> None:
    assert await last_run(db, "digest") is None
    for weeks in (2, 0, 1):
        await claim_run(db, "digest", MONDAY + timedelta(weeks=weeks), instance="a", now=now)
    await claim_run(db, "other", MONDAY + timedelta(weeks=9), instance="a", now=now)

    assert await last_run(db, "digest") == MONDAY + timedelta(weeks=2)


async def test_concurrent_claims_grant_exactly_one(db: Database, now: datetime) -> None:
    results = await asyncio.gather(
        *(claim_run(db, "digest", MONDAY, instance=f"worker-{i}", now=now) for i in range(10))
    )
    assert results.count(True) == 1

    run = await get_run(db, "digest", MONDAY)
    assert run is not None
    assert run.instance == f"worker-{results.index(True)}"


async def test_concurrent_claims_across_two_engines(db: Database, now: datetime) -> None:
    # Two Database objects on one file stand in for two bot processes.
    other = Database(db.engine.url.render_as_string(hide_password=False))
    try:
        results = await asyncio.gather(
            *(
                claim_run(database, "digest", MONDAY, instance=f"w{i}", now=now)
                for i, database in enumerate([db, other] * 5)
            )
        )
    finally:
        await other.dispose()
    assert results.count(True) == 1


async def test_a_claim_left_running_is_taken_over_once_its_lease_expired(
    db: Database, now: datetime
) -> None:
    lease = timedelta(minutes=5)
    assert await claim_run(db, "weekly_prompt", MONDAY, instance="a", now=now, lease=lease)
    # "a" died holding it: another instance must wait for the lease, then takes over once.
    soon = now + timedelta(minutes=1)
    assert not await claim_run(db, "weekly_prompt", MONDAY, instance="b", now=soon, lease=lease)
    later = now + timedelta(minutes=6)
    assert await claim_run(db, "weekly_prompt", MONDAY, instance="b", now=later, lease=lease)
    assert not await claim_run(db, "weekly_prompt", MONDAY, instance="c", now=later, lease=lease)
    run = await get_run(db, "weekly_prompt", MONDAY)
    assert run is not None
    assert (run.instance, run.attempts, run.status) == ("b", 2, "running")


async def test_a_finished_run_is_never_taken_over(db: Database, now: datetime) -> None:
    assert await claim_run(db, "digest", MONDAY, instance="a", now=now)
    await finish_run(db, "digest", MONDAY, ok=True, now=now)
    much_later = now + timedelta(days=1)
    assert not await claim_run(db, "digest", MONDAY, instance="b", now=much_later)


async def test_an_instance_restarted_takes_over_its_own_dead_claim_at_once(
    db: Database, now: datetime
) -> None:
    assert await claim_run(db, "weekly_prompt", MONDAY, instance="a", now=now)
    restarted = now + timedelta(seconds=30)  # well within the lease
    assert not await claim_run(
        db, "weekly_prompt", MONDAY, instance="a", now=restarted, predecessor_before=now
    )  # claimed at the very moment this process started: not a predecessor's
    assert await claim_run(
        db, "weekly_prompt", MONDAY, instance="a", now=restarted, predecessor_before=restarted
    )
    assert not await claim_run(
        db, "weekly_prompt", MONDAY, instance="b", now=restarted, predecessor_before=restarted
    )  # another instance's restart proves nothing about "a"
