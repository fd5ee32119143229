"""The durable inbox: follows a JSON-lines file, resumes where it stopped, skips bad lines."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta
from pathlib import Path

import pytest

from bot.adapters.inbox import InboxPlatform
from bot.app import Bot
from bot.clock import FakeClock
from bot.compose import default_cogs
from bot.config import Config
from bot.scheduler import ManualScheduler
from bot.testing import DEFAULT_START
from storage import state
from storage.database import Database


async def _run_until(bot: Bot, platform: InboxPlatform, db: Database, size: int) -> None:
    await bot.start()
    key = f"inbox-offset:{platform.path.resolve()}"

    async def caught_up() -> None:
        while int(await state.get_state(db, "memory", key) or 0) < size:  # noqa: ASYNC110
            await asyncio.sleep(0.02)  # another task (the follower) advances the offset

    await asyncio.wait_for(caught_up(), 30)
    await bot.stop()


async def test_inbox_resumes_and_skips_malformed_lines_with_one_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    inbox = tmp_path / "inbox.jsonl"
    lines = [
        json.dumps({"id": "1", "author": "ana", "text": "bonjour"}),
        "{not json",
        json.dumps({"author": "bob"}),  # no id, no text
        json.dumps({"id": "2", "author": "bob", "text": "salut"}),
    ]
    inbox.write_text("\n".join(lines) + "\n")
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    seen: list[str] = []

    def build() -> tuple[Bot, InboxPlatform]:
        clock = FakeClock(DEFAULT_START)
        platform = InboxPlatform(clock, db, inbox)
        scheduler = ManualScheduler(db, clock, grace=timedelta(hours=6))
        bot = Bot(
            config=Config(), db=db, scheduler=scheduler, platforms=[platform], cogs=default_cogs()
        )
        original = bot.router.handle

        async def spy(event: object) -> None:
            seen.append(getattr(event, "text", ""))
            await original(event)  # type: ignore[arg-type]

        bot.router.handle = spy  # type: ignore[method-assign]
        return bot, platform

    with caplog.at_level(logging.WARNING, logger="bot.adapters.inbox"):
        bot, platform = build()
        await _run_until(bot, platform, db, inbox.stat().st_size)
    assert seen == ["bonjour", "salut"]
    assert len([r for r in caplog.records if "unreadable line" in r.getMessage()]) == 2

    with inbox.open("a") as out:
        out.write(json.dumps({"id": "3", "author": "chloe", "text": "coucou"}) + "\n")
    bot, platform = build()
    await _run_until(bot, platform, db, inbox.stat().st_size)
    assert seen == ["bonjour", "salut", "coucou"]  # resumed after what it had handled
    await db.dispose()
