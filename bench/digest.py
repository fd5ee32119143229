"""Digest benchmark: a 1,300-answer round from scratch, then 10,000 and 100,000 from the cache.

Run it as ``.venv/bin/python bench/digest.py [--sizes 1300,10000,100000] [--json]``.

Each case runs in a fresh subprocess (so imports, the model load and peak memory are its own):

- ``cold`` (1,300 answers, the founding community's size): model load + embedding every
  sentence + clustering + c-TF-IDF + quotes + Markdown + the PNG chart. Budget: ≤ 10 s.
- ``cached`` (10,000 and 100,000 answers): the round is stored in SQLite with every answer's
  sentence vectors already in the embedding cache (as the bot leaves them when it computes
  them ahead of the digest), then ``round_digest`` reads the answers and their cached vectors
  from storage and analyses them, and the digest is rendered. Budget at 100k: ≤ 5 min.

Answers are built from the demo's hand-written sentences with varied openings (a fixed seed),
so texts are distinct and themes real. Filling the cache for the large cases (not measured)
embeds each distinct sentence once. Peak memory is the subprocess's maximum resident set.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import resource
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
BUDGET_100K_S: Final = 300.0
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


def run_cold(n: int) -> dict[str, Any]:
    """1,300 answers from nothing: everything a close does, model load included."""
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
    clustering.default_encoder()(["warm up"])
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    vectors, _ = clustering.embed_answers(answers)
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
    if args.case == "cold":
        result = run_cold(args.n)
    elif args.case == "fill":
        asyncio.run(_fill(Path(args.db), args.n))
        result = {"case": "fill", "answers": args.n}
    else:
        result = run_cached(args.n, Path(args.db))
    print(json.dumps(result))


def _spawn(*extra: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *extra],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    """Run every size and report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--sizes", default="1300,10000,100000")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--case", default="cold", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, default=1300, help=argparse.SUPPRESS)
    parser.add_argument("--db", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    results = []
    for n in (int(s) for s in args.sizes.split(",") if s):
        if n <= 2000:
            results.append(_spawn("--case", "cold", "--n", str(n)))
        else:
            with tempfile.TemporaryDirectory(prefix="cercle-bench-digest-") as tmp:
                db = str(Path(tmp) / "digest.db")
                _spawn("--case", "fill", "--n", str(n), "--db", db)
                results.append(_spawn("--case", "cached", "--n", str(n), "--db", db))
        if not args.json:
            print(_line(results[-1]), flush=True)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )


def _line(r: dict[str, Any]) -> str:
    if r["case"] == "cold":
        verdict = "PASS" if r["total_s"] <= BUDGET_COLD_S else "FAIL"
        return (
            f"{r['answers']:>7,} answers, cold : {r['total_s']:6.2f} s [{verdict} ≤ 10 s] "
            f"(model {r['model_load_s']:.2f} s, embed {r['embed_s']:.2f} s for "
            f"{r['sentences']:,} sentences, analyse {r['analyse_s']:.2f} s, render "
            f"{r['render_s']:.2f} s), peak {r['peak_mb']:.0f} MB, "
            f"{r['shared']} shared / {r['distinctive']} distinctive themes"
        )
    budget = f" [{'PASS' if r['total_s'] <= BUDGET_100K_S else 'FAIL'} ≤ 5 min]"
    return (
        f"{r['answers']:>7,} answers, cached: {r['total_s']:6.2f} s"
        + (budget if r["answers"] >= 100_000 else "")
        + f" (load + analyse {r['load_and_analyse_s']:.2f} s), peak {r['peak_mb']:.0f} MB, "
        f"{r['shared']} shared / {r['distinctive']} distinctive themes"
    )


if __name__ == "__main__":
    main()
