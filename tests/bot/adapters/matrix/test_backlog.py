"""A backlog on a real Synapse (events posted while the bot was down) handled in batches.

The start-up catch-up hands the core a room's backlog side by side: each sender's events in
order, a command and an event about another one of the backlog alone, after everything
before it; the sync token is stored once all of it is settled.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import SecretStr

from bot.adapters.batches import BATCH_FROM
from bot.adapters.matrix import MatrixPlatform
from bot.adapters.matrix.base import NEXT_BATCH
from bot.clock import FakeClock
from bot.config import MatrixSettings
from bot.platform import EventNotHandled
from bot.types import Event, MessagePosted, ReactionAdded
from storage import state
from storage.database import Database

pytestmark = pytest.mark.slow

#: Answers each member posts while the bot is away (two members: past the batch threshold).
EACH = BATCH_FROM // 2 + 5


class Recorder:
    """A sink that records what it is handed and how many at once; refuses one text once."""

    def __init__(self, db: Database | None = None) -> None:
        self.seen: list[str] = []
        self.running = 0
        self.most = 0
        self.refuse = ""
        self.db = db
        self.token_when_refused: str | None = None

    async def __call__(self, event: Event) -> None:
        if isinstance(event, MessagePosted):
            text = event.text
        elif isinstance(event, ReactionAdded):
            text = f"+{event.emoji}"
        else:
            return
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            await asyncio.sleep(0.001)  # a database round trip
            if text == self.refuse:
                self.refuse = ""
                if self.db is not None:
                    self.token_when_refused = await state.get_state(self.db, "matrix", NEXT_BATCH)
                raise EventNotHandled("MessagePosted: DatabaseUnavailable: connection refused")
            self.seen.append(text)
        finally:
            self.running -= 1


async def _backlog(kit: SimpleNamespace, synapse: Any, host: Any, room: str) -> list[str]:
    """Ana and Ben answer, Hana runs a command midway, then Ben replies to and reacts on
    Ana's last answer; the texts in the order posted."""
    ana, ben = [
        await kit.poster(synapse, await synapse.user(n), room, host) for n in ("ana", "ben")
    ]
    posted: list[str] = []
    last = ""
    for n in range(EACH):
        for who, name in ((ana, "ana"), (ben, "ben")):
            text = f"{name} {n}"
            event_id = await who.send(room, "m.room.message", {"msgtype": "m.text", "body": text})
            last = event_id if name == "ana" else last
            posted.append(text)
        if n == EACH // 2:
            await host.say(room, "!prompt now")
            posted.append("!prompt now")
    reply = {
        "msgtype": "m.text",
        "body": "ben replies",
        "m.relates_to": {"m.in_reply_to": {"event_id": last}},
    }
    await ben.send(room, "m.room.message", reply)
    reaction = {"m.relates_to": {"rel_type": "m.annotation", "event_id": last, "key": "👍"}}
    await ben.send(room, "m.reaction", reaction)
    return [*posted, "ben replies", "+👍"]


async def test_a_backlog_is_handled_side_by_side_in_order_where_it_matters(
    synapse: Any, kit: SimpleNamespace, tmp_path: Path
) -> None:
    bot_account, host_account = [await synapse.user(n) for n in ("cercle", "host")]
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'cercle.db'}")
    await db.upgrade()
    settings = MatrixSettings(
        homeserver=synapse.url,
        user_id=bot_account.user_id,
        password=SecretStr(bot_account.password),
        allowed_inviters=[host_account.user_id],
    )
    clock = FakeClock(datetime.now(UTC))
    record = Recorder(db)
    try:
        async with kit.member(synapse, host_account) as host:
            room = await kit.create_circle(host, bot_account.user_id, [])
            first = MatrixPlatform(settings, db, clock, retry_floor=0.2)
            await first.start(Recorder())
            await host.wait_for(
                lambda r, e: r == room and e.get("state_key") == bot_account.user_id
            )
            await first.stop()
            before = await state.get_state(db, "matrix", NEXT_BATCH)
            posted = await _backlog(kit, synapse, host, room)

            # The database is away once, in the middle of the backlog.
            record.refuse = "ben 30"
            again = MatrixPlatform(settings, db, clock, retry_floor=0.2, reconnect_cap=0.5)
            await again.start(record)  # a refusal in the catch-up does not stop the start
            try:
                # The token moves only once the whole backlog is settled.
                deadline = asyncio.get_running_loop().time() + 60
                while (after := await state.get_state(db, "matrix", NEXT_BATCH)) == before:
                    assert asyncio.get_running_loop().time() < deadline, record.seen
                    await asyncio.sleep(0.05)
            finally:
                await again.stop()
    finally:
        await db.dispose()

    # The refusal kept the token where it was; it moved once everything was settled.
    assert record.token_when_refused == before and after != before
    # The backlog was read again whole (the core drops what it settled the first time);
    # in that pass: each sender in order, the command after everything posted before it
    # and before everything after it, the reply and reaction after the answer they are about.
    final = record.seen[-len(posted) :]
    assert sorted(final) == sorted(posted)
    for name in ("ana", "ben"):
        assert [t for t in final if t.startswith(f"{name} ")] == [
            t for t in posted if t.startswith(f"{name} ")
        ]
    at, command = final.index("!prompt now"), posted.index("!prompt now")
    assert set(final[:at]) == set(posted[:command])
    assert final.index("ben replies") > final.index(f"ana {EACH - 1}")
    assert final.index("+👍") > final.index(f"ana {EACH - 1}")
    assert record.most > 1  # side by side, not one at a time
