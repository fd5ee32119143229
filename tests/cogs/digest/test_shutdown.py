"""SIGTERM in the middle of an embedding batch: a prompt exit, and the vectors computed are kept.

A real ``cercle run`` on the inbox adapter with the bundled encoder, on a round whose answers
take several seconds to embed. Real SIGTERMs land while a batch runs, once in the background
batch a start resumes, once under a host's ``/digest preview``: each time the process exits
cleanly at once, and every later run embeds only the answers still without vectors.
"""

import asyncio
import json
import os
import re
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from storage.database import Database

pytestmark = pytest.mark.slow

CERCLE = Path(sys.executable).with_name("cercle")
ANSWERS = 600
#: Issue #12's promise; the wait is a generous bound on the process, not a benchmark.
EXIT_WITHIN = 5.0
ROWS = "SELECT count(*) FROM digest_embeddings"
EMBEDDED = re.compile(r"round 1: (\d+) answers embedded \((\d+) sentences\)")


async def _scalar(db: Database, sql: str) -> object:
    async with db.engine.connect() as conn:
        return (await conn.execute(text(sql))).scalar()


async def _until(db: Database, sql: str, done: Callable[[object], bool], seconds: float) -> object:
    async def poll() -> object:
        while True:
            try:
                value = await _scalar(db, sql)
            except OperationalError:  # the bot has not created the schema yet
                value = None
            if done(value):
                return value
            await asyncio.sleep(0.02)

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


def _answer(i: int, thread: object) -> str:
    body = (
        f"Réponse {i} : les réseaux m'aident à échanger avec des collègues d'autres villes. "
        f"Je publie surtout le soir, après ma journée numéro {i}. "
        "Les commentaires agressifs me découragent de publier davantage. "
        f"Dans mon métier, le cas {i % 37} revient souvent dans les discussions."
    )
    line = {"id": f"answer-{i}", "author": f"membre{i}", "text": body, "thread": thread}
    return json.dumps(line, ensure_ascii=False) + "\n"


async def _stop(bot: asyncio.subprocess.Process) -> str:
    """Send a real SIGTERM; the process must exit cleanly within the bound."""
    bot.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(bot.communicate(), EXIT_WITHIN)
    log = err.decode()
    assert bot.returncode == 0, log
    return log


async def _vectors(db: Database) -> dict[int, str]:
    """When each stored answer's vectors were computed, by answer id."""
    async with db.engine.connect() as conn:
        rows = await conn.execute(text("SELECT answer_id, created_at FROM digest_embeddings"))
        return {answer: str(stamp) for answer, stamp in rows.all()}


async def _stop_mid_batch(db: Database, bot: asyncio.subprocess.Process, before: int) -> str:
    """Once the running batch stored vectors beyond ``before``, SIGTERM; the log."""
    await _until(db, ROWS, lambda v: isinstance(v, int) and v > before, 120)
    return await _stop(bot)


async def test_sigterm_mid_batch_exits_at_once_and_keeps_the_vectors(tmp_path: Path) -> None:
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
        thread = await _until(db, "SELECT thread_id FROM rounds WHERE status = 'open'", bool, 60)
        with inbox.open("a") as out:
            out.writelines(_answer(i, thread) for i in range(ANSWERS))
        await _until(db, "SELECT count(*) FROM answers", lambda v: v == ANSWERS, 240)
        await _stop(bot)
        kept = [await _vectors(db)]  # none, unless a five-minute batch came meanwhile

        # The next start resumes embedding in the background: stopped in the middle.
        bot = await _start(tmp_path)
        log = await _stop_mid_batch(db, bot, len(kept[-1]))
        kept.append(await _vectors(db))
        assert len(kept[-2]) < len(kept[-1]) < ANSWERS
        assert f"embedding stopped after {len(kept[-1]) - len(kept[-2])} answers" in log, log

        # A host's preview embeds what is missing: stopped in the middle too.
        with inbox.open("a") as out:
            out.write(json.dumps({"id": "c-2", "author": "hana", "text": "/digest preview"}))
            out.write("\n")
        bot = await _start(tmp_path)
        await _stop_mid_batch(db, bot, len(kept[-1]))
        kept.append(await _vectors(db))
        assert len(kept[-2]) < len(kept[-1]) < ANSWERS

        # The last start embeds only the rest, and leaves every stored row as it was.
        bot = await _start(tmp_path)
        await _until(db, ROWS, lambda v: v == ANSWERS, 120)
        log = await _stop(bot)
        final = await _vectors(db)
        for before in kept:
            assert {k: final[k] for k in before} == before
        batches = [tuple(map(int, m)) for m in EMBEDDED.findall(log)]
        assert batches, log
        assert sum(embedded for embedded, _ in batches) == ANSWERS - len(kept[-1]), log
    finally:
        if bot.returncode is None:
            bot.kill()
            await bot.wait()
        await db.dispose()
