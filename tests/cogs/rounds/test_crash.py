"""kill -9 in the middle of a burst of 1,000 answers: after restart, each is stored once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from storage.database import Database

CERCLE = Path(sys.executable).with_name("cercle")
ANSWERS = 1000


async def _scalar(db: Database, sql: str) -> object:
    async with db.engine.connect() as conn:
        return (await conn.execute(text(sql))).scalar()


async def _until(db: Database, sql: str, done: object, seconds: float) -> object:
    async def poll() -> object:
        while True:
            try:
                value = await _scalar(db, sql)
            except OperationalError:  # the bot has not created the schema yet
                value = None
            if done(value) if callable(done) else value == done:
                return value
            await asyncio.sleep(0.05)

    return await asyncio.wait_for(poll(), seconds)


async def _start(tmp_path: Path) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CERCLE_")}
    return await asyncio.create_subprocess_exec(
        str(CERCLE), "run", "--config", str(tmp_path / "cercle.toml"), "--host", "hana",
        cwd=tmp_path, env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def test_kill_9_mid_burst_loses_nothing_and_stores_nothing_twice(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox.jsonl"
    url = f"sqlite+aiosqlite:///{tmp_path / 'cercle.db'}"
    (tmp_path / "cercle.toml").write_text(
        f'[bot]\nadapters = ["memory"]\n\n[database]\nurl = "{url}"\n\n'
        f'[memory]\ninbox = "{inbox}"\n'
    )
    inbox.write_text(json.dumps({"id": "c-1", "author": "hana", "text": "/prompt now"}) + "\n")
    db = Database(url)
    bot = await _start(tmp_path)
    try:
        thread = await _until(
            db, "SELECT thread_id FROM rounds WHERE status = 'open'", lambda v: v, 60
        )
        with inbox.open("a") as out:
            for i in range(ANSWERS):
                line = {
                    "id": f"answer-{i}",
                    "author": f"membre{i}",
                    "text": f"Réponse numéro {i} : les réseaux m'aident à échanger avec d'autres.",
                    "thread": thread,
                }
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
        # Kill it hard once a good part of the burst is stored, the rest in flight or unread.
        stored = await _until(db, "SELECT count(*) FROM answers", lambda v: v >= 150, 120)
        bot.send_signal(signal.SIGKILL)
        await bot.wait()
        assert isinstance(stored, int) and stored < ANSWERS, "the burst ended before the kill"

        bot = await _start(tmp_path)
        await _until(db, "SELECT count(*) FROM answers", ANSWERS, 180)
        await asyncio.sleep(0.5)  # anything replayed twice would land now
        assert await _scalar(db, "SELECT count(*) FROM answers") == ANSWERS
        assert await _scalar(db, "SELECT count(DISTINCT message_id) FROM answers") == ANSWERS
        assert await _scalar(db, "SELECT count(*) FROM rounds") == 1  # the prompt, once
        bot.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(bot.communicate(), 60)
        assert bot.returncode == 0, err.decode()  # and it stops cleanly
    finally:
        if bot.returncode is None:
            bot.kill()
            await bot.wait()
        await db.dispose()
