"""Moderation quality out of sample: precision and recall per family and per language.

Run it as ``.venv/bin/python bench/moderation_quality.py [--set FILE] [--json]``.

The messages are the held-out evaluation split (``tests/cogs/courtesy/data/moderation_eval.jsonl``),
written apart from the training corpus (``cogs/courtesy/data/corpus/``) by someone who never
read it, and never used to tune anything. Three engines judge the same messages, side by side
in the same run:

* **keywords** — an AutoMod-style baseline: the shipped word lists as substrings;
* **rules** — the courtesy engine with its semantic layer off (version 1's judgement);
* **rules+semantic** — the same with its semantic layer on (``[semantic] enabled = true``;
  ``cercle moderate`` runs the same engine).

For each harmful family: recall (the share of its messages acted on in any way) and, for the
two engines that name a family, the share named right. For acceptable messages: the false
positive rate (acted on at all). Recall per language is over every harmful message. Budgets
(false positives ≤ 2%, recall ≥ 0.90 per language and ≥ 0.80 per family) are reported PASS or
FAIL; the exit code is 0 either way.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from moderation import baseline_keywords, keyword_engine, machine  # noqa: E402

from cogs.courtesy.engine import Engine  # noqa: E402
from cogs.courtesy.rules import build_settings  # noqa: E402

EVAL_SET: Final = ROOT / "tests" / "cogs" / "courtesy" / "data" / "moderation_eval.jsonl"
FAMILIES: Final = ("threat", "hate", "spam", "rude", "insult", "profanity", "pii")
MAX_FALSE_POSITIVES: Final = 0.02
MIN_RECALL_LANG: Final = 0.90
MIN_RECALL_FAMILY: Final = 0.80

Judge = Callable[[str], tuple[bool, str]]


def load(path: Path) -> list[dict[str, str]]:
    """The labelled messages of a JSON-lines file."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def engine_judge(engine: Engine) -> Judge:
    """Acted on, and the family named (the decision's category)."""

    def judge(text: str) -> tuple[bool, str]:
        decision = engine.evaluate(text)
        return decision.acted, str(decision.category)

    return judge


def keyword_judge() -> Judge:
    """The keyword baseline names no family."""
    acted = keyword_engine(baseline_keywords())

    def judge(text: str) -> tuple[bool, str]:
        return acted(text), ""

    return judge


def score(cases: Sequence[dict[str, str]], judge: Judge) -> dict[str, Any]:
    """Recall per family and language, right family, false positives, time per message."""
    caught: Counter[str] = Counter()
    named: Counter[str] = Counter()
    total: Counter[str] = Counter()
    by_lang: dict[str, Counter[str]] = defaultdict(Counter)
    false_positives: list[str] = []
    ok_by_lang: Counter[str] = Counter()
    fp_by_lang: Counter[str] = Counter()
    started = time.perf_counter()
    for case in cases:
        acted, family = judge(case["text"])
        label, lang = case["label"], case["lang"]
        if label == "ok":
            ok_by_lang[lang] += 1
            if acted:
                fp_by_lang[lang] += 1
                false_positives.append(case["text"])
            continue
        total[label] += 1
        by_lang[lang]["total"] += 1
        if acted:
            caught[label] += 1
            by_lang[lang]["caught"] += 1
            named[label] += family == label
    seconds = time.perf_counter() - started
    ok_total = sum(ok_by_lang.values())
    return {
        "recall": {f: caught[f] / total[f] if total[f] else None for f in FAMILIES},
        "named": {f: named[f] / total[f] if total[f] else None for f in FAMILIES},
        "counts": dict(total),
        "recall_by_lang": {
            lang: c["caught"] / c["total"] if c["total"] else None
            for lang, c in sorted(by_lang.items())
        },
        "false_positive_rate": sum(fp_by_lang.values()) / ok_total if ok_total else None,
        "false_positives_by_lang": {
            lang: fp_by_lang[lang] / n for lang, n in sorted(ok_by_lang.items()) if n
        },
        "ok": ok_total,
        "false_positives": false_positives,
        "ms_per_message": 1000 * seconds / len(cases) if cases else 0.0,
    }


