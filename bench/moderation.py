"""Courtesy rules benchmark: speed per 300-character message, and quality against a baseline.

Run it as ``.venv/bin/python bench/moderation.py [--rounds N] [--json] [--no-glin]``.

The workload is the labelled dev set (``tests/cogs/courtesy/data/moderation_dev_cases.jsonl``,
141 messages, French and English): each message is padded to exactly 300 characters with
neutral sentences about work (written here, shuffled with ``random.Random(42)``), so it keeps
its label. Three engines judge the same 141 messages:

* **rules** — :func:`cogs.courtesy.engine.evaluate`, the engine the bot runs;
* **keywords** — an AutoMod-style baseline: the same word lists as case-insensitive substrings
  of the message (no normalisation, no whole-word matching, no context, no personal details);
* **glin** — glin-profanity 4.1 fed with the same word lists (on top of its own English list,
  which it always loads), its disguise handling at its strongest (``obfuscation="strict"``,
  aggressive leetspeak, Unicode normalisation).

Reported per engine: median and p99 time per 300-character message, messages/s (one core), and
precision / recall of "acted on", scored on the messages as written, for two tasks: *abusive*
(insult + profanity against ok) and *any* (insult, profanity, rude and personal details against
ok). The rules engine is not told the message language, as in the bot. The budget (rules
median ≤ 0.5 ms) is reported as PASS or FAIL; the exit code is 0 either way: benchmarks report,
they do not gate.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.machine import machine  # noqa: E402
from cogs.courtesy.engine import Engine, evaluate  # noqa: E402
from cogs.courtesy.lexicon import DATA_DIR, LEXICON_FILES  # noqa: E402
from cogs.courtesy.rules import build_settings  # noqa: E402

DEV_SET: Final = ROOT / "tests" / "cogs" / "courtesy" / "data" / "moderation_dev_cases.jsonl"
BUDGET_MEDIAN_MS: Final = 0.5
LENGTH: Final = 300
SEED: Final = 42
#: Word-list rules whose words the baselines get (rude phrasing and patterns are ours only).
BASELINE_RULES: Final = frozenset(
    {"insult.strong", "insult.directed", "insult.ambiguous", "profanity", "threat", "hate.slur"}
)
FILLER: Final = {
    "en": [
        "We reviewed the quarterly figures with the finance team.",
        "The new scheduling tool saves our nurses an hour a week.",
        "Clients mostly reach us through the website these days.",
        "I share case studies on professional networks twice a month.",
        "Our apprentices learn faster when they can ask questions online.",
        "The workshop on accessibility was well attended.",
        "Most of my leads still come from word of mouth.",
        "We keep the project notes in a shared document.",
    ],
    "fr": [
        "Nous avons revu les chiffres du trimestre avec la comptabilité.",
        "Le nouvel outil de planning fait gagner une heure par semaine.",
        "Nos clients nous contactent surtout par le site en ce moment.",
        "Je partage des études de cas deux fois par mois.",
        "Les apprentis progressent vite quand ils peuvent poser leurs questions.",
        "L'atelier sur l'accessibilité a attiré beaucoup de monde.",
        "La plupart de mes contacts viennent encore du bouche-à-oreille.",
        "Nous gardons les notes du projet dans un document partagé.",
    ],
}


@dataclass(frozen=True, slots=True)
class Case:
    """One labelled message, as written and padded to the benchmark length."""

    original: str
    text: str
    lang: str
    label: str


@dataclass(slots=True)
class Figures:
    """What one engine achieved."""

    engine: str
    median_ms: float
    p99_ms: float
    messages_per_second: float
    abusive_precision: float
    abusive_recall: float
    any_precision: float
    any_recall: float
    ok_acted: int
    pii_redacted: int | None


def load_cases(path: Path = DEV_SET, limit: int | None = None) -> list[Case]:
    """The dev set, each message padded with neutral sentences to exactly 300 characters."""
    rng = random.Random(SEED)
    cases: list[Case] = []
    with path.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    for row in rows[:limit]:
        parts = [row["text"]]
        while len(" ".join(parts)) < LENGTH:
            parts.append(rng.choice(FILLER[row["lang"]]))
        text = " ".join(parts)[:LENGTH]
        cases.append(Case(row["text"], text, row["lang"], row["label"]))
    return cases


def baseline_keywords() -> list[str]:
    """Every word and phrase of the lists the baselines may use, lower-cased."""
    words: set[str] = set()
    for name in LEXICON_FILES:
        with (DATA_DIR / name).open("rb") as handle:
            data = tomllib.load(handle)
        for table in data.get("terms", []):
            if table["rule"] in BASELINE_RULES:
                words.update(str(w).lower() for w in table.get("words", []))
    return sorted(words)


def keyword_engine(keywords: Sequence[str]) -> Callable[[str], bool]:
    """AutoMod-style: any keyword anywhere in the lower-cased text."""

    def acted(text: str) -> bool:
        lowered = text.lower()
        return any(keyword in lowered for keyword in keywords)

    return acted


def glin_engine(keywords: Sequence[str]) -> Callable[[str], bool]:
    """glin-profanity with our lists and its strongest disguise handling."""
    from glin_profanity import Filter

    profanity_filter = Filter(
        {
            "languages": [],
            "custom_words": list(keywords),
            "detect_leetspeak": True,
            "leetspeak_level": "aggressive",
            "normalize_unicode": True,
            "obfuscation": "strict",
        }
    )
    return profanity_filter.is_profane


def rules_engine() -> Callable[[str], bool]:
    """The courtesy engine with its semantic layer on (rules, context and semantic layer)."""
    engine = Engine(build_settings({"semantic": {"enabled": True}}))

    def acted(text: str) -> bool:
        return engine.evaluate(text).acted

    return acted


def rules_only_engine() -> Callable[[str], bool]:
    """The word rules and the context, without the semantic layer (version 1's baseline)."""
    engine = Engine(build_settings({"semantic": {"enabled": False}}))

    def acted(text: str) -> bool:
        return engine.evaluate(text).acted

    return acted


def benign_mix(messages: int = 2000) -> dict[str, float]:
    """The pipeline benchmark's benign answers (bench/pipeline.py), timed through the engine.

    What most messages of a circle cost: the share that passes the semantic layer's gate to
    the encoder, and the median and p99 time per message.
    """
    sys.path.insert(0, str(ROOT / "bench"))
    from pipeline import make_text

    rng = random.Random(SEED)
    texts = [make_text(rng) for _ in range(messages)]
    engine = Engine(build_settings({"semantic": {"enabled": True}}))
    engine.evaluate("warm-up: you are all idiots")  # loads the encoder
    timings: list[int] = []
    encoded = 0
    acted = 0
    for text in texts:
        started = time.perf_counter_ns()
        decision = engine.evaluate(text)
        timings.append(time.perf_counter_ns() - started)
        encoded += decision.semantic is not None and decision.semantic.layer != "gate"
        acted += decision.acted
    timings.sort()
    return {
        "messages": messages,
        "median_ms": statistics.median(timings) / 1e6,
        "p99_ms": timings[int(len(timings) * 0.99)] / 1e6,
        "to_encoder": encoded / messages,
        "acted": acted,
    }


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


def score(cases: Sequence[Case], verdicts: Sequence[bool], labels: set[str]) -> tuple[float, float]:
    """Precision and recall of "acted on" for ``labels`` against ``ok``."""
    relevant = [(c, v) for c, v in zip(cases, verdicts, strict=True) if c.label in labels | {"ok"}]
    true_positive = sum(1 for c, v in relevant if v and c.label in labels)
    false_positive = sum(1 for c, v in relevant if v and c.label == "ok")
    positives = sum(1 for c, _ in relevant if c.label in labels)
    return _ratio(true_positive, true_positive + false_positive), _ratio(true_positive, positives)


def measure(name: str, acted: Callable[[str], bool], cases: Sequence[Case], rounds: int) -> Figures:
    """Time ``acted`` on every padded case ``rounds`` times; score it on the messages as written.

    Quality is scored on the original messages: padding adds innocent words, and substring
    keywords fire on those ("con" in "contactent"), which would blur the comparison.
    """
    texts = [c.text for c in cases]
    for text in texts:  # warm-up
        acted(text)
    verdicts = [acted(c.original) for c in cases]
    timings: list[int] = []
    for _ in range(rounds):
        for text in texts:
            started = time.perf_counter_ns()
            acted(text)
            timings.append(time.perf_counter_ns() - started)
    timings.sort()
    total_s = sum(timings) / 1e9
    abusive = score(cases, verdicts, {"insult", "profanity"})
    anything = score(cases, verdicts, {"insult", "profanity", "rude", "pii"})
    return Figures(
        engine=name,
        median_ms=statistics.median(timings) / 1e6,
        p99_ms=timings[min(len(timings) - 1, int(len(timings) * 0.99))] / 1e6,
        messages_per_second=len(timings) / total_s if total_s else 0.0,
        abusive_precision=abusive[0],
        abusive_recall=abusive[1],
        any_precision=anything[0],
        any_recall=anything[1],
        ok_acted=sum(1 for c, v in zip(cases, verdicts, strict=True) if v and c.label == "ok"),
        pii_redacted=None,
    )


def pii_redacted(cases: Sequence[Case]) -> int:
    """How many personal-details messages the rules engine redacted."""
    return sum(
        1
        for c in cases
        if c.label == "pii" and evaluate(c.original).redacted_text not in (None, c.original)
    )


def run(rounds: int, with_glin: bool, limit: int | None = None) -> dict[str, Any]:
    """Measure every engine; the result as JSON-ready data."""
    cases = load_cases(limit=limit)
    keywords = baseline_keywords()
    engines: list[tuple[str, Callable[[str], bool], int]] = [
        ("rules+sem", rules_engine(), rounds),
        ("rules", rules_only_engine(), rounds),
        ("keywords", keyword_engine(keywords), rounds),
    ]
    if with_glin:
        engines.append(("glin", glin_engine(keywords), max(1, rounds // 5)))
    figures = [measure(name, acted, cases, n) for name, acted, n in engines]
    figures[0].pii_redacted = pii_redacted(cases)
    return {
        "messages": len(cases),
        "length": LENGTH,
        "rounds": rounds,
        "keywords": len(keywords),
        "pii_messages": sum(1 for c in cases if c.label == "pii"),
        "budget_median_ms": BUDGET_MEDIAN_MS,
        "budget": "PASS" if figures[0].median_ms <= BUDGET_MEDIAN_MS else "FAIL",
        "engines": [asdict(f) for f in figures],
        "benign_mix": benign_mix(),
        "machine": machine(),
    }


def report(result: dict[str, Any]) -> str:
    """The human table."""
    lines = [
        f"{result['messages']} labelled messages: timed padded to {result['length']} "
        f"characters ({result['rounds']} rounds), scored as written; "
        f"{result['keywords']} baseline keywords",
        "",
        f"{'engine':<10}{'median ms':>10}{'p99 ms':>9}{'msg/s':>9}"
        f"{'abusive P':>11}{'abusive R':>11}{'any P':>8}{'any R':>8}{'ok hit':>8}",
    ]
    for f in result["engines"]:
        lines.append(
            f"{f['engine']:<10}{f['median_ms']:>10.3f}{f['p99_ms']:>9.3f}"
            f"{f['messages_per_second']:>9.0f}{f['abusive_precision']:>11.1%}"
            f"{f['abusive_recall']:>11.1%}{f['any_precision']:>8.1%}{f['any_recall']:>8.1%}"
            f"{f['ok_acted']:>8}"
        )
    rules = result["engines"][0]
    lines += [
        "",
        f"personal details redacted by the rules: {rules['pii_redacted']}/{result['pii_messages']}",
        f"rules median {rules['median_ms']:.3f} ms "
        f"(budget ≤ {result['budget_median_ms']} ms: {result['budget']})",
        "benign mix ({messages} pipeline answers, rules+semantic): median {median_ms:.3f} ms "
        "(budget ≤ 0.5 ms: {median}), p99 {p99_ms:.3f} ms (budget ≤ 5 ms: {p99}), "
        "{to_encoder:.0%} reach the encoder, {acted} acted on".format(
            **result["benign_mix"],
            median="PASS" if result["benign_mix"]["median_ms"] <= 0.5 else "FAIL",
            p99="PASS" if result["benign_mix"]["p99_ms"] <= 5 else "FAIL",
        ),
        "machine: {cpus} CPUs, {cpu}, {memory}, Python {python}, {date}".format(
            **result["machine"]
        ),
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=20, help="timed passes over the messages")
    parser.add_argument("--limit", type=int, help="use only the first N messages (smoke tests)")
    parser.add_argument("--no-glin", action="store_true", help="skip the glin-profanity column")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    result = run(max(1, args.rounds), not args.no_glin, args.limit)
    print(json.dumps(result, indent=2) if args.json else report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
