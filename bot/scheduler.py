"""Scheduled jobs that run exactly once per scheduled time, across restarts and instances.

Times come from APScheduler 3.11 triggers (cron in the circle's timezone, so DST is handled
by the trigger) and every run is claimed in the job ledger (``job_runs``: unique job key and
scheduled time) before it starts. A second fire for the same time, from a duplicate wake-up,
a restart or another instance on the same database, finds the claim and does nothing. At
start, runs missed while the bot was down are caught up if they are within the grace period.

Two drivers share this logic: :class:`LiveScheduler` sleeps on the real clock through
APScheduler's ``AsyncIOScheduler``; :class:`ManualScheduler` fires what falls due when a
fake clock is advanced (tests, demos, ``cercle run --clock fake``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from bot.clock import Clock, FakeClock
from bot.effects import Effects, event_key
from storage import jobs
from storage.database import Database

log = logging.getLogger(__name__)

_TICK = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class JobRun:
    """One run of a job, handed to the job's function."""

    key: str
    scheduled_for: datetime
    #: Fired after its time (caught up at start, or a slow wake-up).
    late: bool


JobFunc = Callable[[JobRun], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Job:
    """A named job: when it fires and what it does."""

    key: str
    trigger: BaseTrigger
    func: JobFunc
    #: Fire times before this are never caught up (e.g. before the circle existed).
    since: datetime | None = None


def cron(expression: str, timezone: str) -> CronTrigger:
    """A crontab trigger (``"0 9 * * mon"``) evaluated in an IANA timezone."""
    return CronTrigger.from_crontab(expression, timezone=ZoneInfo(timezone))


def once(when: datetime) -> DateTrigger:
    """A trigger that fires once, at ``when``."""
    return DateTrigger(run_date=when)


def fire_times(trigger: BaseTrigger, after: datetime, until: datetime) -> Iterator[datetime]:
    """Every fire time of ``trigger`` in ``(after, until]``, in order."""
    previous: datetime | None = None
    now = after + _TICK
    while True:
        when: datetime | None = trigger.get_next_fire_time(previous, now)
        if when is None or when > until:
            return
        if when > after:
            yield when
        previous, now = when, when + _TICK


class Scheduler:
    """Jobs, the ledger and catch-up; subclasses decide how time passes."""

    def __init__(self, db: Database, clock: Clock, *, instance: str, grace: timedelta) -> None:
        self.db = db
        self.clock = clock
        self.instance = instance
        self.grace = grace
        self._jobs: dict[str, Job] = {}
        self._started = False
        #: Runs this instance claimed before this moment belong to a previous, dead process.
        self._born = clock.now()
        #: How long a claim holds between renewals (a dead process's claim expires after it).
        self.lease = jobs.DEFAULT_LEASE
        #: Told of every run this scheduler made (``True``: it succeeded), for metrics.
        self.on_run: Callable[[bool], None] | None = None
        #: The effects ledger: a run taken over after a crash repeats no side effect.
        self.effects: Effects | None = None
        #: The latest fire time of each job this scheduler ran or found already run.
        self._done: dict[str, datetime] = {}

    @property
    def jobs(self) -> dict[str, Job]:
        """The registered jobs by key."""
        return dict(self._jobs)

    def add(
        self, key: str, trigger: BaseTrigger, func: JobFunc, *, since: datetime | None = None
    ) -> Job:
        """Register (or replace) the job called ``key``."""
        job = Job(key, trigger, func, since)
        self._jobs[key] = job
        if self._started:
            self._watch(job)
        return job

    def remove(self, key: str) -> None:
        """Forget a job; nothing happens if it is unknown."""
        if self._jobs.pop(key, None) is not None and self._started:
            self._unwatch(key)

    def next_fire_time(self, key: str, *, not_before: datetime | None = None) -> datetime | None:
        """When the job fires next (at ``not_before`` or later, if given), or ``None``."""
        job = self._jobs.get(key)
        if job is None:
            return None
        now = self.clock.now()
        # A fire time at this very instant is still to come unless it ran: simulated time
        # stands on it until the next advance, which fires it (ManualScheduler.advance).
        after = now if self._done.get(key) == now else now - _TICK
        if not_before is not None:
            after = max(after, not_before - _TICK)
        return next(fire_times(job.trigger, after, now + timedelta(days=400)), None)

    async def start(self) -> None:
        """Catch up missed runs, then start firing jobs as they fall due."""
        await self.catch_up()
        self._started = True
        for job in self._jobs.values():
            self._watch(job)

    async def stop(self) -> None:
        """Stop firing jobs."""
        self._started = False

    async def catch_up(self) -> int:
        """Run the jobs missed within the grace period, oldest first; returns how many ran."""
        now = self.clock.now()
        due: list[tuple[datetime, Job]] = []
        for job in self._jobs.values():
            start = now - self.grace
            if job.since is not None:
                start = max(start, job.since - _TICK)
            due.extend((when, job) for when in fire_times(job.trigger, start, now))
        due.sort(key=lambda item: item[0])
        ran = 0
        for when, job in due:
            ran += await self.fire(job, when)
        return ran

    async def fire(self, job: Job, scheduled_for: datetime) -> bool:
        """Run ``job`` for ``scheduled_for`` unless that run was already claimed.

        A failing job never stops the scheduler: the error is logged and kept in the ledger.
        """
        now = self.clock.now()
        if scheduled_for > self._done.get(job.key, scheduled_for - _TICK):
            self._done[job.key] = scheduled_for
        claimed = await jobs.claim_run(
            self.db,
            job.key,
            scheduled_for,
            instance=self.instance,
            now=now,
            lease=self.lease,
            predecessor_before=self._born,
        )
        if not claimed:
            log.debug("job %s at %s already ran", job.key, scheduled_for.isoformat())
            return False
        late = now - scheduled_for > timedelta(minutes=1)
        if late:
            log.info("catching up job %s scheduled for %s", job.key, scheduled_for.isoformat())
        renewing = asyncio.create_task(self._renew(job.key, scheduled_for))
        try:
            await self._run(job, JobRun(job.key, scheduled_for, late))
        except Exception as error:
            log.exception("job %s at %s failed", job.key, scheduled_for.isoformat())
            await jobs.finish_run(
                self.db, job.key, scheduled_for, ok=False, now=self.clock.now(), error=repr(error)
            )
            ok = False
        else:
            await jobs.finish_run(self.db, job.key, scheduled_for, ok=True, now=self.clock.now())
            ok = True
        finally:
            renewing.cancel()
        if self.on_run is not None:
            self.on_run(ok)
        finished = job.trigger.get_next_fire_time(scheduled_for, scheduled_for + _TICK) is None
        if finished and self._jobs.get(job.key) is job:
            # A one-shot job (a round's close, a mute's end) is done: forget it.
            del self._jobs[job.key]
        return True

    async def _run(self, job: Job, run: JobRun) -> None:
        if self.effects is None:
            await job.func(run)
            return
        key = event_key("job", job.key, run.scheduled_for.isoformat())
        async with self.effects.scope(key):
            await job.func(run)

    async def _renew(self, key: str, scheduled_for: datetime) -> None:
        """Keep the claim of a running job while it lasts (real seconds: it runs now)."""
        period = max(self.lease.total_seconds() / 3, 1.0)
        while True:
            await asyncio.sleep(period)
            until = self.clock.now() + self.lease
            try:
                await jobs.renew_lease(
                    self.db, key, scheduled_for, instance=self.instance, until=until
                )
            except Exception:
                log.warning("could not renew the claim of job %s", key, exc_info=True)

    def _watch(self, job: Job) -> None:
        """Start waiting for the job's fire times (driver-specific)."""

    def _unwatch(self, key: str) -> None:
        """Stop waiting for a job's fire times (driver-specific)."""


class LiveScheduler(Scheduler):
    """Fires jobs on the real clock, woken by APScheduler's ``AsyncIOScheduler``."""

    def __init__(self, db: Database, clock: Clock, *, instance: str, grace: timedelta) -> None:
        super().__init__(db, clock, instance=instance, grace=grace)
        self._aps = AsyncIOScheduler()

    async def start(self) -> None:
        """Catch up, then let APScheduler wake us at each fire time."""
        await super().start()
        self._aps.start()

    async def stop(self) -> None:
        """Stop APScheduler without waiting for running jobs."""
        await super().stop()
        if self._aps.running:
            self._aps.shutdown(wait=False)

    def _watch(self, job: Job) -> None:
        self._aps.add_job(
            self._wake,
            job.trigger,
            args=(job.key,),
            id=job.key,
            replace_existing=True,
            coalesce=True,
            misfire_grace_time=int(self.grace.total_seconds()) or None,
        )

    def _unwatch(self, key: str) -> None:
        if self._aps.get_job(key) is not None:
            self._aps.remove_job(key)

    async def _wake(self, key: str) -> None:
        # APScheduler does not tell which fire time woke us: take the due times ourselves,
        # the ledger makes any overlap with catch-up or another instance harmless.
        job = self._jobs.get(key)
        if job is None:
            return
        now = self.clock.now()
        for when in fire_times(job.trigger, now - self.grace, now + timedelta(seconds=1)):
            await self.fire(job, when)


class ManualScheduler(Scheduler):
    """Fires jobs only when a :class:`FakeClock` is advanced: deterministic, no sleeps."""

    clock: FakeClock

    def __init__(
        self, db: Database, clock: FakeClock, *, instance: str = "manual", grace: timedelta
    ) -> None:
        super().__init__(db, clock, instance=instance, grace=grace)

    async def advance(self, delta: timedelta) -> int:
        """Move the clock forward by ``delta``, firing every job that falls due, in order.

        The clock shows each job's fire time while it runs. Jobs added while advancing (a
        round that schedules its own close) fire too if they fall due before the end. A fire
        time at the very instant the advance starts is due too (a slot at the console's start
        time, a job added since the last advance); the ledger skips one that already ran.
        """
        start = self.clock.now()
        end = start + delta
        fired: set[tuple[str, datetime]] = set()
        ran = 0
        while (due := self._next_due(start, end, fired)) is not None:
            when, job = due
            fired.add((job.key, when))
            self.clock.set(when)
            ran += await self.fire(job, when)
        self.clock.set(end)
        return ran

    async def advance_to(self, when: datetime) -> int:
        """Advance to an absolute time."""
        return await self.advance(when - self.clock.now())

    def _next_due(
        self, start: datetime, end: datetime, fired: set[tuple[str, datetime]]
    ) -> tuple[datetime, Job] | None:
        # Several jobs may share a fire time: look from just before the clock's time. The
        # start instant is included: a job added at that instant, after the previous advance
        # (or the catch-up at start) looked, is due now; one that ran is refused by its claim.
        now = self.clock.now()
        after = max(start, now) - _TICK
        best: tuple[datetime, Job] | None = None
        for job in self._jobs.values():
            for when in fire_times(job.trigger, after, end):
                if (job.key, when) in fired:
                    continue
                if best is None or when < best[0]:
                    best = (when, job)
                break
        return best
