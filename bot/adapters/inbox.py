"""The memory platform fed from a durable inbox: an append-only JSON-lines file.

Each line is one member event, written by another program (a bridge, a load generator, a
test)::

    {"id": "m-1", "author": "ana", "text": "Bonjour", "thread": "thread-ab12-3"}
    {"id": "c-1", "author": "hana", "text": "/prompt now"}

``id`` identifies the message for good; ``thread`` and ``reply_to`` are optional. The read
position is stored in the database only after the event before it was handled, so a crash
(even ``kill -9``) replays at most the events that were in flight, and the core drops those
it already stored (answers are unique per message id): nothing lost, nothing twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Final

from bot.adapters.memory import MemoryPlatform
from bot.clock import Clock
from bot.platform import Capabilities, EventSink
from bot.types import MessagePosted, MessageRef, ThreadRef
from storage import state
from storage.database import Database

log = logging.getLogger(__name__)

POLL: Final = 0.05
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
    """Follows an inbox file like ``tail -f`` and hands each line to the bot once."""

    def __init__(
        self,
        clock: Clock,
        db: Database,
        path: Path,
        *,
        capabilities: Capabilities | None = None,
        channel: str = "circle",
        hosts: tuple[str, ...] | list[str] = (),
    ) -> None:
        super().__init__(
            clock, name="memory", capabilities=capabilities or INBOX, channel=channel, hosts=hosts
        )
        self.db = db
        self.path = path
        self._key = f"inbox-offset:{path.resolve()}"
        self._follower: asyncio.Task[None] | None = None

    async def start(self, sink: EventSink) -> None:
        """Start following the inbox from the stored position."""
        await super().start(sink)
        self._follower = asyncio.create_task(self._follow(), name="inbox-follower")

    async def stop(self) -> None:
        """Stop following (the position stays stored)."""
        if self._follower is not None:
            self._follower.cancel()
        await super().stop()

    async def _follow(self) -> None:
        offset = int(await state.get_state(self.db, "memory", self._key) or 0)
        self.path.touch(exist_ok=True)
        with self.path.open("rb") as inbox:
            inbox.seek(offset)
            while True:
                line = inbox.readline()
                if not line.endswith(b"\n"):  # nothing new, or a line still being written
                    inbox.seek(offset)
                    await asyncio.sleep(POLL)
                    continue
                await self._handle(line, offset)
                offset = inbox.tell()
                await state.set_state(
                    self.db, "memory", self._key, str(offset), now=self.clock.now()
                )

    async def _handle(self, line: bytes, offset: int) -> None:
        try:
            entry = json.loads(line)
            message_id, author, text = str(entry["id"]), str(entry["author"]), str(entry["text"])
        except (ValueError, KeyError, TypeError):
            log.warning("inbox %s: unreadable line at byte %s skipped", self.path, offset)
            return
        thread = None
        if entry.get("thread"):
            thread = ThreadRef(self.channel, str(entry["thread"]))
        reply_to = None
        if entry.get("reply_to"):
            reply_to = MessageRef(self.channel, str(entry["reply_to"]), thread)
        ref = MessageRef(self.channel, message_id, thread)
        await self.deliver(MessagePosted(ref, self.user(author), text, self.clock.now(), reply_to))
