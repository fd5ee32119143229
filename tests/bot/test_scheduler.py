"""Scheduled jobs: cron in local time across DST, exactly once across restarts, catch-up."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest

from bot.clock import FakeClock, SystemClock
from bot.cog import Cog
from bot.scheduler import JobRun, LiveScheduler, ManualScheduler, cron, fire_times, once
from bot.testing import Harness
from storage import jobs
from storage.database import Database

PARIS_MONDAY_9 = "0 9 * * mon"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_weekly_cron_stays_at_nine_local_across_dst() -> None:
    trigger = cron(PARIS_MONDAY_9, "Europe/Paris")
    times = list(fire_times(trigger, utc(2026, 3, 20), utc(2026, 4, 1)))
    # 23 March: winter time (UTC+1); 30 March: summer time (UTC+2). Both are 09:00 in Paris.
    assert times == [utc(2026, 3, 23, 8), utc(2026, 3, 30, 7)]
    autumn = list(fire_times(trigger, utc(2026, 10, 20), utc(2026, 11, 3)))
    assert autumn == [utc(2026, 10, 26, 8), utc(2026, 11, 2, 8)]
    before = list(fire_times(trigger, utc(2026, 10, 18), utc(2026, 10, 20)))
    assert before == [utc(2026, 10, 19, 7)]


def test_fire_times_excludes_start_includes_end() -> None:
    trigger = once(utc(2026, 1, 1, 12))
    assert list(fire_times(trigger, utc(2026, 1, 1, 12), utc(2026, 1, 2))) == []
    assert list(fire_times(trigger, utc(2026, 1, 1), utc(2026, 1, 1, 12))) == [utc(2026, 1, 1, 12)]


class Ticker(Cog):
    """A cog with a weekly job, recording each run in a list shared across restarts."""

    name = "ticker"
    runs: ClassVar[list[JobRun]] = []
    fail_next = False

    async def on_start(self) -> None:
        self.services.scheduler.add(
            "ticker:weekly", cron(PARIS_MONDAY_9, "Europe/Paris"), self.tick
        )

    async def tick(self, run: JobRun) -> None:
        if Ticker.fail_next:
            Ticker.fail_next = False
            raise RuntimeError("job failed")
        Ticker.runs.append(run)

    async def export_member_data(self, member_id: int) -> dict[str, Any]:
        return {}

    async def erase_member_data(self, member_id: int) -> None:
        return None


@pytest.fixture(autouse=True)
def _reset_ticker() -> None:
    Ticker.runs = []
    Ticker.fail_next = False


# Monday 5 January 2026, 07:00 UTC = 08:00 in Paris: the job is due in one hour.
START = utc(2026, 1, 5, 7)


async def test_job_fires_once_at_its_time() -> None:
    async with Harness("discord", cogs=[Ticker], start=START) as h:
        assert await h.advance("59m") == 0
        assert Ticker.runs == []
        assert await h.advance("2m") == 1
        assert [r.scheduled_for for r in Ticker.runs] == [utc(2026, 1, 5, 8)]
        assert not Ticker.runs[0].late
        await h.advance("7d")
        assert [r.scheduled_for for r in Ticker.runs] == [utc(2026, 1, 5, 8), utc(2026, 1, 12, 8)]


async def test_duplicate_fire_of_the_same_run_does_nothing() -> None:
    async with Harness("discord", cogs=[Ticker], start=START) as h:
        await h.advance("2h")
        job = h.scheduler.jobs["ticker:weekly"]
        assert await h.scheduler.fire(job, utc(2026, 1, 5, 8)) is False
        assert len(Ticker.runs) == 1


async def test_restart_after_the_run_does_not_run_it_again() -> None:
    async with Harness("discord", cogs=[Ticker], start=START) as h:
        await h.advance("2h")
        await h.restart()
        await h.restart(downtime="1h")
        assert len(Ticker.runs) == 1


async def test_run_missed_while_down_is_caught_up_at_start() -> None:
    async with Harness("discord", cogs=[Ticker], start=START) as h:
        # Down from 08:00 to 10:00 Paris time: the 09:00 run is missed, then caught up.
        await h.restart(downtime="3h")
        assert [r.scheduled_for for r in Ticker.runs] == [utc(2026, 1, 5, 8)]
        assert Ticker.runs[0].late
        await h.restart()
        assert len(Ticker.runs) == 1


async def test_run_missed_beyond_the_grace_period_is_skipped() -> None:
    async with Harness("discord", cogs=[Ticker], start=START) as h:
        await h.restart(downtime="2d")  # default grace: 6 hours
        assert Ticker.runs == []
        await h.advance("7d")
        assert [r.scheduled_for for r in Ticker.runs] == [utc(2026, 1, 12, 8)]


async def test_a_failing_job_is_recorded_and_the_next_run_still_happens(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with Harness("discord", cogs=[Ticker], start=START) as h:
        Ticker.fail_next = True
        with caplog.at_level(logging.ERROR):
            await h.advance("2h")
        assert "ticker:weekly" in caplog.text
        failed = await jobs.get_run(h.db, "ticker:weekly", utc(2026, 1, 5, 8))
        assert (
            failed is not None
            and failed.status == "failed"
            and "job failed" in (failed.error or "")
        )
        await h.advance("7d")
        assert [r.scheduled_for for r in Ticker.runs] == [utc(2026, 1, 12, 8)]


async def test_jobs_due_at_the_same_time_all_fire_in_order(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}")
    await db.upgrade()
    clock = FakeClock(START)
    scheduler = ManualScheduler(db, clock, grace=timedelta(hours=1))
    order: list[str] = []

    def job(name: str) -> Any:
        async def run(r: JobRun) -> None:
            order.append(f"{name}@{r.scheduled_for:%H:%M}")
            if name == "open":  # a job that schedules another one, due later in the same advance
                scheduler.add("close", once(r.scheduled_for + timedelta(minutes=30)), job("close"))

        return run

    scheduler.add("b", once(utc(2026, 1, 5, 9)), job("b"))
    scheduler.add("a", once(utc(2026, 1, 5, 9)), job("a"))
    scheduler.add("open", once(utc(2026, 1, 5, 8)), job("open"))
    await scheduler.start()
    assert await scheduler.advance(timedelta(hours=3)) == 4
    assert order[0] == "open@08:00" and order[1] == "close@08:30"
    assert sorted(order[2:]) == ["a@09:00", "b@09:00"]
    assert clock.now() == utc(2026, 1, 5, 10)
    await db.dispose()


async def test_a_slot_due_exactly_when_the_fake_clock_starts_fires_once(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}")
    await db.upgrade()
    clock = FakeClock(utc(2026, 1, 5, 8))  # Monday 09:00 in Paris: FakeClock's default start
    scheduler = ManualScheduler(db, clock, grace=timedelta(hours=1))
    ran: list[datetime] = []

    async def record(r: JobRun) -> None:
        ran.append(r.scheduled_for)

    await scheduler.start()
    # Added after the start (a circle first seen on the console's first line), at that instant.
    scheduler.add("weekly", cron(PARIS_MONDAY_9, "Europe/Paris"), record, since=clock.now())
    # What members are told agrees: the slot at this instant is the next one until it ran.
    assert scheduler.next_fire_time("weekly") == utc(2026, 1, 5, 8)
    assert await scheduler.advance(timedelta(days=1)) == 1
    assert ran == [utc(2026, 1, 5, 8)]
    assert scheduler.next_fire_time("weekly") == utc(2026, 1, 12, 8)
    assert await scheduler.advance(timedelta(days=6)) == 1  # ends at the next slot, included
    assert ran == [utc(2026, 1, 5, 8), utc(2026, 1, 12, 8)]
    assert scheduler.next_fire_time("weekly") == utc(2026, 1, 19, 8)  # the clock is on it: ran
    # The next advance starts where the last one ended, at that slot: it does not run twice.
    assert await scheduler.advance(timedelta(hours=1)) == 0
    assert ran == [utc(2026, 1, 5, 8), utc(2026, 1, 12, 8)]
    await db.dispose()


async def test_since_prevents_catching_up_runs_from_before_a_job_existed(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}")
    await db.upgrade()
    clock = FakeClock(utc(2026, 1, 5, 9))
    scheduler = ManualScheduler(db, clock, grace=timedelta(hours=6))
    ran: list[JobRun] = []

    async def record(r: JobRun) -> None:
        ran.append(r)

    # Created at 08:30 UTC, after the 08:00 run: nothing to catch up.
    scheduler.add("new", cron(PARIS_MONDAY_9, "Europe/Paris"), record, since=utc(2026, 1, 5, 8, 30))
    await scheduler.start()
    assert ran == []
    await db.dispose()


async def test_live_scheduler_fires_on_the_real_clock_exactly_once(tmp_path: Path) -> None:
    """The production driver: APScheduler wakes us, the ledger dedups the wake-ups."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'live.db'}")
    await db.upgrade()
    clock = SystemClock()
    first = LiveScheduler(db, clock, instance="one", grace=timedelta(minutes=5))
    second = LiveScheduler(db, clock, instance="two", grace=timedelta(minutes=5))
    done = asyncio.Event()
    runs: list[str] = []

    def job(instance: str) -> Any:
        async def run(r: JobRun) -> None:
            runs.append(instance)
            done.set()

        return run

    when = clock.now() + timedelta(milliseconds=400)
    first.add("live", once(when), job("one"))
    second.add("live", once(when), job("two"))
    await first.start()
    await second.start()
    try:
        await asyncio.wait_for(done.wait(), timeout=10)
        # Both instances woke up for the same time; give the slower one the chance to misfire.
        await asyncio.wait_for(_until_finished(db, when), timeout=10)
    finally:
        await first.stop()
        await second.stop()
    assert len(runs) == 1
    await db.dispose()


async def _until_finished(db: Database, when: datetime) -> None:
    while True:
        run = await jobs.get_run(db, "live", when)
        if run is not None and run.status == "done":
            return
        await asyncio.sleep(0.05)


async def test_one_shot_jobs_are_forgotten_once_they_ran(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}")
    await db.upgrade()
    clock = FakeClock(START)
    scheduler = ManualScheduler(db, clock, grace=timedelta(hours=1))

    async def nothing(run: JobRun) -> None:
        return None

    scheduler.add("once", once(START + timedelta(minutes=5)), nothing)
    scheduler.add("weekly", cron(PARIS_MONDAY_9, "Europe/Paris"), nothing)
    await scheduler.start()
    await scheduler.advance(timedelta(hours=2))
    assert set(scheduler.jobs) == {"weekly"}  # a busy bot does not pile up finished jobs
    await db.dispose()
