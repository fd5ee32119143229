"""Votes benchmark: rank 10,000 votes on 50 statements from 1,300 members, and votes as commands.

Run it as ``.venv/bin/python bench/votes.py [--members 1300] [--statements 50]
[--votes 10000] [--pipeline 2000] [--json] [--check]``.

- ``rank``: the round's votes are stored in a SQLite file database (not measured), then
  ``cogs.votes.standing`` reads them and ranks every statement (smoothed agree shares per
  profession, group-aware consensus, bridges and cruxes). Budget: ≤ 1 s. Beside it, in the
  same run and on the same votes read from the same database, a naive baseline: a per-statement
  recount that scans every vote once per statement and profession. Both must agree on every
  figure (the run is invalid otherwise). Least of three runs each.
- ``pipeline``: members vote with ``/vote <n> agree|disagree|pass`` through the memory adapter,
  the router and storage (``bot.testing.Harness``, discord profile, SQLite file), each command
  awaited until handled (its vote committed, its private reply sent and recorded), 32 in flight
  as in ``bench/pipeline.py``. Budget: a vote is handled like an answer, ≥ 2,000 a second
  (PASS/FAIL and the ratio to it; ``--check`` exits 1 below it). Beside it, in the same run:
  the same number of answers through ``bench/pipeline.py``'s core path (adapter → router →
  stored answer, no courtesy rules, which commands do not pass through), and the same members
  running ``/prompt next`` (a command that only reads and answers privately). CPU time per
  vote is printed too: less swayed than the wall clock by other work on the machine.

Members get professions from a skewed distribution over 14 professions (a few have fewer than
3 voters, so the re-identification pooling is exercised); each member votes on distinct
statements; choices lean by profession so that bridges and cruxes exist (every fifth
statement agreed across professions, the next one splitting them). ``random.Random(15)``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.machine import describe  # noqa: E402

BUDGET_RANK_S: Final = 1.0
BUDGET_PIPELINE: Final = 2000.0
#: Commands in flight at once, as in bench/pipeline.py.
IN_FLIGHT: Final = 32
SEED: Final = 15
NOW: Final = datetime(2026, 1, 12, 8, 0, tzinfo=UTC)
PROFESSIONS: Final = (
    "nurse",
    "architect",
    "lawyer",
    "software_developer",
    "teacher",
    "doctor",
    "accountant",
    "electrician",
    "pharmacist",
    "plumber",
    "journalist",
    "baker",
    "pilot",
    "farmer",
)


def workload(members: int, statements: int, votes: int) -> list[tuple[int, int, str, str]]:
    """``votes`` distinct (statement, member, choice, profession) rows."""
    rng = random.Random(SEED)
    weights = [1 / (rank + 1) ** 1.3 for rank in range(len(PROFESSIONS))]
    profession = {m: rng.choices(PROFESSIONS, weights)[0] for m in range(1, members + 1)}
    for m in list(profession)[:2]:
        profession[m] = "farmer"  # a profession of two voters: pooled
    # Every fifth statement is agreed across professions, the next splits them in two halves,
    # the others lean at random by profession.
    lean = {
        (s, p): 0.85 if s % 5 == 0 else (0.85 if i % 2 else 0.1) if s % 5 == 1 else rng.random()
        for s in range(statements)
        for i, p in enumerate(PROFESSIONS)
    }
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < min(votes, members * statements):
        pairs.add((rng.randrange(statements), rng.randrange(1, members + 1)))
    rows = []
    for s, m in sorted(pairs):
        p = profession[m]
        roll = rng.random()
        choice = (
            "agree" if roll < lean[(s, p)] else "pass" if roll < lean[(s, p)] + 0.1 else "disagree"
        )
        rows.append((s, m, choice, p))
    return rows


def naive(casts: list[Any], min_voters: int = 5, min_professions: int = 2) -> dict[int, Any]:
    """The baseline: every statement recounted by scanning all votes once per profession."""
    from cogs.votes import consensus as c

    latest: dict[int, str] = {}
    for cast in casts:
        latest[cast.member_id] = cast.profession
    sizes: dict[str, int] = defaultdict(int)
    for p in latest.values():
        sizes[p] += 1

    def group(member: int) -> str:
        p = latest[member]
        return p if p not in c.UNNAMED and sizes[p] >= c.MIN_GROUP else c.POOLED

    groups = sorted({group(m) for m in latest})
    out = {}
    for statement in sorted({x.statement_id for x in casts}):
        shares = {}
        product = 1.0
        for g in groups:
            agree = sum(
                1
                for x in casts
                if x.statement_id == statement and group(x.member_id) == g and x.choice == "agree"
            )
            seen = sum(1 for x in casts if x.statement_id == statement and group(x.member_id) == g)
            share = (agree + 1) / (seen + 2)
            product *= share
            if seen:
                shares[g] = share
        voters = {x.member_id for x in casts if x.statement_id == statement}
        named = {x.profession for x in casts if x.statement_id == statement} - c.UNNAMED
        spread = max(shares.values()) - min(shares.values()) if len(shares) >= 2 else 0.0
        ranked = len(voters) >= min_voters and len(named) >= min_professions
        out[statement] = (round(product, 6), round(spread, 6), ranked)
    return out


async def setup(db_path: Path, rows: list[tuple[int, int, str, str]], statements: int) -> Any:
    """A stored round with its statements and votes; returns the database."""
    from storage import votes as store
    from storage.database import Database
    from storage.members import account_for, get_or_create_circle
    from storage.rounds import Round, create_round
    from storage.writer import dialect_insert

    db = Database(f"sqlite+aiosqlite:///{db_path}")
    await db.upgrade()
    circle = await get_or_create_circle(
        db, "memory", "c", name="c", locale="fr", timezone="UTC", now=NOW
    )
    round_ = await create_round(
        db,
        Round(
            circle_id=circle.id or 0,
            number=0,
            scheduled_for=NOW,
            opened_at=NOW,
            closes_at=NOW + timedelta(days=6),
            platform="memory",
            channel_id="c",
        ),
    )
    assert round_ is not None and round_.id is not None
    ids = []
    for s in range(statements):
        added = await store.add_statement(
            db, round_.id, circle.id or 0, f"Énoncé {s}.", now=NOW, status=store.STATEMENT_POSTED
        )
        ids.append(added.id or 0)
    member_ids = {}
    for m in sorted({m for _, m, _, _ in rows}):
        member_ids[m] = (await account_for(db, "memory", f"m{m}", f"m{m}", now=NOW)).member_id
    table = store.Vote.__table__  # type: ignore[attr-defined]
    values = [
        {
            "statement_id": ids[s],
            "member_id": member_ids[m],
            "choice": choice,
            "profession_key": p,
            "voted_at": NOW,
            "created_at": NOW,
        }
        for s, m, choice, p in rows
    ]
    async with db.engine.begin() as conn:
        for at in range(0, len(values), 500):
            await conn.execute(dialect_insert(db.engine, table).values(values[at : at + 500]))
    return db, round_.id


async def rank_case(members: int, statements: int, votes: int) -> dict[str, Any]:
    """Time ``standing`` (read + rank) and the naive recount on the same stored votes."""
    from cogs.votes import standing
    from storage import votes as store

    rows = workload(members, statements, votes)
    with tempfile.TemporaryDirectory(prefix="cercle-bench-votes-") as tmp:
        db, round_id = await setup(Path(tmp) / "votes.db", rows, statements)
        try:
            best = float("inf")
            result = None
            for _ in range(3):
                started = time.perf_counter()
                result = await standing(db, round_id)
                best = min(best, time.perf_counter() - started)
            baseline = float("inf")
            for _ in range(3):
                started = time.perf_counter()
                casts = await store.round_votes(db, round_id)
                recount = naive(casts)
                baseline = min(baseline, time.perf_counter() - started)
            from cogs.votes import consensus

            scored = consensus.score(casts)
            ours = {
                s.statement_id: (round(s.consensus, 6), round(s.spread, 6), s.ranked)
                for s in scored
            }
            agree = ours == recount
        finally:
            await db.dispose()
    assert result is not None
    return {
        "votes": len(rows),
        "members": len({m for _, m, _, _ in rows}),
        "statements": statements,
        "rank_s": round(best, 4),
        "naive_s": round(baseline, 4),
        "same_figures": agree,
        "bridges": len(result.agree),
        "cruxes": len(result.differ),
        "budget_s": BUDGET_RANK_S,
    }


async def pipeline_case(votes: int) -> dict[str, Any]:
    """Votes as commands through the whole bot, 32 in flight, each awaited until handled."""
    from bot.testing import Harness
    from storage import votes as store

    voters = 200
    statements = max(1, min(20, votes // voters or 1))
    with tempfile.TemporaryDirectory(prefix="cercle-bench-votes-") as tmp:
        async with Harness("discord", hosts=["hana"], db_path=Path(tmp) / "p.db") as h:
            await h.say("hana", "bonjour")
            await h.command("hana", "/prompt now")
            for s in range(statements):
                await h.command("hana", f"/statement add Énoncé numéro {s} du banc d’essai.")
                h.clock.advance(timedelta(seconds=2))
            names = [f"v{i}" for i in range(voters)]
            for name in names:  # every member seen once (not measured), as bench/pipeline.py
                await h.command(name, "/statement list")
            rng = random.Random(SEED)
            plan = [
                (name, s + 1, rng.choice(("agree", "disagree", "pass")))
                for s in range(statements)
                for name in names
            ][:votes]
            gate = asyncio.Semaphore(IN_FLIGHT)

            async def one(name: str, text: str) -> None:
                async with gate:
                    h.clock.advance(timedelta(milliseconds=20))  # nobody trips the throttle
                    await h.platform.command(name, text)

            async def timed(commands: list[tuple[str, str]]) -> tuple[float, float]:
                started, cpu = time.perf_counter(), time.process_time()
                await asyncio.gather(*(one(name, text) for name, text in commands))
                return time.perf_counter() - started, time.process_time() - cpu

            sent_before = len(h.sent)
            elapsed, cpu = await timed([(n, f"/vote {number} {c}") for n, number, c in plan])
            stored = sum([await store.vote_count(h.db, n) for n in range(1, statements + 1)])
            replies = len(h.sent) - sent_before
            # The floor beside it: a command that only reads and answers privately.
            floor, _ = await timed([(name, "/prompt next") for name, _, _ in plan])
    return {
        "votes": len(plan),
        "seconds": round(elapsed, 3),
        "votes_per_second": round(len(plan) / elapsed, 1),
        "cpu_ms_per_vote": round(cpu / len(plan) * 1e3, 3),
        "prompt_next_per_second": round(len(plan) / floor, 1),
        "in_flight": IN_FLIGHT,
        "stored": stored,
        "replies": replies,
        "budget_per_second": BUDGET_PIPELINE,
        "ratio": round(len(plan) / elapsed / BUDGET_PIPELINE, 3),
        "passed": len(plan) / elapsed >= BUDGET_PIPELINE,
    }


async def answers_case(messages: int) -> dict[str, Any]:
    """The baseline: as many answers through ``bench/pipeline.py``'s core path, same run."""
    from bench import pipeline

    result = await pipeline.run(
        max(messages, pipeline.WARMUP + 1), 300, "discord", IN_FLIGHT, courtesy=False
    )
    return {
        "answers": result.messages,
        "answers_per_second": result.messages_per_second,
        "cpu_ms_per_answer": result.cpu_ms_per_message,
        "stored": result.rows_stored,
    }


