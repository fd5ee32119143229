"""Run every benchmark in ``bench/`` and summarise.

``.venv/bin/python bench/run_all.py [--check] [--only NAME ...]`` (or ``make bench``) runs each
``bench/*.py`` except this file, ``machine.py`` and ``__init__.py``, one subprocess each with
this interpreter, from the repository root: default arguments, except the benchmarks measured
on both capability profiles (:data:`RUNS`). Each prints its own figures under a header; two
tables follow: every run (exit code, seconds) and every budget a benchmark reported (the lines
saying PASS or FAIL), with the measured figure's ratio to its budget where the line gives both
(``412 messages/s (budget ≥ 2,000: FAIL)`` → 0.21). The exit code is non-zero when a benchmark
crashed (exited non-zero) or, with ``--check``, when any budget failed.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

BENCH_DIR: Final = Path(__file__).resolve().parent
ROOT: Final = BENCH_DIR.parent
#: Not benchmarks: this runner, and the machine description the benchmarks share.
SKIP: Final = frozenset({Path(__file__).name, "__init__.py", "machine.py"})
#: Benchmarks run more than once, with these arguments (the others: once, no arguments).
RUNS: Final[dict[str, tuple[tuple[str, ...], ...]]] = {
    "pipeline": (
        ("--profile", "discord"),
        ("--profile", "matrix"),
        ("--profile", "discord", "--without-courtesy"),
        ("--profile", "matrix", "--without-courtesy"),
    ),
    "newcomers": (("--profile", "discord"), ("--profile", "matrix")),
}
#: A measured figure and the budget it is held to: ``412 messages/s (budget ≥ 2,000: FAIL)``,
#: ``86.7 MiB (budget ≤ 80 MiB: FAIL)``, ``+3.1 MiB (budget ≤ +8 MiB: PASS, ...)``; a line may
#: hold several (``median 0.2 ms (budget ≤ 0.5 ms: PASS), p99 3.6 ms (budget ≤ 5 ms: PASS)``).
_FIGURE_RE: Final = re.compile(
    r"([+-]?[\d,]*\.?\d+)\s*([^\s(]*)\s*\(budget\s*([≤≥<>]=?)\s*\+?([\d,]*\.?\d+)"
    r"[^():]*:\s*(PASS|FAIL)\b"
)


@dataclass(frozen=True, slots=True)
class Budget:
    """One budget a benchmark reported."""

    line: str
    passed: bool
    #: The measured figure over its budget (≥ 1 is good for a floor, ≤ 1 for a ceiling).
    ratio: float | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one benchmark run ended."""

    name: str
    returncode: int
    seconds: float
    budgets: list[Budget] = field(default_factory=list)


def benchmarks() -> list[Path]:
    """The benchmark scripts, in name order."""
    return sorted(p for p in BENCH_DIR.glob("*.py") if p.name not in SKIP)


def budgets_in(output: str) -> list[Budget]:
    """The budgets a benchmark's output reports: its lines saying PASS or FAIL, one budget for
    each figure held to a budget when the line gives them, else the line as one budget."""
    found: list[Budget] = []
    for raw in output.splitlines():
        line = raw.strip()
        passes, fails = len(re.findall(r"\bPASS\b", line)), len(re.findall(r"\bFAIL\b", line))
        if not passes and not fails:
            continue
        figures = list(_FIGURE_RE.finditer(line))
        if not figures or len(figures) != passes + fails:
            found.append(Budget(line, passed=fails == 0, ratio=None))
            continue
        start = 0
        for match in figures:
            value = float(match.group(1).replace(",", ""))
            limit = float(match.group(4).replace(",", ""))
            ratio = round(value / limit, 2) if limit else None
            # Several on a line: each shown with the words before it ("p99 3.6 ms (...)").
            shown = line if len(figures) == 1 else line[start : match.end()].strip(" ,;") + ")"
            start = match.end() + 1
            found.append(Budget(shown, passed=match.group(5) == "PASS", ratio=ratio))
    return found


def run_one(script: Path, arguments: Sequence[str] = ()) -> Outcome:
    """Run ``script`` in its own process, its output going to ours as it comes."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, str(script), *arguments],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    for line in process.stdout:
        print(line, end="", flush=True)
        lines.append(line)
    returncode = process.wait()
    name = " ".join([script.stem, *arguments])
    return Outcome(name, returncode, time.perf_counter() - started, budgets_in("".join(lines)))


def summary(outcomes: list[Outcome]) -> str:
    """The final tables: every run (exit code, seconds), then every budget reported."""
    width = max([len("benchmark"), *(len(o.name) for o in outcomes)])
    lines = [f"{'benchmark':<{width}}  {'exit':>4}  {'seconds':>8}"]
    lines.append(f"{'-' * width}  {'-' * 4}  {'-' * 8}")
    for o in outcomes:
        flag = "" if o.returncode == 0 else "  CRASHED"
        lines.append(f"{o.name:<{width}}  {o.returncode:>4}  {o.seconds:>8.1f}{flag}")
    lines += ["", "budgets (ratio: the measured figure over its budget)"]
    for o in outcomes:
        for budget in o.budgets:
            verdict = "PASS" if budget.passed else "FAIL"
            ratio = "  —  " if budget.ratio is None else f"{budget.ratio:5.2f}"
            lines.append(f"  {verdict}  {ratio}  {o.name}: {budget.line[:150]}")
        if not o.budgets:
            lines.append(f"  ----   —    {o.name}: no budget reported")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 when any budget failed")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="only these benchmarks")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run them all; 1 if any crashed (or, with --check, missed a budget)."""
    args = parse_args(argv)
    scripts = [s for s in benchmarks() if not args.only or s.stem in args.only]
    if not scripts:
        print(f"no benchmark found in {BENCH_DIR}")
        return 0
    outcomes: list[Outcome] = []
    for script in scripts:
        for arguments in RUNS.get(script.stem, ((),)):
            name = " ".join([str(script.relative_to(ROOT)), *arguments])
            print(f"\n=== {script.stem} ({name}) ===", flush=True)
            outcomes.append(run_one(script, arguments))
    print("\n=== summary ===")
    print(summary(outcomes))
    crashed = any(o.returncode != 0 for o in outcomes)
    failed = any(not b.passed for o in outcomes for b in o.budgets)
    return 1 if crashed or (args.check and failed) else 0


if __name__ == "__main__":
    sys.exit(main())
