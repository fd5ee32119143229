"""Logging set-up: readable or JSON lines, and secrets masked in every record.

A secret is masked in the forms it takes when a message quotes a request or a response: as is,
escaped as in JSON or a Python ``repr`` (``\\"``, ``\\\\``, ``\\uXXXX``, ``\\xXX``, doubled
backslashes) and URL-encoded (``%XX`` in either case, ``+`` for a space), or any mix of them.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Final, TextIO

MASK: Final = "***"
_STANDARD_ATTRS: Final = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}
#: Secrets shorter than this are not masked: they would mask ordinary words.
_MIN_SECRET: Final = 4

#: One or more backslashes, each possibly URL-encoded: JSON (``\"``), repr of JSON (``\\"``)...
_ESCAPE: Final = r"(?:\\|%5[cC])+"
_SHORT_ESCAPES: Final = {
    "\\": "\\",
    '"': '"',
    "'": "'",
    "/": "/",
    "\n": "n",
    "\r": "r",
    "\t": "t",
    "\b": "b",
    "\f": "f",
}

_REGISTERED: set[str] = set()
_lock = threading.Lock()
_pattern: re.Pattern[str] | None = None


def register_secret(value: str | None) -> None:
    """Mask ``value`` in every log line from now on (e.g. a token obtained at login)."""
    global _pattern
    if value and len(value) >= _MIN_SECRET and value not in _REGISTERED:
        with _lock:
            _REGISTERED.add(value)
            _pattern = None


def mask(text: str) -> str:
    """``text`` with every registered secret, in any of its quoted forms, replaced by ``***``."""
    global _pattern
    pattern = _pattern
    if pattern is None:
        with _lock:
            if not _REGISTERED:
                return text
            # Longest first, so a secret containing another is masked whole.
            secrets = sorted(_REGISTERED, key=len, reverse=True)
            pattern = _pattern = re.compile("|".join(_secret_pattern(s) for s in secrets))
    return pattern.sub(MASK, text)


def _hex(value: int, width: int) -> str:
    """``value`` in hexadecimal, matching either case."""
    return "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in format(value, f"0{width}x"))


def _percent(char: str) -> str:
    """``char`` URL-encoded: its UTF-8 bytes as ``%XX``."""
    return "".join(f"%{_hex(byte, 2)}" for byte in char.encode())


def _char_pattern(char: str) -> str:
    """Every way ``char`` may be written in escaped or URL-encoded text."""
    code = ord(char)
    forms = [re.escape(char), _percent(char)]
    if char == " ":
        forms.append(r"\+")
    if char in _SHORT_ESCAPES:
        short = _SHORT_ESCAPES[char]
        forms.append(f"{_ESCAPE}(?:{re.escape(short)}|{_percent(short)})")
    if code < 0x100:
        forms.append(f"{_ESCAPE}x{_hex(code, 2)}")
    if code < 0x10000:
        forms.append(f"{_ESCAPE}u{_hex(code, 4)}")
    else:
        high, low = divmod(code - 0x10000, 0x400)
        forms.append(f"{_ESCAPE}u{_hex(0xD800 + high, 4)}{_ESCAPE}u{_hex(0xDC00 + low, 4)}")
        forms.append(f"{_ESCAPE}U{_hex(code, 8)}")
    return "(?:" + "|".join(forms) + ")"


def _secret_pattern(secret: str) -> str:
    return "".join(_char_pattern(char) for char in secret)


class SecretsFilter(logging.Filter):
    """Replaces every known secret (tokens, passwords) by ``***`` before a record is written."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        for secret in secrets:
            register_secret(secret)

    def mask(self, text: str) -> str:
        """``text`` with every secret masked."""
        return mask(text)

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the message once, masked, and drop the arguments that held secrets."""
        if not _REGISTERED:
            return True
        record.msg = mask(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = mask(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        for key, value in list(vars(record).items()):
            if key in _STANDARD_ATTRS:
                continue
            if isinstance(value, str):
                setattr(record, key, mask(value))
            elif isinstance(value, list) and all(isinstance(item, str) for item in value):
                setattr(record, key, [mask(item) for item in value])
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
        if record.stack_info:
            entry["stack"] = record.stack_info
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value if _is_json(value) else repr(value)
        return json.dumps(entry, ensure_ascii=False)


def _is_json(value: object) -> bool:
    """Whether ``value`` is a JSON scalar, or a list of strings (e.g. a list of problems)."""
    if isinstance(value, list):
        return all(isinstance(item, str) for item in value)
    return value is None or isinstance(value, str | int | float | bool)


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
