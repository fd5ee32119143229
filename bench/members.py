"""Per-member memory benchmark: the bot's memory after 100,000 distinct members vs 10,000.

Run it as ``.venv/bin/python bench/members.py [--members N] [--json] [--check]``.

A running bot (the :class:`~bot.testing.Harness`: memory platform, SQLite file database, fake
clock) with the cogs that keep something per member (core, courtesy, professions, rounds) has
a round open; ``N`` distinct members (100,000 by default) each post one answer in its thread,
32 in flight, a simulated second apart (the memory platform's own records of posts and sent
messages are dropped as they come: they are the platform's memory, not the bot's). The
process's resident memory (``VmRSS``, after a garbage collection) is read once 10 % of them
have posted and again at the end, and the sizes of the per-member caches are read too. Past
the caches' bound (10,000 entries each) memory should stay flat: the budget is at most 8 MiB
more at 100,000 than at 10,000 (a full cache's table grows once more when it starts evicting,
CPython's dict settling at twice its filled size, ~0.3 MiB for 10,000 entries; SQLite's page
caches fill with the database and the allocator's arenas move a little; an unbounded cache
costs tens of MiB).

The exit code is 0 unless the run is invalid (answers not stored) or, with ``--check``, the
budget is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from machine import describe, machine  # noqa: E402

from bot.testing import Harness  # noqa: E402
from cogs.core import CoreCog  # noqa: E402
from cogs.courtesy import CourtesyCog  # noqa: E402
from cogs.professions import ProfessionsCog  # noqa: E402
from cogs.rounds import RoundsCog  # noqa: E402

#: At most this much more memory after all the members than after the first tenth.
BUDGET_GROWTH_MIB: Final = 8.0
CONCURRENCY: Final = 32
STEP: Final = timedelta(seconds=1)
TEXT: Final = "Dans mon métier, le plus dur reste la transmission des dossiers en fin de service."


@dataclass(frozen=True, slots=True)
class Result:
    """What the run measured; the field names are the JSON keys."""

    members: int
    early_members: int
    rss_early_mib: float
    rss_end_mib: float
    growth_mib: float
    budget_growth_mib: float
    passed: bool
    caches: dict[str, int]
    seconds: float
    answers_stored: int
    machine: dict[str, Any]


def rss_mib() -> float:
    """This process's resident memory after a collection (Linux)."""
    gc.collect()
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def cache_sizes(h: Harness) -> dict[str, int]:
    """How many entries each per-member cache holds."""
    cogs = {cog.name: cog for cog in h.bot.cogs}
    courtesy: Any = cogs["courtesy"]
    rounds: Any = cogs["rounds"]
    directory: Any = h.bot.directory
    return {
        "directory accounts": len(directory._accounts),
        "courtesy first seen": len(courtesy._first_seen),
        "courtesy recent posts": len(courtesy._recent),
        "courtesy activity": sum(len(s.activity) for s in courtesy._states.values()),
        "rounds professions": len(rounds._professions),
        "rounds asked": len(rounds._asked),
    }


async def run(members: int) -> Result:
    """Post one answer from each of ``members`` members; memory at a tenth and at the end."""
    early = max(1, members // 10)
    cogs = [CoreCog, CourtesyCog, ProfessionsCog, RoundsCog]
    async with Harness("discord", cogs=cogs, hosts=["host"]) as h:
        await h.command("host", "/prompt now")
        thread = list(h.platform.threads.values())[-1]
        platform = h.platform

        async def members_from(numbers: Iterator[int]) -> None:
            for i in numbers:
                h.clock.advance(STEP)
                ref = await platform.post(f"membre{i}", TEXT, thread=thread)
                # The test platform's own records (what members posted, what the bot sent)
                # are a platform's memory, not the bot's: dropped as they come.
                platform.posted.pop(ref.id, None)
                platform.sent.clear()

        async def post(first: int, end: int) -> None:
            # A fixed set of workers: tasks created up front would be measured too.
            numbers = iter(range(first, end))
            await asyncio.gather(*(members_from(numbers) for _ in range(CONCURRENCY)))

        started = time.perf_counter()
        await post(0, early)
        rss_early = rss_mib()
        await post(early, members)
        rss_end = rss_mib()
        seconds = time.perf_counter() - started
        caches = cache_sizes(h)
        async with h.db.engine.connect() as conn:
            stored = (await conn.exec_driver_sql("SELECT count(*) FROM answers")).scalar()
    growth = rss_end - rss_early
    return Result(
        members=members,
        early_members=early,
        rss_early_mib=round(rss_early, 1),
        rss_end_mib=round(rss_end, 1),
        growth_mib=round(growth, 1),
        budget_growth_mib=BUDGET_GROWTH_MIB,
        passed=growth <= BUDGET_GROWTH_MIB,
        caches=caches,
        seconds=round(seconds, 1),
        answers_stored=int(stored or 0),
        machine=machine(),
    )


def growth_ratio(result: Result) -> float:
    """The growth over its budget, as ``make bench`` reads every budget (above 1 fails)."""
    return result.growth_mib / result.budget_growth_mib


def report(result: Result) -> str:
    """The human-readable report."""
    verdict = "PASS" if result.passed else "FAIL"
    return "\n".join(
        [
            "Cercle per-member memory benchmark (one answer from each of N distinct members)",
            f"  members     {result.members:,}, 32 in flight, {result.seconds:.0f} s",
            f"  RSS         {result.rss_early_mib:.1f} MiB after {result.early_members:,} "
            f"members, {result.rss_end_mib:.1f} MiB after {result.members:,}: "
            f"{result.growth_mib:+.1f} MiB (budget ≤ +{result.budget_growth_mib:.0f} MiB: "
            f"{verdict}, ratio {growth_ratio(result):.2f})",
            "  caches      "
            + ", ".join(f"{name} {size:,}" for name, size in result.caches.items()),
            f"  stored      {result.answers_stored:,} answers",
            f"  machine     {describe(result.machine)}",
        ]
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--members", type=int, default=100_000, help="distinct members")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--check", action="store_true", help="exit 1 when the budget is missed")
    args = parser.parse_args(argv)
    if args.members < 10:
        parser.error("--members must be at least 10")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print; 1 if the run is invalid (or, with --check, over budget)."""
    args = parse_args(argv)
    result = asyncio.run(run(args.members))
    print(json.dumps(asdict(result), ensure_ascii=False) if args.json else report(result))
    if result.answers_stored != result.members:
        print(
            f"INVALID RUN: {result.answers_stored} answers stored, {result.members} expected",
            file=sys.stderr,
        )
        return 1
    return 1 if args.check and not result.passed else 0


if __name__ == "__main__":
    sys.exit(main())
