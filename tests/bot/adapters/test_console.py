"""The console room: scripted lines in, one block per bot message out, clean stop at EOF."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest

from bot.adapters.console import READER, ConsolePlatform
from bot.app import Bot
from bot.clock import FakeClock
from bot.cog import Cog, EventContext
from bot.config import Config
from bot.platform import EventNotHandled
from bot.scheduler import JobRun, ManualScheduler, once
from bot.supervisor import Supervisor
from bot.testing import DEFAULT_START
from bot.types import Content, Event, MessagePosted
from storage.database import Database

CERCLE = Path(sys.executable).with_name("cercle")


def run_cli(script: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CERCLE_")}
    return subprocess.run(
        [str(CERCLE), *args],
        input=script,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=60,
        check=False,
    )


def test_piped_help_prints_generated_help_and_exits_zero(tmp_path: Path) -> None:
    result = run_cli("ana> /help\n", "run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "[private → ana] Cercle:" in result.stdout
    assert "**Commandes**" in result.stdout
    assert "`/help` — Afficher les commandes" in result.stdout
    # The embedded default: SQLite in ./data, created on first run.
    assert (tmp_path / "data" / "cercle.db").exists()


def test_fake_clock_script_with_directives(tmp_path: Path) -> None:
    script = "\n".join(
        [
            "# a comment, then a blank line",
            "",
            ":now",
            ":advance 1d12h",
            ":now",
            ":advance soon",
            "this line has no arrow",
            "ana>> nobody opened a thread",
            "bob> /help command:help",
        ]
    )
    result = run_cli(
        script + "\n", "run", "--clock", "fake", "--start", "2026-03-02T09:00+01:00", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "-- 2026-03-02T08:00+00:00" in out
    # No circle yet, so no question: the one job is the daily pruning of the ledger (04:23).
    assert "advanced 1d12h to 2026-03-03T20:00+00:00 (1 job ran)" in out
    assert "not a duration: 'soon'" in out
    assert "line 7: expected `name> text`" in out
    assert "line 8: there is no thread to reply in yet" in out
    assert "`/help [<commande>]`" in out
    # Simulated time never touches the real database.
    assert not (tmp_path / "data").exists()


def test_advance_without_fake_clock_says_how(tmp_path: Path) -> None:
    result = run_cli(":advance 2h\n", "run", cwd=tmp_path)
    assert result.returncode == 0
    assert ":advance needs the fake clock" in result.stdout


class Recorder(Cog):
    """Records where members' messages arrive."""

    name = "recorder"
    seen: ClassVar[list[tuple[str, str | None]]] = []

    async def on_message(self, ctx: EventContext) -> None:
        assert isinstance(ctx.event, MessagePosted)
        Recorder.seen.append((ctx.event.text, ctx.thread.name if ctx.thread else None))

    async def export_member_data(self, member_id: int) -> dict[str, Any]:
        return {}

    async def erase_member_data(self, member_id: int) -> None:
        return None


async def test_advance_fires_jobs_and_double_arrow_replies_in_the_new_thread(
    tmp_path: Path,
) -> None:
    Recorder.seen = []
    clock = FakeClock(DEFAULT_START)
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    scheduler = ManualScheduler(db, clock, grace=timedelta(hours=6))
    out = io.StringIO()
    script = io.StringIO("ana>> too early\nana> first\n:advance 2h\nbob>> in the thread\n")
    console = ConsolePlatform(clock, input=script, output=out, advance=scheduler.advance)
    bot = Bot(config=Config(), db=db, scheduler=scheduler, platforms=[console], cogs=[Recorder])

    async def open_round(run: JobRun) -> None:
        ref = await console.send(console.channel, Content(text="Round 1 is open"))
        await console.start_thread(ref, "Round 1")

    scheduler.add("open", once(DEFAULT_START + timedelta(minutes=30)), open_round)
    await bot.run()  # returns at end of input
    await db.dispose()
    text = out.getvalue()
    assert "line 1: there is no thread to reply in yet" in text
    assert "[#circle] Cercle:\nRound 1 is open\n\n" in text
    assert "advanced 2h to 2026-01-05T09:00+00:00 (1 job ran)" in text
    assert Recorder.seen == [("first", None), ("in the thread", "Round 1")]


class Waits:
    """The supervisor's sleep, not waiting: records each delay."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


async def test_a_line_the_core_could_not_settle_is_handed_again_then_the_next() -> None:
    clock = FakeClock(DEFAULT_START)
    waits = Waits()
    supervisor = Supervisor(clock, sleep=waits)
    out = io.StringIO()
    script = io.StringIO("ana> one\nbob> two\n")
    console = ConsolePlatform(clock, input=script, output=out, supervisor=supervisor)
    seen: list[str] = []

    async def sink(event: Event) -> None:
        assert isinstance(event, MessagePosted)
        seen.append(event.text)
        if seen.count("one") < 3:
            raise EventNotHandled("database away")

    await console.start(sink)
    await asyncio.wait_for(console.wait_closed(), 10)
    await console.stop()
    assert seen == ["one", "one", "one", "two"]
    assert waits.delays == [1.0, 2.0]
    state = supervisor.state(READER)
    assert state is not None and state.restarts == 2
    assert state.last_error == "EventNotHandled: database away"


async def test_a_line_that_fails_otherwise_is_dropped_and_reading_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock(DEFAULT_START)
    console = ConsolePlatform(
        clock,
        input=io.StringIO("ana> boom\nbob> after\n"),
        output=io.StringIO(),
        supervisor=Supervisor(clock, sleep=Waits()),
    )
    seen: list[str] = []

    async def sink(event: Event) -> None:
        assert isinstance(event, MessagePosted)
        seen.append(event.text)
        if event.text == "boom":
            raise RuntimeError("a bug")

    with caplog.at_level(logging.WARNING, logger="bot.supervisor"):
        await console.start(sink)
        await asyncio.wait_for(console.wait_closed(), 10)
        await console.stop()
    assert seen == ["boom", "after"]
    assert any("RuntimeError: a bug" in r.getMessage() for r in caplog.records)