def run(path: Path) -> dict[str, Any]:
    """Every engine on the set at ``path``."""
    cases = load(path)
    rules_only = Engine(build_settings({"semantic": {"enabled": False}}))
    full = Engine(build_settings({"semantic": {"enabled": True}}))
    if full.model is None:
        print("the semantic model is not built: run `make moderation-model`", file=sys.stderr)
    full.evaluate("warm up the encoder: you are all idiots")
    return {
        "machine": machine(),
        "set": str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path),
        "messages": len(cases),
        # "family/lang" keys: JSON has no tuple keys (``--json`` prints this dict).
        "labels": {
            f"{label}/{lang}": n
            for (label, lang), n in Counter((c["label"], c["lang"]) for c in cases).most_common()
        },
        "engines": {
            "keywords": score(cases, keyword_judge()),
            "rules": score(cases, engine_judge(rules_only)),
            "rules+semantic": score(cases, engine_judge(full)),
        },
    }


def _pct(value: float | None) -> str:
    return "  —  " if value is None else f"{value:5.0%}"


def report(result: dict[str, Any]) -> str:
    """The figures as a table, with the budgets."""
    engines = result["engines"]
    names = list(engines)
    lines = [
        f"moderation quality on {result['set']} ({result['messages']} messages, out of sample)",
        "recall (acted on) per family [right family named]:",
        f"  {'family':<10} {'n':>4}  " + "  ".join(f"{n:>18}" for n in names),
    ]
    for family in FAMILIES:
        n = engines["rules"]["counts"].get(family, 0)
        cells = []
        for name in names:
            e = engines[name]
            cell = _pct(e["recall"][family])
            if name != "keywords":
                cell += f" [{_pct(e['named'][family]).strip()}]"
            cells.append(f"{cell:>18}")
        lines.append(f"  {family:<10} {n:>4}  " + "  ".join(cells))
    for lang in sorted(engines["rules"]["recall_by_lang"]):
        cells = "  ".join(f"{_pct(engines[n]['recall_by_lang'].get(lang)):>18}" for n in names)
        lines.append(f"  recall {lang:<3}       " + cells)
    cells = "  ".join(f"{_pct(engines[n]['false_positive_rate']):>18}" for n in names)
    lines.append(f"  false pos. (n={engines['rules']['ok']}) " + cells)
    cells = "  ".join(f"{engines[n]['ms_per_message']:>15.2f} ms" for n in names)
    lines.append("  time/message    " + cells)
    full = engines["rules+semantic"]
    fp = full["false_positive_rate"] or 0
    verdicts = [
        f"false positives {fp:.1%} (budget ≤ {MAX_FALSE_POSITIVES:.0%}: "
        f"{'PASS' if fp <= MAX_FALSE_POSITIVES else 'FAIL'})",
        *(
            f"recall {lang} {value or 0:.2f} (budget ≥ {MIN_RECALL_LANG:.2f}: "
            f"{'PASS' if (value or 0) >= MIN_RECALL_LANG else 'FAIL'})"
            for lang, value in full["recall_by_lang"].items()
        ),
        *(
            f"recall {family} {full['recall'][family]:.2f} (budget ≥ {MIN_RECALL_FAMILY:.2f}: "
            f"{'PASS' if full['recall'][family] >= MIN_RECALL_FAMILY else 'FAIL'})"
            for family in FAMILIES
            if full["recall"][family] is not None
        ),
    ]
    lines.append("budgets (rules+semantic): " + ", ".join(verdicts))
    lines.append(f"machine: {result['machine']}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", type=Path, default=EVAL_SET, help="labelled JSON lines")
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON")
    parser.add_argument(
        "--show-false-positives", action="store_true", help="list the acceptable messages acted on"
    )
    args = parser.parse_args(argv)
    if not args.set.exists():
        print(f"no evaluation set at {args.set}", file=sys.stderr)
        return 0
    result = run(args.set.resolve())
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print(report(result))
        if args.show_false_positives:
            for text in result["engines"]["rules+semantic"]["false_positives"]:
                print("  FP:", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