def main() -> int:
    """Run every case and print the figures: exit 1 for an invalid run, and with ``--check``
    when /vote is under its budget."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1300)
    parser.add_argument("--statements", type=int, default=50)
    parser.add_argument("--votes", type=int, default=10_000)
    parser.add_argument("--pipeline", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when /vote is under 2,000 a second"
    )
    args = parser.parse_args()
    rank = asyncio.run(rank_case(args.members, args.statements, args.votes))
    pipe = asyncio.run(pipeline_case(args.pipeline)) if args.pipeline else None
    answers = asyncio.run(answers_case(args.pipeline)) if args.pipeline else None
    if pipe is not None and answers is not None:
        pipe["votes_per_answer"] = round(
            pipe["votes_per_second"] / answers["answers_per_second"], 3
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {
        "rank": rank,
        "pipeline": pipe,
        "answers": answers,
        "peak_rss_mib": round(peak, 1),
        "machine": describe(),
    }
    valid = rank["same_figures"] and (
        pipe is None or (pipe["stored"] == pipe["votes"] and pipe["replies"] == pipe["votes"])
    )
    if args.json:
        print(json.dumps(out))
    else:
        print(f"votes benchmark — {out['machine']}")
        rank_verdict = "PASS" if rank["rank_s"] <= BUDGET_RANK_S else "FAIL"
        print(
            f"rank {rank['votes']:,} votes, {rank['statements']} statements, "
            f"{rank['members']:,} members: standing {rank['rank_s']:.3f} s "
            f"(budget ≤ {BUDGET_RANK_S:.0f} s: {rank_verdict})"
            f", naive recount {rank['naive_s']:.3f} s, same figures: {rank['same_figures']}, "
            f"{rank['bridges']} bridges, {rank['cruxes']} cruxes"
        )
        if pipe is not None and answers is not None:
            verdict = "PASS" if pipe["passed"] else "FAIL"
            print(
                f"pipeline {pipe['votes']:,} /vote commands, {pipe['in_flight']} in flight: "
                f"{pipe['votes_per_second']:,.0f} votes/s (budget ≥ {BUDGET_PIPELINE:,.0f}: "
                f"{verdict}, ratio {pipe['ratio']:.2f}), {pipe['cpu_ms_per_vote']:.2f} ms CPU "
                f"a vote; stored {pipe['stored']:,}"
            )
            print(
                f"  same run: {answers['answers']:,} answers (bench/pipeline.py core path) "
                f"{answers['answers_per_second']:,.0f}/s, {answers['cpu_ms_per_answer']:.2f} ms "
                f"CPU an answer (votes/answers {pipe['votes_per_answer']:.2f}); "
                f"/prompt next {pipe['prompt_next_per_second']:,.0f}/s"
            )
        print(f"peak RSS {out['peak_rss_mib']} MiB")
    if not valid:
        return 1
    if args.check and pipe is not None and not pipe["passed"]:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
