"""What the memory platform did, kept in a JSON-lines file that outlives the process.

One line per side effect (``[memory] outbox``)::

    {"effect": "send_direct", "key": "9f2c…", "channel": "dm-ana", "thread": null,
     "to": "ana", "text": "Thank you for your answer! …", "ref": "dm-3a1f-7"}

``key`` is the effects ledger's :func:`~bot.effects.idempotency_key` of the request (``null``
outside a ledger scope). Like a Matrix homeserver with transaction ids, the outbox remembers
the keys it has seen: a request whose key is already there is not performed again, it gets the
recorded ``ref`` back and leaves a line marked ``"repeat": true`` (so a test tells requests
repeated after a crash from effects delivered). Each line is flushed and fsynced before the
effect returns: what the bot was told was done is on disk, even after ``kill -9``.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Final

log = logging.getLogger(__name__)

#: The counter at the end of an id the memory platform handed out (``bot-3a1f-12``).
_COUNTER: Final = re.compile(r"-(\d+)$")


def read(path: Path) -> Iterator[dict[str, Any]]:
    """The outbox's lines, in order (a torn or unreadable one is skipped)."""
    if not path.exists():
        return
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, 1):
            try:
                line = json.loads(raw)
            except ValueError:
                line = None
            if not isinstance(line, dict) or "effect" not in line:
                log.warning("outbox %s: line %d unreadable, skipped", path, number)
                continue
            yield line


class Outbox:
    """The append-only record of a platform's side effects, deduplicated on their keys."""

    def __init__(self, path: Path) -> None:
        self.path = path
        #: What was delivered before this process started, oldest first (no repeats).
        self.delivered: list[dict[str, Any]] = []
        self._refs: dict[str, str | None] = {}
        #: The highest counter in an id handed out so far (new ids start after it).
        self.last_counter = 0
        for line in read(path):
            if line.get("repeat"):
                continue
            self.delivered.append(line)
            if line.get("key") is not None:
                self._refs[str(line["key"])] = line.get("ref")
            found = _COUNTER.search(str(line.get("ref") or ""))
            if found:
                self.last_counter = max(self.last_counter, int(found.group(1)))
        self._file: IO[str] | None = None

    def seen(self, key: str | None) -> bool:
        """Whether a request with ``key`` was delivered already."""
        return key is not None and key in self._refs

    def ref_of(self, key: str) -> str | None:
        """The id the delivered request ``key`` returned."""
        return self._refs[key]

    def write(self, line: dict[str, Any]) -> None:
        """Append ``line``, on disk before this returns."""
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            torn = _torn(self.path)
            self._file = self.path.open("a", encoding="utf-8")
            if torn:
                self._file.write("\n")  # a line cut by a crash stays alone, unread
        self._file.write(json.dumps(line, ensure_ascii=False) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        key = line.get("key")
        if key is not None and not line.get("repeat"):
            self._refs[str(key)] = line.get("ref")

    def close(self) -> None:
        """Close the file (it is opened again by the next write)."""
        if self._file is not None:
            self._file.close()
            self._file = None


def _torn(path: Path) -> bool:
    """Whether ``path`` ends in the middle of a line (a write cut short)."""
    if not path.exists() or path.stat().st_size == 0:
        return False
    with path.open("rb") as data:
        data.seek(-1, os.SEEK_END)
        return data.read(1) != b"\n"
