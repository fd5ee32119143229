"""Persistence for Cercle: async SQLModel tables, migrations and query functions.

Query functions live in :mod:`storage.jobs`, :mod:`storage.members` and
:mod:`storage.state`; each takes a :class:`Database` first and commits its own work.
"""

from storage.database import DEFAULT_URL, Database
from storage.models import Account, AdapterState, Circle, JobRun, Member
from storage.types import UTCDateTime

__all__ = [
    "DEFAULT_URL",
    "Account",
    "AdapterState",
    "Circle",
    "Database",
    "JobRun",
    "Member",
    "UTCDateTime",
]
