"""Column types and stored values shared by the storage models."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Final

from sqlalchemy.engine import Dialect
from sqlalchemy.types import DateTime, TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetime stored as naive UTC.

    SQLite has no timezone support and PostgreSQL's ``timestamptz`` converts on
    read, so storing naive UTC everywhere keeps both dialects identical. Values are
    returned as aware UTC datetimes; naive datetimes are rejected on write.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert an aware datetime to naive UTC.

        Raises:
            ValueError: If ``value`` is naive.
        """
        if value is None:
            return None
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise ValueError(f"naive datetime {value!r} rejected: pass a timezone-aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Attach UTC to the stored naive value."""
        if value is None:
            return None
        if value.tzinfo is not None:
            return value.astimezone(UTC)
        return value.replace(tzinfo=UTC)


class Visibility(enum.IntEnum):
    """How a member's message may be shown, from least to most restricted.

    The one home of the rule: answers and comments store :attr:`stored` (``"visible"``,
    ``"redacted"``, ``"held"``, ``"hidden"``) and only the :attr:`public` ones are shown,
    counted or analysed. :mod:`bot.types` re-exports this enum for verdicts.
    """

    VISIBLE = 0
    #: Shown with personal details masked (the bot reposts the masked text).
    REDACTED = 1
    #: Out of public view until a host approves it.
    HELD = 2
    #: Removed from view.
    HIDDEN = 3

    @property
    def stored(self) -> str:
        """The value kept in the database's ``visibility`` columns."""
        return self.name.lower()

    @property
    def public(self) -> bool:
        """The message (or its masked twin) may be seen and counted."""
        return self <= Visibility.REDACTED


PUBLIC_VISIBILITIES: Final[tuple[str, ...]] = tuple(v.stored for v in Visibility if v.public)
"""The stored visibilities of what may be seen and counted: ``("visible", "redacted")``."""
