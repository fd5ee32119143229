"""Catch-up benchmark: a backlog queued in the durable inbox while the bot was down.

Run it as ``.venv/bin/python bench/catchup.py [--messages N] [--members M] [--json] [--check]``.

The real :class:`~bot.app.Bot` is built as ``cercle run`` builds it (the composition root,
every default cog, the live scheduler on the system clock, the memory platform following an
inbox file and writing an outbox, a SQLite file database). A first run opens a round and
each of ``M`` members answers once, live (each is asked for a profession once; not
measured); the bot stops. ``N`` answers from those members (round robin, the texts of
``bench/pipeline.py``, ``random.Random(42)``) are then appended to the inbox, and a new bot
starts: the time from :meth:`Bot.start` until the inbox position stored in the database
reaches the end of the file (every line settled) is the catch-up.

Beside it, in the same run and on the same machine, the baseline: the very rows the bot
stored, inserted with the standard ``sqlite3`` module into a fresh file (the same table, WAL,
``synchronous=NORMAL``), one ``INSERT`` and commit per row: the one-at-a-time shape at its
cheapest. Their ratio moves less with the machine's load than either figure.

The budget is ≥ 1,000 messages/s. The exit code is 0 unless the run is invalid (an answer
missing or stored twice, a line not settled, an error notice, a flood warning: members post
at most six messages in the window) or, with ``--check``, the budget is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import resource
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pipeline import author_names, cpu_model, make_text  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bot import compose  # noqa: E402
from bot.app import Bot  # noqa: E402
from bot.config import Config  # noqa: E402
from bot.supervisor import Supervisor  # noqa: E402
from storage.database import Database  # noqa: E402

#: Inbox lines a second the catch-up should sustain.
BUDGET_MESSAGES_PER_SECOND: Final = 1_000
SEED: Final = 42
HOST: Final = "hana"
OPEN: Final = {"id": "c-1", "author": HOST, "text": "/prompt now"}
#: How often the stored inbox position is looked at (seconds).
POLL: Final = 0.02
OFFSET_SQL: Final = "SELECT value FROM adapter_state WHERE key LIKE 'inbox-offset:%'"


@dataclass(frozen=True, slots=True)
class Result:
    """What one run measured; the field names are the JSON keys."""

    messages: int
    members: int
    seed: int
    mean_chars: float
    seconds: float
    messages_per_second: float
    cpu_seconds: float
    cpu_ms_per_message: float
    baseline_seconds: float
    baseline_rows_per_second: float
    ratio: float
    budget_messages_per_second: int
    passed: bool
    answers_stored: int
    events_settled: int
    effects: dict[str, int]
    peak_rss_mib: float
    python: str
    platform: str
    cpu_count: int | None
    cpu_model: str
    sqlite_version: str
    #: The 1-minute load average when the run started: other work on the machine skews figures.
    load_average_1m: float | None
    problems: list[str]


# ---------------------------------------------------------------- the bot and its files


def config(root: Path) -> Config:
    """``cercle run``'s configuration for a memory bot fed by ``root/inbox.jsonl``."""
    return Config.model_validate(
        {
            "bot": {"adapters": ["memory"], "instance": "bench"},
            "database": {"url": f"sqlite+aiosqlite:///{root / 'cercle.db'}"},
            "memory": {"inbox": str(root / "inbox.jsonl"), "outbox": str(root / "outbox.jsonl")},
        }
    )


def build(settings: Config, db: Database) -> Bot:
    """The bot as ``cercle run`` builds it (composition root, live scheduler)."""
    scheduler = compose.live_scheduler(settings, db)
    supervisor = Supervisor(scheduler.clock)
    adapters = compose.platforms(settings, db, scheduler, hosts=[HOST], supervisor=supervisor)
    return compose.build(settings, db, scheduler, adapters, supervisor=supervisor)


def append(inbox: Path, entries: Sequence[dict[str, str]]) -> int:
    """Append ``entries`` as inbox lines; the file's new size."""
    with inbox.open("a", encoding="utf-8") as out:
        for entry in entries:
            out.write(json.dumps(entry, ensure_ascii=False) + "\n")
    return inbox.stat().st_size


async def scalar(db: Database, sql: str) -> Any:
    async with db.engine.connect() as conn:
        return (await conn.execute(text(sql))).scalar()


