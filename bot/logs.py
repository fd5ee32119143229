"""Logging set-up: readable or JSON lines, and secrets masked in every record."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Final, TextIO

MASK: Final = "***"
_STANDARD_ATTRS: Final = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


_REGISTERED: set[str] = set()


def register_secret(value: str | None) -> None:
    """Mask ``value`` in every log line from now on (e.g. a token obtained at login)."""
    if value and len(value) >= 4:
        _REGISTERED.add(value)


class SecretsFilter(logging.Filter):
    """Replaces every known secret (tokens, passwords) by ``***`` before a record is written."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        for secret in secrets:
            register_secret(secret)

    @property
    def _secrets(self) -> list[str]:
        # Longest first, so a secret containing another is masked whole.
        return sorted(_REGISTERED, key=len, reverse=True)

    def mask(self, text: str) -> str:
        """``text`` with every secret masked."""
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the message once, masked, and drop the arguments that held secrets."""
        if self._secrets:
            record.msg = self.mask(record.getMessage())
            record.args = None
            if record.exc_info and record.exc_info[1] is not None:
                record.exc_text = self.mask(logging.Formatter().formatException(record.exc_info))
                record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and any extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value if isinstance(value, str | int | float | bool) else repr(value)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(
    level: str,
    *,
    json_lines: bool = False,
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> logging.Handler:
    """Send logs to standard error (or ``stream``), masked, as text or JSON lines."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(SecretsFilter(secrets))
    handler.setFormatter(
        JsonFormatter()
        if json_lines
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Libraries chatter at INFO; the bot's own lines are what a host wants to read.
    for noisy in ("apscheduler", "aiosqlite", "alembic", "discord", "nio", "sqlalchemy"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    return handler
