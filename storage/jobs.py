"""Scheduler ledger: claim each (job, time) occurrence exactly once across instances."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from storage.database import Database
from storage.models import JOB_DONE, JOB_FAILED, JOB_RUNNING, JobRun

#: How long a claim holds without renewal: a job's run renews it while it lasts.
DEFAULT_LEASE: Final = timedelta(minutes=5)


async def claim_run(
    db: Database,
    job_key: str,
    scheduled_for: datetime,
    *,
    instance: str,
    now: datetime,
    lease: timedelta = DEFAULT_LEASE,
    predecessor_before: datetime | None = None,
) -> bool:
    """Record that ``instance`` starts the occurrence of ``job_key`` at ``scheduled_for``.

    The unique constraint on (job_key, scheduled_for) arbitrates concurrent claims,
    including across processes and hosts sharing the database. A claim is held until
    ``now + lease`` (renewed by :func:`renew_lease` while the job runs); a run still
    ``running`` past its lease was left by a dead process and is taken over. So is one
    claimed by this same ``instance`` before ``predecessor_before`` (when this process
    started): that was this instance's previous life, dead in the middle of it.

    Returns:
        True if this call claimed the run, False if it was already claimed (and still held,
        or finished).
    """
    run = JobRun(
        job_key=job_key,
        scheduled_for=scheduled_for,
        status=JOB_RUNNING,
        instance=instance,
        started_at=now,
        lease_until=now + lease,
    )
    async with db.session() as session:
        session.add(run)
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
        else:
            return True
    return await _take_over(db, job_key, scheduled_for, instance, now, lease, predecessor_before)


async def _take_over(
    db: Database,
    job_key: str,
    scheduled_for: datetime,
    instance: str,
    now: datetime,
    lease: timedelta,
    predecessor_before: datetime | None,
) -> bool:
    held = await get_run(db, job_key, scheduled_for)
    if held is None or held.status != JOB_RUNNING:
        return False
    expired = held.lease_until is not None and held.lease_until <= now
    own_past = (
        predecessor_before is not None
        and held.instance == instance
        and held.started_at < predecessor_before
    )
    if not (expired or own_past):
        return False
    # Compare and swap on the row as read: of several instances taking over, one wins.
    stmt = (
        update(JobRun)
        .where(
            col(JobRun.id) == held.id,
            col(JobRun.status) == JOB_RUNNING,
            col(JobRun.instance) == held.instance,
            col(JobRun.started_at) == held.started_at,
        )
        .values(
            instance=instance,
            started_at=now,
            lease_until=now + lease,
            attempts=held.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    async with db.session() as session:
        result = await session.exec(stmt)
        await session.commit()
    return bool(result.rowcount)


async def renew_lease(
    db: Database,
    job_key: str,
    scheduled_for: datetime,
    *,
    instance: str,
    until: datetime,
) -> bool:
    """Extend a running claim held by ``instance``; False if it is no longer theirs."""
    stmt = (
        update(JobRun)
        .where(
            col(JobRun.job_key) == job_key,
            col(JobRun.scheduled_for) == scheduled_for,
            col(JobRun.status) == JOB_RUNNING,
            col(JobRun.instance) == instance,
        )
        .values(lease_until=until)
        .execution_options(synchronize_session=False)
    )
    async with db.session() as session:
        result = await session.exec(stmt)
        await session.commit()
    return bool(result.rowcount)


async def finish_run(
    db: Database,
    job_key: str,
    scheduled_for: datetime,
    *,
    ok: bool,
    now: datetime,
    error: str | None = None,
) -> None:
    """Mark a claimed run as done (``ok``) or failed, with an optional error text.

    Raises:
        LookupError: If the run was never claimed.
    """
    stmt = (
        update(JobRun)
        .where(col(JobRun.job_key) == job_key, col(JobRun.scheduled_for) == scheduled_for)
        .values(status=JOB_DONE if ok else JOB_FAILED, finished_at=now, error=error)
        .execution_options(synchronize_session=False)
    )
    async with db.session() as session:
        result = await session.exec(stmt)
        if result.rowcount == 0:
            await session.rollback()
            raise LookupError(f"no run claimed for {job_key!r} at {scheduled_for.isoformat()}")
        await session.commit()


async def last_run(db: Database, job_key: str) -> datetime | None:
    """Return the latest ``scheduled_for`` recorded for ``job_key``, whatever its status."""
    stmt = select(func.max(col(JobRun.scheduled_for))).where(col(JobRun.job_key) == job_key)
    async with db.session() as session:
        return (await session.exec(stmt)).one()


async def get_run(db: Database, job_key: str, scheduled_for: datetime) -> JobRun | None:
    """Return the ledger row of one occurrence, if claimed."""
    stmt = select(JobRun).where(
        col(JobRun.job_key) == job_key, col(JobRun.scheduled_for) == scheduled_for
    )
    async with db.session() as session:
        return (await session.exec(stmt)).first()


async def recent_runs(db: Database, limit: int = 5) -> list[JobRun]:
    """The latest job runs, newest first (for health reports)."""
    async with db.session() as session:
        stmt = select(JobRun).order_by(col(JobRun.started_at).desc(), col(JobRun.id).desc())
        return list((await session.exec(stmt.limit(limit))).all())
