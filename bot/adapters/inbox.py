"""The memory platform fed from a durable inbox: an append-only JSON-lines file.

Each line is one member event, written by another program (a bridge, a load generator, a
test)::

    {"id": "m-1", "author": "ana", "text": "Bonjour", "thread": "thread-ab12-3"}
    {"id": "c-1", "author": "hana", "text": "/prompt now"}

``id`` identifies the message for good; ``thread`` and ``reply_to`` are optional. The read
position is stored in the database only after the event before it was handled, so a crash
(even ``kill -9``) replays at most the events that were in flight, and the core drops those
it already settled (see :mod:`bot.effects`): nothing lost, nothing twice.

A backlog (:data:`~bot.adapters.batches.BATCH_FROM` lines or more waiting, as after a
downtime) is caught up in batches (:func:`~bot.adapters.batches.run_batch`): a batch's lines
are handled side by side, a member's in order and a command alone, and the position is stored
once the batch is settled. A crash mid-batch reads the batch again: the lines already settled
are dropped, the others handled again without repeating the side effects they had recorded.

A line that is not an entry (garbage, or torn: a writer stopped mid-line and the next line
was written after it) is logged and skipped alone: the complete entry written after a torn
fragment is still handled. A last line without its newline is still being written: it is
waited for. The follower runs under a :class:`~bot.supervisor.Supervisor`: when it fails (the
database restarts, the path cannot be read, the core could not settle an event) it says why
and starts again from the stored position, with backoff.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any, BinaryIO, Final, TypeAlias

from bot.adapters.batches import BATCH_FROM, MAX_BATCH, run_batch
from bot.adapters.memory import MemoryPlatform
from bot.clock import Clock
from bot.platform import Capabilities, EventNotHandled, EventSink
from bot.supervisor import Supervisor
from bot.types import MessagePosted, MessageRef, ThreadRef
from storage import state
from storage.database import Database

log = logging.getLogger(__name__)

POLL: Final = 0.05
FOLLOWER: Final = "inbox-follower"
#: A line of a batch: its bytes, where it starts, the entry it holds (``None``: unreadable).
_Item: TypeAlias = tuple[bytes, int, dict[str, Any] | None]
#: Where a complete entry may start after a torn fragment, tried from the line's end.
_MAX_CUTS: Final = 32
#: Commands arrive as text (``/prompt now``), like on the console.
INBOX: Final = Capabilities(
    max_message_length=4000,
    native_commands=False,
    ephemeral_replies=False,
    threads=True,
    reactions=True,
    command_prefix="/",
)


class InboxPlatform(MemoryPlatform):
    """Follows an inbox file like ``tail -f`` and hands each line to the bot once.

    ``supervisor`` runs the follower (its state is there for health reports); by default the
    platform has one of its own. ``outbox`` keeps what the bot did across restarts (see
    :class:`~bot.adapters.memory.MemoryPlatform`).
    """

    def __init__(
        self,
        clock: Clock,
        db: Database,
        path: Path,
        *,
        capabilities: Capabilities | None = None,
        channel: str = "circle",
        hosts: tuple[str, ...] | list[str] = (),
        supervisor: Supervisor | None = None,
        outbox: Path | None = None,
    ) -> None:
        super().__init__(
            clock,
            name="memory",
            capabilities=capabilities or INBOX,
            channel=channel,
            hosts=hosts,
            outbox=outbox,
        )
        self.db = db
        self.path = path
        self.supervisor = supervisor if supervisor is not None else Supervisor(clock)
        self._key = f"inbox-offset:{path.resolve()}"

    async def start(self, sink: EventSink) -> None:
        """Start following the inbox from the stored position."""
        await super().start(sink)
        self.supervisor.start(FOLLOWER, self._follow)

    async def stop(self) -> None:
        """Stop following (the position stays stored)."""
        await self.supervisor.stop(FOLLOWER)
        await super().stop()

    async def _follow(self) -> None:
        offset = int(await state.get_state(self.db, "memory", self._key) or 0)
        self.path.touch(exist_ok=True)
        with self.path.open("rb") as inbox:
            size = self.path.stat().st_size
            if offset > size:
                log.warning(
                    "inbox %s is shorter (%d bytes) than the stored position %d: truncated or "
                    "replaced? Waiting for it to grow past that position",
                    self.path,
                    size,
                    offset,
                )
            inbox.seek(offset)
            while True:
                lines = _complete_lines(inbox, offset, MAX_BATCH)
                if not lines:  # nothing new, or a line still being written
                    await asyncio.sleep(POLL)
                elif len(lines) < BATCH_FROM:
                    for line, at in lines:
                        await self._handle(line, at)
                        offset = at + len(line)
                        await self._store(offset)
                else:
                    offset = await self._batch(lines)

    async def _store(self, offset: int) -> None:
        await state.set_state(self.db, "memory", self._key, str(offset), now=self.clock.now())

    async def _batch(self, lines: list[tuple[bytes, int]]) -> int:
        """Handle a backlog's ``lines`` side by side, store the position once; the new one.

        :func:`~bot.adapters.batches.run_batch` handles them: a member's lines in order, and
        a line that may depend on others' (a command, a reply to a line of the batch, an
        unreadable line) alone once every line before it is. When a line cannot be settled,
        the position stops before the first line not settled: read again, the lines after it
        that were settled are dropped as replays.

        Raises:
            EventNotHandled: A line could not be settled (after the position was stored).
        """
        # Each line parsed once here for the cut (lane, id, dependence), again when handled.
        items = [(line, at, _entry(line)) for line, at in lines]
        done, failure = await run_batch(
            items,
            lambda item: self._handle(item[0], item[1]),
            lane=lambda item: str(item[2]["author"]).lower() if item[2] is not None else "",
            ident=lambda item: str(item[2]["id"]) if item[2] is not None else None,
            depends=self._depends,
        )
        if done:
            line, at = lines[done - 1]
            await self._store(at + len(line))
        if failure is not None:
            raise failure
        line, at = lines[-1]
        return at + len(line)

    def _depends(self, item: _Item, ids: set[str]) -> bool:
        """Whether the line's handling may depend on lines of others before it (``ids``)."""
        entry = item[2]
        if entry is None:  # unreadable or torn: what it holds is known only when handled
            return True
        text, reply_to = str(entry["text"]), entry.get("reply_to")
        # A command may change what every later line meets (a round opened, a question
        # added, a member muted); a reply may look at the line it answers.
        return text.startswith(self.capabilities.command_prefix) or (
            bool(reply_to) and str(reply_to) in ids
        )

    async def _handle(self, line: bytes, offset: int) -> None:
        entry = _entry(line)
        if entry is not None:
            await self._post(entry, offset)
            return
        cut = _torn_at(line)
        if cut is None:
            log.warning("inbox %s: unreadable line at byte %s skipped", self.path, offset)
            return
        fragment = _entry(line[:cut])
        if fragment is None:
            log.warning(
                "inbox %s: torn line at byte %s skipped (%d bytes); the entry after it is kept",
                self.path,
                offset,
                cut,
            )
        else:  # a whole entry, only its newline missing
            await self._post(fragment, offset)
        complete = _entry(line[cut:])
        assert complete is not None
        await self._post(complete, offset + cut)

    async def _post(self, entry: dict[str, Any], offset: int) -> None:
        message_id, author, text = str(entry["id"]), str(entry["author"]), str(entry["text"])
        thread = None
        if entry.get("thread"):
            thread = ThreadRef(self.channel, str(entry["thread"]))
        reply_to = None
        if entry.get("reply_to"):
            reply_to = MessageRef(self.channel, str(entry["reply_to"]), thread)
        ref = MessageRef(self.channel, message_id, thread)
        event = MessagePosted(ref, self.user(author), text, self.clock.now(), reply_to)
        try:
            await self.deliver(event)
        except EventNotHandled as error:
            # Not past this line: the follower starts again from the stored position.
            raise EventNotHandled(f"inbox {self.path}, byte {offset}: {error}") from error


