"""The console a newcomer enjoys: a banner with the first commands, a slot at the start time,
no throttle while simulated time stands still, reactions, attachments saved to a folder."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

from bot.adapters.console import HELP, ConsolePlatform
from bot.app import Bot
from bot.clock import FakeClock
from bot.cog import Cog, EventContext
from bot.config import Config
from bot.scheduler import JobRun, ManualScheduler, once
from bot.testing import DEFAULT_START
from bot.types import Attachment, Content, ReactionAdded
from storage.database import Database

CERCLE = Path(sys.executable).with_name("cercle")
README = Path(__file__).parents[3] / "README.md"


def run_cli(
    script: str, *args: str, cwd: Path, locale: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CERCLE_")}
    if locale is not None:
        env["CERCLE_BOT__LOCALE"] = locale
    return subprocess.run(
        [str(CERCLE), "run", *args],
        input=script,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=60,
        check=False,
    )


def test_the_banner_names_the_first_commands_in_the_circles_language(tmp_path: Path) -> None:
    french = run_cli("", "--clock", "fake", "--host", "hana", cwd=tmp_path).stdout
    first = french.split("\n\n")[0]
    assert "Cercle, dans le salon console #circle. Pour commencer :" in first
    assert "ana> /help" in first and "hana> /circle setup" in first
    assert ":advance 1d" in first and "faire passer un jour" in first
    (tmp_path / "en").mkdir()
    english = run_cli("", cwd=tmp_path / "en", locale="en")
    assert english.returncode == 0, english.stderr
    banner = english.stdout.split("\n\n")[0]
    assert "Cercle, in the console room #circle. To begin:" in banner
    assert "ana> /circle setup" in banner and "start with --host ana" in banner
    assert "start with --clock fake" in banner  # the real clock: :advance needs the fake one


def test_a_slot_due_at_the_start_time_fires_and_commands_are_never_throttled(
    tmp_path: Path,
) -> None:
    # Monday 09:00 in Paris: exactly the default slot. Twelve commands at one simulated instant.
    script = "ana> bonjour\n" + "ana> /prompt next\n" * 12 + ":advance 1h\n"
    result = run_cli(script, "--clock", "fake", "--start", "2026-01-05T09:00+01:00", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.count("[private → ana] Cercle:\nProchaine question, lundi 5 janvier, 09:00") == 12
    assert "plus vite que je ne peux suivre" not in out
    assert "la question de la semaine**" in out
    assert "advanced 1h to 2026-01-05T09:00+00:00 (1 job ran)" in out


class Reactions(Cog):
    """Records the reactions members add."""

    name = "reactions"
    seen: ClassVar[list[tuple[str, str, str]]] = []

    async def on_reaction(self, ctx: EventContext) -> None:
        assert isinstance(ctx.event, ReactionAdded)
        Reactions.seen.append((ctx.event.user.id, ctx.event.message.id, ctx.event.emoji))

    async def export_member_data(self, member_id: int) -> dict[str, Any]:
        return {}

    async def erase_member_data(self, member_id: int) -> None:
        return None


async def test_reactions_go_to_the_latest_message_or_further_back(tmp_path: Path) -> None:
    Reactions.seen = []
    clock = FakeClock(DEFAULT_START)
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    scheduler = ManualScheduler(db, clock, grace=timedelta(hours=6))
    out = io.StringIO()
    script = io.StringIO(
        ":advance 1h\n"
        "ana>> my answer\n"
        "bob>> my own answer\n"
        "chloe>+ 👍\n"  # bob's answer, the latest
        "chloe>+2 🙏\n"  # ana's, the one before
        "ana>+ 👍\n"  # bob's: ana's own message is never the target
        "bob>+9 👍\n"
        ":help\n"
    )
    console = ConsolePlatform(
        clock, input=script, output=out, advance=scheduler.advance, out_dir=tmp_path / "out"
    )
    bot = Bot(config=Config(), db=db, scheduler=scheduler, platforms=[console], cogs=[Reactions])

    async def open_round(run: JobRun) -> None:
        ref = await console.send(console.channel, Content(text="Round 1 is open"))
        await console.start_thread(ref, "Round 1")

    scheduler.add("open", once(DEFAULT_START + timedelta(minutes=30)), open_round)
    await bot.run()
    await db.dispose()
    ana, bob = [p.ref.id for p in console.posted.values()]
    assert Reactions.seen == [("chloe", bob, "👍"), ("chloe", ana, "🙏"), ("ana", bob, "👍")]
    text = out.getvalue()
    assert "line 7: there is no message 9 back to react to" in text
    assert "NAME>+ 👍" in HELP and "NAME>+2 👍" in text


async def test_attachments_are_saved_and_their_path_printed(tmp_path: Path) -> None:
    clock = FakeClock(DEFAULT_START)
    out = io.StringIO()
    console = ConsolePlatform(
        clock, input=io.StringIO(""), output=out, out_dir=tmp_path / "console-out"
    )
    chart = Attachment("chart.png", b"\x89PNG fake", "image/png")
    await console.send(console.channel, Content(text="Digest", attachments=(chart,)))
    await console.send(console.channel, Content(text="Again", attachments=(chart,)))
    saved = sorted(p.name for p in (tmp_path / "console-out").iterdir())
    assert saved == ["chart-2.png", "chart.png"]
    assert (tmp_path / "console-out" / "chart.png").read_bytes() == b"\x89PNG fake"
    text = out.getvalue()
    assert f"(attachment saved: {tmp_path / 'console-out' / 'chart.png'}, 9 bytes)" in text
    assert f"(attachment saved: {tmp_path / 'console-out' / 'chart-2.png'}, 9 bytes)" in text


def test_the_readme_shows_how_to_replay_the_example_week() -> None:
    readme = README.read_text(encoding="utf-8")
    assert "examples/first-week.txt" in readme
    assert 'make run ARGS="--clock fake --host hana" < examples/first-week.txt' in readme
    assert "console-out/" in readme and "ana>+ 👍" in readme
