"""Message-pipeline benchmark: answers through memory adapter → router → courtesy → storage.

Run it as ``.venv/bin/python bench/pipeline.py [--messages N] [--authors A]
[--concurrency C] [--profile discord|matrix] [--json]``.

It starts the real :class:`~bot.app.Bot` with every cog in the :class:`~bot.testing.Harness` (a
SQLite *file* database in a temporary directory, the memory platform, a fake clock). A host
opens a round, each author sets a profession (not measured), then ``N`` synthetic French and
English answers about professions (generated with ``random.Random(42)``, so every run sees the
same workload) from ``A`` authors are posted in the round's thread, ``C`` at a time as a
gateway delivers a busy channel's events, each awaited until the bot has fully handled and
stored it. It reports throughput and per-message latency.

Every courtesy layer runs, the semantic layer included: it ships off, so the host turns it on
for the circle first (``/mod semantic enforce``, not measured); ``--without-semantic`` leaves
it off, ``--without-courtesy`` leaves the courtesy cog out (the core path).

The budget (≥ 2,000 messages/s) is reported as PASS or FAIL; the exit code is 0 either way,
benchmarks report, they do not gate. The exit code is non-zero only when the run is invalid
(a message was not stored, or the bot answered with an error notice).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import math
import os
import platform
import pstats
import random
import resource
import sqlite3
import sys
import textwrap
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Final

from sqlalchemy import func
from sqlmodel import select

from bot.compose import default_cogs
from bot.testing import PROFILES, Harness
from storage.database import Database
from storage.rounds import Answer

#: Messages per second the pipeline should sustain on one core.
BUDGET_MESSAGES_PER_SECOND: Final = 2_000
#: Messages posted (and discarded from the figures) before measuring.
WARMUP: Final = 200
SEED: Final = 42
STATE_ADAPTER: Final = "bench"
MIN_CHARS: Final = 150
MAX_CHARS: Final = 300

ONE_MESSAGE: Final = (
    "one member's answer posted in the open round's thread on the memory adapter and awaited "
    "until the bot has fully handled it: the router's duplicate check, the context (circle and "
    "member from the bot's caches; an author's first message also creates the member and "
    "account), every cog's courtesy verdict, then the rounds cog stores the answer tagged with "
    "the author's profession: one INSERT committed through the group writer (several answers "
    "arriving together share a transaction; each is awaited until its commit) on the SQLite "
    "file database (WAL, synchronous=NORMAL)."
)
#: Simulated time between two messages (the fake clock; the courtesy rules watch rates).
STEP: Final = timedelta(seconds=1)
#: Answers in flight at once (a busy channel: the gateway hands each event to its own task).
CONCURRENCY: Final = 32
#: Professions the authors declare before the measured part.
_DECLARED: Final = ("infirmière", "architecte", "développeur", "avocate", "boulanger", "enseignant")


# ---------------------------------------------------------------- the workload

_PROFESSIONS_EN: Final = (
    "nurse",
    "carpenter",
    "software developer",
    "primary school teacher",
    "baker",
    "electrician",
    "midwife",
    "farmer",
    "accountant",
    "librarian",
    "firefighter",
    "architect",
    "social worker",
    "plumber",
    "pharmacist",
    "translator",
    "bus driver",
    "veterinarian",
    "journalist",
    "chef",
)
_ACTIVITIES_EN: Final = (
    "explaining decisions to people who were not in the room",
    "checking the same numbers twice before anyone signs",
    "planning around schedules that change every single morning",
    "training the new people without slowing the whole team down",
    "writing reports that nobody reads until something goes wrong",
    "listening to clients who mostly need to be reassured",
)
_CHALLENGES_EN: Final = (
    "keeping up with the paperwork",
    "handing over work properly at the end of a shift",
    "saying no to urgent requests without upsetting anyone",
    "estimating how long a job will really take",
    "staying patient when the tools break down",
    "finding time to learn new techniques",
)
_SHARED_EN: Final = (
    "deal with emergencies that nobody planned for",
    "rely on checklists more than on memory",
    "learn most of the job from older colleagues",
    "explain our work to people outside the trade",
)
_PRACTICES_EN: Final = (
    "a short daily check-in",
    "pairing juniors with seniors",
    "a shared notebook of mistakes",
    "blocking one quiet hour every afternoon",
)
_TEMPLATES_EN: Final = (
    "As a {p}, I spend most of my week {a}.",
    "What surprised me this week as a {p} is how much time goes into {a}.",
    "In my job ({p}), the hardest part is {c}, not the technical work.",
    "I think a {p} and a {q} share more than people expect: we both {s}.",
    "Honestly, {c} is what I would change first if I could.",
    "My colleagues and I tried {r} last month, and it really helped with {c}.",
)

_PROFESSIONS_FR: Final = (
    "infirmière",
    "menuisier",
    "développeuse",
    "institutrice",
    "boulanger",
    "électricien",
    "sage-femme",
    "agricultrice",
    "comptable",
    "bibliothécaire",
    "pompier",
    "architecte",
    "assistante sociale",
    "plombier",
    "pharmacienne",
    "traductrice",
    "conducteur de bus",
    "vétérinaire",
    "journaliste",
    "cuisinier",
)
_ACTIVITIES_FR: Final = (
    "expliquer des décisions à des gens qui n'étaient pas là",
    "vérifier deux fois les mêmes chiffres avant toute signature",
    "m'organiser autour de plannings qui changent chaque matin",
    "former les nouveaux sans ralentir toute l'équipe",
    "rédiger des comptes rendus que personne ne lit vraiment",
    "écouter des clients qui ont surtout besoin d'être rassurés",
)
_CHALLENGES_FR: Final = (
    "la paperasse qui s'accumule",
    "la transmission des dossiers en fin de service",
    "dire non poliment aux demandes urgentes",
    "estimer le temps réel d'un chantier",
    "garder patience quand les outils tombent en panne",
    "trouver le temps d'apprendre de nouvelles techniques",
)
_SHARED_FR: Final = (
    "gérer des urgences que personne n'avait prévues",
    "nous fier aux listes de contrôle plus qu'à la mémoire",
    "apprendre l'essentiel du métier auprès des anciens",
    "expliquer notre travail à des gens extérieurs au métier",
)
_PRACTICES_FR: Final = (
    "un court point quotidien",
    "des binômes entre juniors et seniors",
    "un carnet partagé des erreurs",
    "une heure calme bloquée chaque après-midi",
)
_TEMPLATES_FR: Final = (
    "En tant que {p}, je passe l'essentiel de ma semaine à {a}.",
    "Ce qui m'a surprise cette semaine, comme {p}, c'est le temps passé à {a}.",
    "Dans mon métier ({p}), le plus dur n'est pas la technique mais {c}.",
    "Je crois qu'un·e {p} et un·e {q} ont plus en commun qu'on ne le pense : "
    "nous devons tous deux {s}.",
    "Franchement, {c}, c'est ce que je changerais en premier.",
    "Avec mes collègues, on a essayé {r} le mois dernier, et ça a aidé pour {c}.",
)

_FIRST_NAMES: Final = (
    "Camille",
    "Lucas",
    "Inès",
    "Hugo",
    "Léa",
    "Nathan",
    "Chloé",
    "Mohamed",
    "Manon",
    "Arthur",
    "Amina",
    "Jules",
    "Sarah",
    "Louis",
    "Yasmine",
    "Emma",
    "Noah",
    "Priya",
    "Oliver",
    "Sofia",
)


def _sentence(rng: random.Random, french: bool) -> str:
    if french:
        templates, professions = _TEMPLATES_FR, _PROFESSIONS_FR
        activities, challenges, shared, practices = (
            _ACTIVITIES_FR,
            _CHALLENGES_FR,
            _SHARED_FR,
            _PRACTICES_FR,
        )
    else:
        templates, professions = _TEMPLATES_EN, _PROFESSIONS_EN
        activities, challenges, shared, practices = (
            _ACTIVITIES_EN,
            _CHALLENGES_EN,
            _SHARED_EN,
            _PRACTICES_EN,
        )
    p, q = rng.sample(professions, 2)
    return rng.choice(templates).format(
        p=p,
        q=q,
        a=rng.choice(activities),
        c=rng.choice(challenges),
        s=rng.choice(shared),
        r=rng.choice(practices),
    )


def make_text(rng: random.Random) -> str:
    """One message of 150 to 300 characters: a few sentences, in French or in English."""
    french = rng.random() < 0.6
    target = rng.randint(MIN_CHARS, MAX_CHARS)
    text = _sentence(rng, french)
    while len(text) < target:
        text += " " + _sentence(rng, french)
    if len(text) > MAX_CHARS:
        text = text[: MAX_CHARS - 1].rsplit(" ", 1)[0] + "…"
    while len(text) < MIN_CHARS:  # the cut can (rarely) land under the floor
        text = (text + " " + _sentence(rng, french))[: MAX_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return text


def author_names(count: int) -> list[str]:
    """``count`` distinct member names: Camille, Lucas, …, Camille1, Lucas1, …"""
    size = len(_FIRST_NAMES)
    return [f"{_FIRST_NAMES[i % size]}{i // size or ''}" for i in range(count)]


def workload(messages: int, authors: int) -> list[tuple[str, str]]:
    """The warm-up then the measured messages, as (author, text); same seed, same list."""
    rng = random.Random(SEED)
    names = author_names(authors)
    return [(names[rng.randrange(authors)], make_text(rng)) for _ in range(WARMUP + messages)]


# ---------------------------------------------------------------- measuring


@dataclass(frozen=True, slots=True)
class Result:
    """What one run measured; the field names are the JSON keys."""

    profile: str
    messages: int
    authors: int
    concurrency: int
    courtesy: bool
    #: The semantic layer on (enforce) in the circle, turned on by the host before measuring.
    semantic: bool
    warmup: int
    seed: int
    authors_first_seen_while_measuring: int
    mean_chars: float
    messages_per_second: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    total_seconds: float
    #: CPU time of this process (event loop and database thread) per measured message: less
    #: swayed than the wall clock by other work on the machine.
    cpu_ms_per_message: float
    peak_rss_mib: float
    budget_messages_per_second: int
    passed: bool
    rows_stored: int
    bot_replies: int
    one_message: str
    python: str
    platform: str
    cpu_count: int | None
    cpu_model: str
    sqlite_version: str
    #: The 1-minute load average when the run started: other work on the machine skews figures.
    load_average_1m: float | None


def percentile_ns(ordered: Sequence[int], pct: float) -> int:
    """Nearest-rank percentile of already sorted values."""
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def cpu_model() -> str:
    """The CPU model from /proc/cpuinfo, or what :mod:`platform` knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Hardware", "cpu model"):
                return value.strip()
    return platform.processor() or "unknown"


