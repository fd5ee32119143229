"""One bot instance for the two-instance test: run as a separate process.

Usage: python instance_script.py DB_URL NAME FIRE_AT_ISO

It starts the real bot (every cog, the live APScheduler driver) on a memory platform, lets
the rounds cog's opening job for circle 1 fire at FIRE_AT (both instances get the same time),
waits until the run is settled, and prints a JSON line with how many prompts it posted.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime, timedelta

from bot.adapters.memory import MemoryPlatform
from bot.app import Bot
from bot.clock import SystemClock
from bot.compose import default_cogs
from bot.config import Config
from bot.scheduler import JobRun, LiveScheduler, once
from storage.database import Database


async def main(url: str, name: str, fire_at: datetime) -> None:
    db = Database(url)
    clock = SystemClock()
    scheduler = LiveScheduler(db, clock, instance=name, grace=timedelta(hours=1))
    platform = MemoryPlatform(clock, name="memory")
    bot = Bot(
        config=Config(), db=db, scheduler=scheduler, platforms=[platform], cogs=default_cogs()
    )
    await bot.start()
    rounds = next(c for c in bot.cogs if c.name == "rounds")

    async def open_slot(run: JobRun) -> None:
        await rounds.open_round(1, scheduled_for=run.scheduled_for)  # type: ignore[attr-defined]

    # The same key and time in both processes: the schedule slot both instances would fire.
    scheduler.add("rounds:1:open", once(fire_at), open_slot)
    await asyncio.sleep(max(0.0, (fire_at - clock.now()).total_seconds()) + 3)
    posts = [s for s in platform.sent if "question" in s.text.lower()]
    await bot.stop()
    await db.dispose()
    print(json.dumps({"instance": name, "posts": len(posts)}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], datetime.fromisoformat(sys.argv[3])))