async def until(db: Database, sql: str, done: Any, seconds: float = 600) -> Any:
    """Poll ``sql`` until ``done(value)``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            value = await scalar(db, sql)
        except Exception:  # the schema is not there yet
            value = None
        if done(value):
            return value
        await asyncio.sleep(POLL)
    raise TimeoutError(f"{sql} never satisfied within {seconds} s")


async def caught_up(db: Database, size: int) -> None:
    await until(db, OFFSET_SQL, lambda v: v is not None and int(v) >= size)


# ---------------------------------------------------------------- measuring


async def catch_up(root: Path, messages: int, members: int) -> dict[str, Any]:
    """Queue the backlog while the bot is down, then time a new bot catching up."""
    settings = config(root)
    inbox = root / "inbox.jsonl"
    db = Database(settings.database.url)
    rng = random.Random(SEED)
    names = author_names(members)
    try:
        append(inbox, [OPEN])
        bot = build(settings, db)
        await bot.start()
        thread = await until(db, "SELECT thread_id FROM rounds WHERE status = 'open'", bool)
        live = [
            {"id": f"w-{i}", "author": name, "text": make_text(rng), "thread": thread}
            for i, name in enumerate(names)
        ]
        await caught_up(db, append(inbox, live))
        await bot.stop()

        queued = [
            {"id": f"a-{i}", "author": names[i % members], "text": make_text(rng), "thread": thread}
            for i in range(messages)
        ]
        size = append(inbox, queued)
        before = int(await scalar(db, "SELECT count(*) FROM answers"))
        bot = build(settings, db)
        cpu, started = time.process_time(), time.perf_counter()
        await bot.start()
        await caught_up(db, size)
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
        await bot.stop()
        answers = int(await scalar(db, "SELECT count(*) FROM answers")) - before
        distinct = int(await scalar(db, "SELECT count(DISTINCT message_id) FROM answers"))
        settled = int(await scalar(db, "SELECT count(*) FROM handled_events"))
    finally:
        await db.dispose()
    effects = Counter(
        json.loads(line)["effect"]
        for line in (root / "outbox.jsonl").read_text("utf-8").splitlines()
    )
    outbox = (root / "outbox.jsonl").read_text("utf-8")
    problems = []
    if answers != messages or distinct != 1 + members + messages - 1:
        problems.append(f"{answers} answers stored ({distinct} distinct), {messages} expected")
    if settled != 1 + members + messages:
        problems.append(f"{settled} events settled, {1 + members + messages} expected")
    if "incident" in outbox:
        problems.append("the bot sent an error notice")
    if effects["mute"] or "Avertissement" in outbox:
        problems.append("the courtesy rules acted on the backlog (a flood warning or a mute)")
    return {
        "seconds": seconds,
        "cpu": cpu,
        "answers": answers,
        "settled": settled,
        "effects": dict(effects),
        "mean_chars": sum(len(q["text"]) for q in queued) / messages,
        "problems": problems,
    }


def baseline(source: Path, target: Path, messages: int) -> float:
    """Seconds to insert the bot's last ``messages`` answers with ``sqlite3``, a commit each."""
    with sqlite3.connect(source) as db:
        (ddl,) = db.execute("SELECT sql FROM sqlite_master WHERE name = 'answers'").fetchone()
        rows = db.execute("SELECT * FROM answers ORDER BY id DESC LIMIT ?", (messages,)).fetchall()[
            ::-1
        ]
    conn = sqlite3.connect(target, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(ddl)
        insert = f"INSERT INTO answers VALUES ({', '.join('?' * len(rows[0]))})"
        started = time.perf_counter()
        for row in rows:
            conn.execute("BEGIN")
            conn.execute(insert, row)
            conn.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        conn.close()


def peak_rss_mib() -> float:
    """Peak resident set size of this process (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def run(messages: int, members: int) -> Result:
    """One catch-up and its baseline, in a temporary directory."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    with tempfile.TemporaryDirectory(prefix="cercle-catchup-") as tmp:
        root = Path(tmp)
        measured = asyncio.run(catch_up(root, messages, members))
        base = baseline(root / "cercle.db", root / "baseline.db", messages)
    rate = messages / measured["seconds"]
    base_rate = messages / base
    return Result(
        messages=messages,
        members=members,
        seed=SEED,
        mean_chars=round(measured["mean_chars"], 1),
        seconds=round(measured["seconds"], 3),
        messages_per_second=round(rate, 1),
        cpu_seconds=round(measured["cpu"], 3),
        cpu_ms_per_message=round(measured["cpu"] / messages * 1000, 3),
        baseline_seconds=round(base, 3),
        baseline_rows_per_second=round(base_rate, 1),
        ratio=round(rate / base_rate, 6),
        budget_messages_per_second=BUDGET_MESSAGES_PER_SECOND,
        passed=rate >= BUDGET_MESSAGES_PER_SECOND,
        answers_stored=measured["answers"],
        events_settled=measured["settled"],
        effects=measured["effects"],
        peak_rss_mib=round(peak_rss_mib(), 1),
        python=f"{platform.python_implementation()} {platform.python_version()}",
        platform=platform.platform(),
        cpu_count=os.cpu_count(),
        cpu_model=cpu_model(),
        sqlite_version=sqlite3.sqlite_version,
        load_average_1m=None if load is None else round(load, 2),
        problems=measured["problems"],
    )


def report(result: Result) -> str:
    """The human-readable report."""
    verdict = "PASS" if result.passed else "FAIL"
    return "\n".join(
        [
            "Cercle catch-up benchmark (a backlog in the durable inbox, handled after a restart)",
            f"  workload    {result.messages:,} answers from {result.members:,} known members "
            f"queued while the bot was down (mean {result.mean_chars:.0f} characters, "
            f"seed {result.seed})",
            f"  catch-up    {result.messages_per_second:,.0f} messages/s "
            f"(budget ≥ {result.budget_messages_per_second:,}: {verdict}), "
            f"{result.seconds:.3f} s from start to the last position stored",
            f"  cpu         {result.cpu_seconds:.3f} s, "
            f"{result.cpu_ms_per_message:.3f} ms a message (this process, every thread)",
            f"  baseline    {result.baseline_rows_per_second:,.0f} rows/s: the same rows with "
            f"sqlite3, one INSERT and commit each ({result.baseline_seconds:.3f} s)",
            f"  ratio       {result.ratio:.4f} (catch-up / baseline)",
            f"  stored      {result.answers_stored:,} answers, {result.events_settled:,} events "
            f"settled; outbox {result.effects}",
            f"  peak RSS    {result.peak_rss_mib:.1f} MiB",
            f"  machine     {result.platform}, {result.cpu_count} CPUs, {result.cpu_model}",
            f"  software    {result.python}, SQLite {result.sqlite_version}",
            f"  load        {result.load_average_1m} (1-minute load average at start)",
        ]
    )


def parse_args(
    argv: Sequence[str] | None = None,
    *,
    messages: int = 3000,
    members: int = 600,
    description: str | None = __doc__,
) -> argparse.Namespace:
    """The command line (bench/catchup_matrix.py shares it, with its own defaults)."""
    parser = argparse.ArgumentParser(
        description=description.splitlines()[0] if description else None
    )
    parser.add_argument("--messages", type=int, default=messages, help="answers queued")
    parser.add_argument("--members", type=int, default=members, help="members who wrote them")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when the budget is missed as well"
    )
    args = parser.parse_args(argv)
    if args.messages < 1 or args.members < 1:
        parser.error("--messages and --members must be at least 1")
    if args.messages > 5 * args.members:
        # A member posting more than six times in 30 s trips the flood rule (the live answer
        # counts too): that would measure warnings, not a catch-up.
        parser.error("at most 5 queued answers a member: raise --members")
    return args


def finish(args: argparse.Namespace, result: Any, report: Callable[[Any], str]) -> int:
    """Print a run's figures (or its JSON); 1 if it is invalid (or, with --check, too slow)."""
    if args.json:
        print(json.dumps(asdict(result), ensure_ascii=False))
    else:
        print(report(result))
    for problem in result.problems:
        print(f"INVALID RUN: {problem}", file=sys.stderr)
    if result.problems:
        return 1
    return 1 if args.check and not result.passed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run once and print the figures; 1 if the run is invalid (or, with --check, too slow)."""
    args = parse_args(argv)
    return finish(args, run(args.messages, args.members), report)


if __name__ == "__main__":
    sys.exit(main())