def peak_rss_mib() -> float:
    """Peak resident set size of this process (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


async def count_rows(db: Database) -> int:
    """How many answers the bot stored."""
    async with db.session() as session:
        return int((await session.exec(select(func.count()).select_from(Answer))).one())


async def run(
    messages: int,
    authors: int,
    profile: str,
    concurrency: int = CONCURRENCY,
    *,
    courtesy: bool = True,
    semantic: bool = True,
    profiler: cProfile.Profile | None = None,
) -> Result:
    """Post the workload through a running bot and measure the measured part (profiled by
    ``profiler`` when given: the figures then include its overhead)."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    work = workload(messages, authors)
    warm, measured = work[:WARMUP], work[WARMUP:]
    first_seen = len({a for a, _ in measured} - {a for a, _ in warm})
    latencies = [0] * messages
    cogs = [cog for cog in default_cogs() if courtesy or cog.name != "courtesy"]
    async with Harness(profile=profile, hosts=["host"], cogs=cogs) as harness:
        if courtesy and semantic:
            # It ships off: a circle turns it on (every layer measured, the encoder's too).
            turned = await harness.command("host", "/mod semantic enforce")
            if not any("on" in s.text.lower() or "activ" in s.text.lower() for s in turned):
                raise RuntimeError(f"/mod semantic enforce: {[s.text for s in turned]}")
        await harness.command("host", "/prompt now")
        thread = list(harness.platform.threads.values())[-1]
        for i, name in enumerate(sorted({a for a, _ in warm})):
            await harness.command(name, f"/profession set {_DECLARED[i % len(_DECLARED)]}")
        sent_before = len(harness.sent)
        post = harness.platform.post
        for name, text in warm:
            harness.clock.advance(STEP)
            await post(name, text, thread=thread)
        clock = time.perf_counter_ns
        gate = asyncio.Semaphore(concurrency)

        async def one(i: int, name: str, text: str) -> None:
            async with gate:
                # A message a second, as in a lively channel: nobody trips the flood rule.
                harness.clock.advance(STEP)
                before = clock()
                await post(name, text, thread=thread)
                latencies[i] = clock() - before

        if profiler is not None:
            profiler.enable()
        started, cpu_started = clock(), time.process_time()
        await asyncio.gather(*(one(i, n, t) for i, (n, t) in enumerate(measured)))
        elapsed_ns = clock() - started
        if profiler is not None:
            profiler.disable()
        cpu_seconds = time.process_time() - cpu_started
        rows = await count_rows(harness.db)
        notices = [s.text for s in harness.sent[sent_before:] if "incident" in s.text]
        replies = len(notices)
    ordered = sorted(latencies)
    seconds = elapsed_ns / 1e9
    throughput = messages / seconds if seconds > 0 else float("inf")
    return Result(
        profile=profile,
        messages=messages,
        authors=authors,
        concurrency=concurrency,
        courtesy=courtesy,
        semantic=courtesy and semantic,
        warmup=WARMUP,
        seed=SEED,
        authors_first_seen_while_measuring=first_seen,
        mean_chars=round(sum(len(t) for _, t in measured) / messages, 1),
        messages_per_second=round(throughput, 1),
        p50_ms=round(percentile_ns(ordered, 50) / 1e6, 3),
        p99_ms=round(percentile_ns(ordered, 99) / 1e6, 3),
        max_ms=round(ordered[-1] / 1e6, 3),
        mean_ms=round(sum(ordered) / messages / 1e6, 3),
        total_seconds=round(seconds, 3),
        cpu_ms_per_message=round(cpu_seconds / messages * 1e3, 3),
        peak_rss_mib=round(peak_rss_mib(), 1),
        budget_messages_per_second=BUDGET_MESSAGES_PER_SECOND,
        passed=throughput >= BUDGET_MESSAGES_PER_SECOND,
        rows_stored=rows,
        bot_replies=replies,
        one_message=ONE_MESSAGE,
        python=f"{platform.python_implementation()} {platform.python_version()}",
        platform=platform.platform(),
        cpu_count=os.cpu_count(),
        cpu_model=cpu_model(),
        sqlite_version=sqlite3.sqlite_version,
        load_average_1m=None if load is None else round(load, 2),
    )


