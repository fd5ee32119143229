"""The memory platform's outbox: what the bot did outlives the process, and a request repeated
with the same idempotency key is answered from it instead of being performed again."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.adapters.memory import MemoryPlatform
from bot.clock import FakeClock
from bot.effects import Effects
from bot.testing import DEFAULT_START
from bot.types import Content
from storage.database import Database


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


async def test_a_restarted_platform_knows_what_was_sent_and_hands_out_no_id_twice(
    tmp_path: Path,
) -> None:
    outbox = tmp_path / "outbox.jsonl"
    clock = FakeClock(DEFAULT_START)
    first = MemoryPlatform(clock, outbox=outbox)
    post = await first.send(first.channel, Content("Bonjour"))
    thread = await first.start_thread(post, "Fil")
    dm = await first.send_direct(first.user("ana"), Content("Votre métier ?"))
    await first.mute(first.user("bob"), first.channel, clock.now() + timedelta(hours=1))
    await first.stop()

    again = MemoryPlatform(clock, outbox=outbox)
    await again.edit(post, Content("Bonjour à tous"))  # a message of the previous process
    later = await again.send(again.channel, Content("Suite"), thread=thread)

    assert [s.text for s in again.sent] == ["Bonjour à tous", "Votre métier ?", "Suite"]
    assert thread.id in again.threads and again.is_muted("bob")
    assert later.id not in {post.id, thread.id, dm.id}
    assert [line["effect"] for line in lines(outbox)] == [
        "send",
        "start_thread",
        "send_direct",
        "mute",
        "edit",
        "send",
    ]
    assert all(line["key"] is None for line in lines(outbox))  # outside the effects ledger


async def test_a_request_repeated_with_its_key_is_not_performed_again(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.jsonl"
    clock = FakeClock(DEFAULT_START)
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    await db.upgrade()
    effects = Effects(db, clock)

    async def ask(platform: MemoryPlatform) -> str:
        # The same scope and step: the effect has the same idempotency key in both processes.
        async with effects.scope("event-1"):
            ref = await effects.once(
                "send_direct", lambda: platform.send_direct(platform.user("ana"), Content("?"))
            )
        return ref.id

    first = MemoryPlatform(clock, outbox=outbox)
    sent = await ask(first)
    # The process dies before the ledger records it: nothing in the ledger, the outbox has it.
    await db.dispose()
    (tmp_path / "c.db").unlink()
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    await db.upgrade()
    effects = Effects(db, clock)

    again = MemoryPlatform(clock, outbox=outbox)
    assert await ask(again) == sent  # the recorded message, not a new one
    assert [s.text for s in again.sent] == ["?"]
    written = lines(outbox)
    assert [(line["effect"], line.get("repeat", False)) for line in written] == [
        ("send_direct", False),
        ("send_direct", True),
    ]
    assert written[0]["key"] == written[1]["key"] is not None
    assert written[0]["ref"] == written[1]["ref"] == sent
    await db.dispose()


async def test_a_line_torn_by_a_crash_is_skipped_and_the_next_one_kept(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.jsonl"
    clock = FakeClock(DEFAULT_START)
    first = MemoryPlatform(clock, outbox=outbox)
    await first.send(first.channel, Content("Un"))
    with outbox.open("a") as out:
        out.write('{"effect": "send", "key": nu')  # the writer died mid-line

    again = MemoryPlatform(clock, outbox=outbox)
    await again.send(again.channel, Content("Deux"))
    third = MemoryPlatform(clock, outbox=outbox)
    assert [s.text for s in third.sent] == ["Un", "Deux"]
