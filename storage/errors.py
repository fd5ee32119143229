"""The one error that says the database is away for now: retry later, the event is not at fault.

Its home is :mod:`storage.database` (import it from there); it lives here so that the group
writer, which the database module imports, can recognise it too.
"""

from __future__ import annotations

from typing import Final

# PostgreSQL SQLSTATEs (https://www.postgresql.org/docs/current/errcodes-appendix.html).
#: Class 08, connection exception; and the server shutting down, crashed or starting up.
_PG_LOST: Final = ("08", "57P01", "57P02", "57P03")
#: Class 53, insufficient resources: too many connections, disk full, out of memory.
_PG_BUSY: Final = ("53",)
# SQLite primary result codes (https://www.sqlite.org/rescode.html): BUSY, LOCKED, IOERR,
# FULL, CANTOPEN. Extended codes carry the primary one in their low byte.
_SQLITE_BUSY: Final = frozenset({5, 6, 10, 13, 14})


class DatabaseUnavailable(Exception):
    """The database cannot be reached or cannot take the work now; the same call may succeed later.

    Raised instead of the driver's error for a lost or refused connection, a server shutting
    down or starting up, too many connections, and a locked, full or unreadable SQLite file.
    Errors about the statement itself (a constraint, a missing table) are not this.

    Attributes:
        in_doubt: The connection broke while committing: the transaction may have been stored.
            Writes through :meth:`Database.write` and :meth:`Database.insert_once` are
            idempotent (``ON CONFLICT DO NOTHING`` or upserts), so retrying them stores once.
    """

    def __init__(self, message: str, *, in_doubt: bool = False) -> None:
        super().__init__(message)
        self.in_doubt = in_doubt


def connection_lost(error: BaseException) -> bool:
    """Whether ``error`` (or an error it wraps) says the connection is gone or was refused."""
    return _classify(error) == "lost"


def unavailable(error: BaseException) -> bool:
    """Whether ``error`` (or an error it wraps) says the database is away or busy for now."""
    return _classify(error) is not None


def _classify(error: BaseException) -> str | None:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DatabaseUnavailable):
            return "busy"
        if getattr(current, "connection_invalidated", False):  # SQLAlchemy saw a disconnect
            return "lost"
        if isinstance(current, OSError):  # refused, reset, unreachable, timed out
            return "lost"
        sqlstate = getattr(current, "sqlstate", None)
        if isinstance(sqlstate, str):
            if sqlstate.startswith(_PG_LOST):
                return "lost"
            if sqlstate.startswith(_PG_BUSY):
                return "busy"
        code = getattr(current, "sqlite_errorcode", None)
        if isinstance(code, int) and code & 0xFF in _SQLITE_BUSY:
            return "busy"
        orig = getattr(current, "orig", None)  # a SQLAlchemy DBAPIError wraps the driver's
        current = orig if isinstance(orig, BaseException) else current.__cause__
    return None
