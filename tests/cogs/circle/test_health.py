"""``/circle health`` tells hosts what the bot gave up on and how its background tasks are."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bot import compose
from bot.adapters.memory import MemoryPlatform
from bot.cog import Cog, EventContext
from bot.config import BotSettings, Config, MemorySettings
from bot.supervisor import Supervisor
from bot.testing import Harness
from bot.types import MessagePosted
from cogs.circle import CircleCog
from cogs.core import CoreCog
from storage import members
from storage.database import Database


class Broken(Cog):
    """Fails on one message for good, quoting the message in its error as drivers do."""

    name = "broken"

    async def on_message(self, ctx: EventContext) -> None:
        assert isinstance(ctx.event, MessagePosted)
        if ctx.event.text.startswith("poison"):
            raise RuntimeError(f"cannot store\n[parameters: ({ctx.event.text!r},)]")

    async def export_member_data(self, member_id: int) -> dict[str, Any]:
        return {}

    async def erase_member_data(self, member_id: int) -> None:
        return None


async def test_a_message_set_aside_is_shown_to_hosts_without_its_text() -> None:
    async with Harness("discord", cogs=[CoreCog, CircleCog, Broken], hosts=["hana"]) as h:
        before = (await h.command("hana", "/circle health"))[0].text
        assert "Événements mis de côté dans ce salon : aucun." in before
        await h.say("ana", "poison: mon adresse est 12 rue des Lilas")
        await h.say("ana", "un message ordinaire")
        report = (await h.command("hana", "/circle health"))[0].text
        assert "Événements mis de côté dans ce salon (non traités après tous les essais) : 1" in (
            report
        )
        assert "MessagePosted" in report and "3 essais : RuntimeError: cannot store" in report
        assert "Lilas" not in report
        async with h.db.engine.connect() as conn:
            errors = (await conn.execute(text("SELECT error FROM handled_events"))).scalars()
            assert not any("Lilas" in (e or "") for e in errors)


async def test_a_failing_background_task_is_shown_with_its_error_and_restarts() -> None:
    async with Harness("matrix", cogs=[CoreCog, CircleCog], hosts=["hana"]) as h:
        failed = asyncio.Event()

        async def follow() -> None:
            failed.set()
            raise OSError("inbox unreadable")

        h.bot.supervisor.start("inbox-follower", follow)
        await asyncio.wait_for(failed.wait(), 5)
        for _ in range(3):  # let the supervisor record the failure
            await asyncio.sleep(0)
        report = (await h.command("hana", "/circle health"))[0].text
        circle = await h.bot.directory.circle_for(h.platform.channel)
        assert circle is not None and circle.id is not None
        await h.bot.directory.changed(await members.update_circle(h.db, circle.id, locale="en"))
        english = (await h.command("hana", "/circle health"))[0].text
        await h.bot.supervisor.stop()
        assert "Tâches de fond :" in report
        line = next(line for line in report.splitlines() if "`inbox-follower`" in line)
        assert "redémarrage dans 1 s (redémarrée 1 fois)" in line
        assert "(restarted 1 time)" in english  # not "1 times"
        assert "OSError: inbox unreadable" in line


async def test_the_inbox_follower_is_shown_in_health(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox.jsonl"
    config = Config(bot=BotSettings(adapters=["memory"]), memory=MemorySettings(inbox=str(inbox)))
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'cercle.db'}")
    scheduler = compose.manual_scheduler(config, db)
    supervisor = Supervisor(scheduler.clock)
    adapters = compose.platforms(config, db, scheduler, hosts=["hana"], supervisor=supervisor)
    bot = compose.build(config, db, scheduler, adapters, supervisor=supervisor)
    platform = adapters[0]
    assert isinstance(platform, MemoryPlatform)
    await bot.start()
    try:
        inbox.write_text(
            json.dumps({"id": "c-1", "author": "hana", "text": "/circle health"}) + "\n"
        )
        for _ in range(200):
            if platform.sent:
                break
            await asyncio.sleep(0.05)
        report = platform.sent[-1].text
    finally:
        await bot.stop()
        await db.dispose()
    line = next(line for line in report.splitlines() if "`inbox-follower`" in line)
    assert "en cours depuis" in line
