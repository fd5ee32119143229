"""Scheduler ledger: claim each (job, time) occurrence exactly once across instances."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from storage.database import Database
from storage.models import JOB_DONE, JOB_FAILED, JOB_RUNNING, JobRun


async def claim_run(
    db: Database, job_key: str, scheduled_for: datetime, *, instance: str, now: datetime
) -> bool:
    """Record that ``instance`` starts the occurrence of ``job_key`` at ``scheduled_for``.

    The unique constraint on (job_key, scheduled_for) arbitrates concurrent claims,
    including across processes and hosts sharing the database.

    Returns:
        True if this call claimed the run, False if it was already claimed.
    """
    run = JobRun(
        job_key=job_key,
        scheduled_for=scheduled_for,
        status=JOB_RUNNING,
        instance=instance,
        started_at=now,
    )
    async with db.session() as session:
        session.add(run)
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            return False
    return True


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
