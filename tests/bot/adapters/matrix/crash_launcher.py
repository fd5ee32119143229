"""``cercle`` with a crash site and a trace, for the Matrix kill -9 test: run as a process.

Usage: python crash_launcher.py --trace FILE [--kill-after-send TEXT] -- CERCLE-ARGS...

It patches the Matrix adapter from outside (production code has no hook), then runs
``cercle CERCLE-ARGS``. Every event the sync hands on, every event sent (with its transaction
id and the event id the homeserver answered) and every stored sync token is appended to FILE
as a JSON line, flushed at once so a kill -9 loses none of it. With ``--kill-after-send``, the
process kills itself with SIGKILL right after the homeserver accepted the first message whose
body contains TEXT: the send is done, the effects ledger has not recorded it, the rest of the
sync batch is not handled and its token not stored.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from typing import IO, Any

from bot.adapters.matrix.base import NEXT_BATCH
from bot.adapters.matrix.requests import Requests
from bot.adapters.matrix.sending import Sending, transaction_id
from bot.adapters.matrix.sync import Syncing
from bot.cli import main as cercle


def _patch(trace: IO[str], kill_after: str | None) -> None:
    def note(**fields: Any) -> None:
        trace.write(json.dumps(fields) + "\n")
        trace.flush()

    handle_event = Syncing._handle_event
    send_event = Sending._send_event
    set_state = Requests._set

    async def traced_handle(self: Syncing, room_id: str, source: dict[str, Any]) -> None:
        content = source.get("content") or {}
        note(
            what="event",
            id=source.get("event_id"),
            sender=source.get("sender"),
            type=source.get("type"),
            body=content.get("body") if isinstance(content, dict) else None,
        )
        await handle_event(self, room_id, source)
        note(what="handled", id=source.get("event_id"))

    async def traced_send(
        self: Sending, room_id: str, kind: str, content: dict[str, Any], *, part: str = ""
    ) -> str:
        event_id = await send_event(self, room_id, kind, content, part=part)
        body = str(content.get("body", ""))
        note(what="sent", room=room_id, txn=transaction_id(part), event_id=event_id, body=body)
        if kill_after is not None and kill_after in body:
            note(what="kill", event_id=event_id)
            os.kill(os.getpid(), signal.SIGKILL)
        return event_id

    async def traced_set(self: Requests, key: str, value: str) -> None:
        await set_state(self, key, value)
        if key == NEXT_BATCH:
            note(what="stored", key=key)

    Syncing._handle_event = traced_handle  # type: ignore[method-assign]
    Sending._send_event = traced_send  # type: ignore[method-assign]
    Requests._set = traced_set  # type: ignore[method-assign]


def main() -> int:
    """Patch, then run ``cercle`` with the arguments after ``--``."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--trace", required=True)
    parser.add_argument("--kill-after-send")
    argv = sys.argv[1:]
    split = argv.index("--")
    args, rest = parser.parse_args(argv[:split]), argv[split + 1 :]
    with open(args.trace, "a", encoding="utf-8") as trace:
        note_start = {"what": "start", "pid": os.getpid()}
        trace.write(json.dumps(note_start) + "\n")
        trace.flush()
        _patch(trace, args.kill_after_send)
        return cercle(rest)


if __name__ == "__main__":
    raise SystemExit(main())
