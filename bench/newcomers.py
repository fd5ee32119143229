"""Newcomer-burst benchmark: a round announced to 1,300 members who all answer at once.

Run it as ``.venv/bin/python bench/newcomers.py [--members N] [--profile P] [--json] [--check]
[--profile-top K]``.

The real :class:`~bot.app.Bot` with every cog (the :class:`~bot.testing.Harness`: memory
platform, SQLite file database, fake clock) opens a round; then ``N`` answers (1,300 by
default, the workload of ``bench/pipeline.py``) are posted in its thread, 32 in flight, a
simulated second apart, each awaited until handled and stored. Two bots, in the same run:

* **newcomers**: every answer comes from a member the bot has never seen (the account and
  member are created, their first-seen time and profession looked up, the profession asked);
* **known**: the same answers from members who each posted once in the channel before (not
  measured), so only what differs for a newcomer is left out.

Both bots are warmed the same way before the clock starts: one member outside the burst posts
in the channel and answers in the thread (not measured), as in a circle already running when
the round is announced. Without it the newcomers' bot, measured first, paid alone the
process's one-time costs (the courtesy lexicon and rules built, the first statements compiled).

Budget: ≥ 1,000 messages/s for the newcomers; the ratio to the known members is printed
beside it. The exit code is 0 unless the run is invalid (an answer not stored) or, with
``--check``, the budget is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from machine import describe, machine  # noqa: E402
from pipeline import make_text, top_functions  # noqa: E402

from bot.compose import default_cogs  # noqa: E402
from bot.testing import PROFILES, Harness  # noqa: E402

BUDGET_MESSAGES_PER_SECOND: Final = 1_000
CONCURRENCY: Final = 32
STEP: Final = timedelta(seconds=1)
SEED: Final = 42
#: The member outside the burst whose messages warm both bots up.
WARM_UP: Final = "habitue"


@dataclass(frozen=True, slots=True)
class Side:
    """One bot's figures."""

    messages_per_second: float
    cpu_ms_per_message: float
    seconds: float
    stored: int


@dataclass(frozen=True, slots=True)
class Result:
    """What the run measured; the field names are the JSON keys."""

    profile: str
    members: int
    newcomers: Side
    known: Side
    ratio: float
    budget_messages_per_second: int
    passed: bool
    machine: dict[str, Any]


async def burst(
    profile: str,
    texts: Sequence[str],
    *,
    known: bool,
    profiler: cProfile.Profile | None = None,
) -> Side:
    """Post one answer per member in a fresh bot's round; known members posted once before."""
    async with Harness(profile=profile, hosts=["host"], cogs=default_cogs()) as h:
        names = [f"membre{i}" for i in range(len(texts))]
        if known:
            for name in names:
                h.clock.advance(STEP)
                await h.say(name, "Bonjour à toutes et à tous !")
        await h.command("host", "/prompt now")
        thread = list(h.platform.threads.values())[-1]
        # The same for both bots: what a running circle has already loaded and compiled.
        h.clock.advance(STEP)
        await h.say(WARM_UP, "Bonjour à toutes et à tous !")
        h.clock.advance(STEP)
        await h.platform.post(WARM_UP, texts[0], thread=thread)
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(name: str, text: str) -> None:
            async with gate:
                h.clock.advance(STEP)
                await h.platform.post(name, text, thread=thread)

        if profiler is not None:
            profiler.enable()
        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(one(n, t) for n, t in zip(names, texts, strict=True)))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        if profiler is not None:
            profiler.disable()
        async with h.db.engine.connect() as conn:
            stored = (await conn.exec_driver_sql("SELECT count(*) FROM answers")).scalar()
        stored = int(stored or 0) - 1  # the warm-up answer
    return Side(
        messages_per_second=round(len(texts) / seconds, 1),
        cpu_ms_per_message=round(cpu / len(texts) * 1e3, 3),
        seconds=round(seconds, 3),
        stored=stored,
    )


async def run(members: int, profile: str, profiler: cProfile.Profile | None = None) -> Result:
    """Both bots, newcomers first; ``profiler`` (if any) profiles the newcomers' burst."""
    import random

    rng = random.Random(SEED)
    texts = [make_text(rng) for _ in range(members)]
    newcomers = await burst(profile, texts, known=False, profiler=profiler)
    known = await burst(profile, texts, known=True)
    return Result(
        profile=profile,
        members=members,
        newcomers=newcomers,
        known=known,
        ratio=round(newcomers.messages_per_second / known.messages_per_second, 2),
        budget_messages_per_second=BUDGET_MESSAGES_PER_SECOND,
        passed=newcomers.messages_per_second >= BUDGET_MESSAGES_PER_SECOND,
        machine=machine(),
    )


def report(result: Result) -> str:
    """The human-readable report."""
    verdict = "PASS" if result.passed else "FAIL"
    new, old = result.newcomers, result.known
    return "\n".join(
        [
            "Cercle newcomer-burst benchmark (a round's answers, each from a new member)",
            f"  profile     {result.profile}, every cog, {result.members:,} answers, "
            f"{CONCURRENCY} in flight",
            f"  newcomers   {new.messages_per_second:,.0f} messages/s "
            f"(budget ≥ {result.budget_messages_per_second:,}: {verdict}), CPU "
            f"{new.cpu_ms_per_message:.3f} ms a message, {new.stored:,} stored",
            f"  known       {old.messages_per_second:,.0f} messages/s, CPU "
            f"{old.cpu_ms_per_message:.3f} ms a message, {old.stored:,} stored "
            "(the same answers from members seen before)",
            f"  ratio       {result.ratio:.2f} (newcomers / known)",
            f"  machine     {describe(result.machine)}",
        ]
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--members", type=int, default=1_300, help="answers, one per member")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="discord")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--check", action="store_true", help="exit 1 when the budget is missed")
    parser.add_argument(
        "--profile-top",
        type=int,
        default=0,
        metavar="N",
        help="profile the newcomers' burst (cProfile) and print its N costliest functions",
    )
    args = parser.parse_args(argv)
    if args.members < 1:
        parser.error("--members must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print; 1 if the run is invalid (or, with --check, over budget)."""
    args = parse_args(argv)
    profiler = cProfile.Profile() if args.profile_top else None
    result = asyncio.run(run(args.members, args.profile, profiler))
    print(json.dumps(asdict(result), ensure_ascii=False) if args.json else report(result))
    if profiler is not None:
        print(top_functions(profiler, args.profile_top), file=sys.stderr)
    for side in (result.newcomers, result.known):
        if side.stored != result.members:
            print(f"INVALID RUN: {side.stored} answers stored, {result.members} expected")
            return 1
    return 1 if args.check and not result.passed else 0


if __name__ == "__main__":
    sys.exit(main())
