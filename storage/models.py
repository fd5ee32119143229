"""SQLModel tables of the Cercle database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime

# Deterministic constraint names: SQLite and PostgreSQL would otherwise name them
# differently (or not at all), which breaks batch migrations and autogenerate.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION

JOB_RUNNING = "running"
JOB_DONE = "done"
JOB_FAILED = "failed"


class Circle(SQLModel, table=True):
    """A community space (a Discord channel or a Matrix room) running Cercle."""

    __tablename__ = "circles"
    __table_args__ = (UniqueConstraint("platform", "space_id", name="uq_circles_space"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=32)
    space_id: str = Field(max_length=255)
    name: str = Field(default="", max_length=200)
    locale: str = Field(default="fr", max_length=8)
    timezone: str = Field(default="Europe/Paris", max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)


class Member(SQLModel, table=True):
    """A person, possibly known through several platform accounts."""

    __tablename__ = "members"

    id: int | None = Field(default=None, primary_key=True)
    display_name: str = Field(max_length=200)
    locale: str | None = Field(default=None, max_length=8)
    created_at: datetime = Field(sa_type=UTCDateTime)


class Account(SQLModel, table=True):
    """A member's identity on one platform."""

    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("platform", "platform_user_id", name="uq_accounts_platform_user"),
    )

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="members.id", ondelete="CASCADE", index=True)
    platform: str = Field(max_length=32)
    platform_user_id: str = Field(max_length=255)
    display_name: str = Field(max_length=200)
    created_at: datetime = Field(sa_type=UTCDateTime)


class JobRun(SQLModel, table=True):
    """One scheduled occurrence of a job; the unique key makes claiming atomic."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job_key", "scheduled_for", name="uq_job_runs_key_time"),)

    id: int | None = Field(default=None, primary_key=True)
    job_key: str = Field(max_length=200, index=True)
    scheduled_for: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(max_length=16)
    instance: str = Field(max_length=120)
    started_at: datetime = Field(sa_type=UTCDateTime)
    #: Until when the claiming instance holds the run; past it, a ``running`` run whose
    #: instance died may be taken over (``None``: rows from before leases, never taken over).
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: How many times the run was claimed (1, or more after takeovers).
    attempts: int = Field(default=1)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    error: str | None = Field(default=None, sa_type=Text)


class AdapterState(SQLModel, table=True):
    """Small key/value store for platform adapters (sync tokens, cursors)."""

    __tablename__ = "adapter_state"

    adapter: str = Field(primary_key=True, max_length=32)
    key: str = Field(primary_key=True, max_length=200)
    value: str = Field(sa_type=Text)
    updated_at: datetime = Field(sa_type=UTCDateTime)