def top_functions(profiler: cProfile.Profile, count: int) -> str:
    """The profiled part's costliest functions, by own time then by cumulative time."""
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(count)
    stats.sort_stats("cumulative").print_stats(count)
    return out.getvalue()


def problems(result: Result) -> list[str]:
    """Why the figures cannot be trusted (the router swallows handler errors), if they can't."""
    found: list[str] = []
    expected = result.warmup + result.messages
    if result.rows_stored != expected:
        found.append(f"{result.rows_stored} messages stored, {expected} expected")
    if result.bot_replies:
        found.append(f"the bot sent {result.bot_replies} error notices")
    return found


def report(result: Result) -> str:
    """The human-readable report."""
    verdict = "PASS" if result.passed else "FAIL"
    lines = [
        "Cercle message-pipeline benchmark (memory adapter → router → courtesy → stored answer)",
        f"  profile     {result.profile}"
        + (
            " (without the courtesy rules)"
            if not result.courtesy
            else ", every courtesy layer, the semantic layer turned on (/mod semantic enforce)"
            if result.semantic
            else ", the courtesy rules without the semantic layer (it ships off)"
        ),
        f"  workload    {result.messages:,} messages from {result.authors:,} authors "
        f"(+{result.warmup} warm-up, not measured; seed {result.seed}), "
        f"{result.concurrency} in flight",
        f"              mean {result.mean_chars:.0f} characters; "
        f"{result.authors_first_seen_while_measuring} authors first seen while measuring",
        textwrap.fill(
            result.one_message,
            width=96,
            initial_indent="  1 message   ",
            subsequent_indent=" " * 14,
        ),
        f"  throughput  {result.messages_per_second:,.0f} messages/s "
        f"(budget ≥ {result.budget_messages_per_second:,}: {verdict})",
        f"  latency     p50 {result.p50_ms:.3f} ms, p99 {result.p99_ms:.3f} ms, "
        f"max {result.max_ms:.3f} ms, mean {result.mean_ms:.3f} ms",
        f"  total       {result.total_seconds:.3f} s; CPU {result.cpu_ms_per_message:.3f} ms "
        "a message (this process, event loop and database thread)",
        f"  peak RSS    {result.peak_rss_mib:.1f} MiB",
        f"  stored      {result.rows_stored:,} rows, {result.bot_replies} bot replies",
        f"  machine     {result.platform}, {result.cpu_count} CPUs, {result.cpu_model}",
        f"  software    {result.python}, SQLite {result.sqlite_version}",
        f"  load        {result.load_average_1m} (1-minute load average at start)",
    ]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=5000, help="messages measured")
    parser.add_argument("--authors", type=int, default=300, help="distinct authors")
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY, help="answers in flight")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="discord")
    parser.add_argument(
        "--without-courtesy",
        action="store_true",
        help="leave the courtesy rules out (the core path: adapter → router → stored answer)",
    )
    parser.add_argument(
        "--without-semantic",
        action="store_true",
        help="leave the courtesy semantic layer off, as it ships (on by default here)",
    )
    parser.add_argument(
        "--profile-top",
        type=int,
        default=0,
        metavar="N",
        help="profile the measured part (cProfile) and print its N costliest functions",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.messages < 1 or args.authors < 1 or args.concurrency < 1:
        parser.error("--messages, --authors and --concurrency must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run once and print the figures; 0 unless the run is invalid."""
    args = parse_args(argv)
    profiler = cProfile.Profile() if args.profile_top else None
    result = asyncio.run(
        run(
            args.messages,
            args.authors,
            args.profile,
            args.concurrency,
            courtesy=not args.without_courtesy,
            semantic=not args.without_semantic,
            profiler=profiler,
        )
    )
    if profiler is not None:
        print(top_functions(profiler, args.profile_top), file=sys.stderr)
    found = problems(result)
    if args.json:
        print(json.dumps({**asdict(result), "problems": found}, ensure_ascii=False))
    else:
        print(report(result))
    for problem in found:
        print(f"INVALID RUN: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
