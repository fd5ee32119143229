"""kill -9 in the middle of a Matrix sync batch, on a real Synapse: nothing lost, nothing twice.

A real ``cercle run`` process (through ``crash_launcher.py``, which patches the crash site in
from outside) is killed twice while it handles one sync batch — a host's ``!prompt add`` and
answers, one from a new member who is then asked for her profession privately — each time
right after Synapse accepted a send and before the effects ledger recorded it, so the replay
sends it again. The rooms are then read back with a plain nio client and the database queried.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import text

from storage.database import Database

pytestmark = pytest.mark.slow

LAUNCHER = Path(__file__).with_name("crash_launcher.py")
ADDED = "added to the bank"
ASKED = "Which profession"
QUESTION = "What did a colleague teach you this month?"


def _joined(user_id: str) -> Any:
    return lambda r, e: (
        e.get("type") == "m.room.member"
        and e.get("state_key") == user_id
        and (e.get("content") or {}).get("membership") == "join"
    )


class Bot:
    """Starts ``cercle run`` through the launcher, one trace file for every run."""

    def __init__(self, tmp_path: Path, password: str) -> None:
        self.tmp_path = tmp_path
        self.trace = tmp_path / "trace.jsonl"
        self.runs = 0
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CERCLE_")}
        self.env["CERCLE_MATRIX__PASSWORD"] = password

    async def start(self, *, kill_after_send: str | None = None) -> asyncio.subprocess.Process:
        """A new run (killed by itself right after sending a message containing the text)."""
        self.runs += 1
        crash = ["--kill-after-send", kill_after_send] if kill_after_send else []
        with (self.tmp_path / f"run-{self.runs}.log").open("wb") as log:
            return await asyncio.create_subprocess_exec(
                sys.executable, str(LAUNCHER), "--trace", str(self.trace), *crash, "--",
                "run", "--config", str(self.tmp_path / "cercle.toml"),
                cwd=self.tmp_path, env=self.env,
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip

    def runs_traced(self) -> list[list[dict[str, Any]]]:
        """The trace, one list of lines per run."""
        runs: list[list[dict[str, Any]]] = []
        for line in self.trace.read_text().splitlines():
            note = json.loads(line)
            if note["what"] == "start":
                runs.append([])
            else:
                runs[-1].append(note)
        return runs

    def log(self, run: int) -> str:
        """What run number ``run`` (from 1) wrote."""
        return (self.tmp_path / f"run-{run}.log").read_text(errors="replace")[-3000:]


async def _exit(process: asyncio.subprocess.Process, within: float = 90) -> int:
    return await asyncio.wait_for(process.wait(), within)


async def test_kill_9_mid_sync_batch_replays_without_loss_or_double(
    synapse: Any, kit: SimpleNamespace, tmp_path: Path
) -> None:
    accounts = [await synapse.user(n) for n in ("cercle", "host", "ana", "ben", "zoe")]
    bot_account, host_account, ana_account, ben_account, zoe_account = accounts
    bot_id = bot_account.user_id
    url = f"sqlite+aiosqlite:///{tmp_path / 'cercle.db'}"
    (tmp_path / "cercle.toml").write_text(
        f'[bot]\nadapters = ["matrix"]\nlocale = "en"\n\n[database]\nurl = "{url}"\n\n'
        f'[matrix]\nhomeserver = "{synapse.url}"\nuser_id = "{bot_id}"\n'
        f'allowed_inviters = ["{host_account.user_id}"]\n'
    )
    bot = Bot(tmp_path, bot_account.password)
    db = Database(url)
    process: asyncio.subprocess.Process | None = None
    try:
        async with (
            kit.member(synapse, host_account) as host,
            kit.member(synapse, ana_account) as ana,
            kit.member(synapse, ben_account) as ben,
            kit.member(synapse, zoe_account) as zoe,
        ):
            room = await kit.create_circle(host, bot_id, [ana, ben, zoe])

            def direct(r: str, e: dict[str, Any]) -> bool:
                return bool(kit.is_from(bot_id)(r, e)) and r != room

            # Run 1: the circle is set up, ana and ben are tagged, a round is open.
            process = await bot.start()
            await host.wait_for(_joined(bot_id), within=60)
            await ana.say(room, "!profession set nurse")
            await ben.say(room, "!profession set baker")
            await ana.wait_for(direct)
            await ben.wait_for(direct)
            await host.say(room, "!prompt now")
            _, prompt = await host.wait_for(
                lambda r, e: kit.is_from(bot_id, room)(r, e) and "#1" in e["content"]["body"]
            )
            root = prompt["event_id"]
            process.send_signal(signal.SIGTERM)
            assert await _exit(process) == 0, bot.log(1)

            # The bot is down: all of this comes in its next start's catch-up, one sync batch.
            batch = [
                await ana.answer(room, root, "Colleagues share what they learn on night shifts."),
                await host.say(room, f"!prompt add {QUESTION}"),
                await zoe.answer(room, root, "I learnt most from the people I trained."),
                await ben.answer(room, root, "The bakers next door taught me about sourdough."),
                await ana.answer(room, root, "And patients' families teach us patience."),
                await ben.answer(room, root, "Customers too, every morning."),
            ]
            answers = [batch[0], *batch[2:]]

            # Run 2 dies right after Synapse accepted the reply to !prompt add.
            process = await bot.start(kill_after_send=ADDED)
            assert await _exit(process) == -signal.SIGKILL, bot.log(2)
            # Run 3 replays; it dies right after Synapse accepted zoe's private question.
            process = await bot.start(kill_after_send=ASKED)
            assert await _exit(process) == -signal.SIGKILL, bot.log(3)
            # Run 4 replays again and lives on.
            process = await bot.start()
            # A command after the batch: its reply means everything before it was handled.
            await ana.say(room, "!profession me")
            await ana.wait_for(lambda r, e: len(ana.seen(direct)) >= 2, within=90)
            process.send_signal(signal.SIGTERM)
            assert await _exit(process) == 0, bot.log(4)

            # Read back from the server with plain nio clients.
            in_room = await kit.bot_messages(host.client, bot_id, text=ADDED)
            asked = await kit.bot_messages(zoe.client, bot_id, text=ASKED, direct_only=True)
            asked_ana = await kit.bot_messages(ana.client, bot_id, text=ASKED, direct_only=True)
        async with db.engine.connect() as conn:
            stored = [
                row[0]
                for row in await conn.execute(text("SELECT message_id FROM answers ORDER BY id"))
            ]
            questions = [
                row[0]
                for row in await conn.execute(
                    text("SELECT id FROM prompts WHERE text = :q"), {"q": QUESTION}
                )
            ]
    finally:
        if process is not None and process.returncode is None:
            process.kill()
            await process.wait()
        await db.dispose()

    assert len(questions) == 1  # one question added
    assert in_room[room] == [f"Question #{questions[0]} {ADDED}."]  # and one reply
    assert [len(bodies) for bodies in asked.values()] == [1]  # one DM room, one question in it
    assert sum(map(len, asked_ana.values())) == 0  # ana had a profession: never asked
    assert sorted(stored) == sorted(answers)  # each answer stored once, none lost

    runs = bot.runs_traced()
    assert len(runs) == 4
    killed = [next((n for n in run if n["what"] == "kill"), None) for run in runs]
    assert killed[0] is None and killed[3] is None and killed[1] and killed[2]
    for run in runs[1:3]:  # killed mid-batch: some of it handled, its token never stored
        handled = {n["id"] for n in run if n["what"] == "handled"}
        assert handled & set(batch) and set(batch) - handled
        assert not any(n["what"] == "stored" for n in run)
    # Sent again by the replay, under the same transaction id: Synapse gave the same event.
    for crash, replay, needle in ((1, 2, ADDED), (2, 3, ASKED)):
        first = [n for n in runs[crash] if n["what"] == "sent" and needle in n["body"]]
        again = [n for n in runs[replay] if n["what"] == "sent" and needle in n["body"]]
        assert len(first) == len(again) == 1
        assert (first[0]["txn"], first[0]["event_id"]) == (again[0]["txn"], again[0]["event_id"])