def _complete_lines(inbox: BinaryIO, offset: int, limit: int) -> list[tuple[bytes, int]]:
    """Up to ``limit`` complete lines from ``offset`` on, each with where it starts.

    The file is left at the end of the last one: a line still being written (no newline
    yet) is read again, whole, next time.
    """
    lines: list[tuple[bytes, int]] = []
    while len(lines) < limit:
        line = inbox.readline()
        if not line.endswith(b"\n"):
            inbox.seek(offset)
            break
        lines.append((line, offset))
        offset += len(line)
    return lines


def _entry(data: bytes) -> dict[str, Any] | None:
    """The inbox entry ``data`` holds (a JSON object with an id, an author and a text)."""
    try:
        entry = json.loads(data.decode("utf-8", errors="replace"))
    except ValueError:
        return None
    if not isinstance(entry, dict) or not {"id", "author", "text"} <= entry.keys():
        return None
    return entry


def _torn_at(line: bytes) -> int | None:
    """Where the complete entry written after a torn fragment starts in ``line``, if it does.

    A fragment and the entry after it share a line (the fragment has no newline). Tails of
    the line starting at a ``{`` are tried from its end: one starting inside the entry leaves
    the entry's closing brace over, one starting inside the fragment leaves the fragment
    unclosed, so the first tail that is an entry is the whole entry (and a long fragment costs
    little).
    """
    end = len(line)
    for _ in range(_MAX_CUTS):
        cut = line.rfind(b"{", 1, end)
        if cut < 0:
            return None
        if _entry(line[cut:]) is not None:
            return cut
        end = cut
    return None
