"""Run every benchmark in ``bench/`` and summarise.

``.venv/bin/python bench/run_all.py`` (or ``make bench``) runs each ``bench/*.py`` except this
file, ``machine.py`` and ``__init__.py``, one subprocess each with this interpreter and default
arguments, from the repository root. Each prints its own figures under a header; a summary
table follows. The exit code is non-zero only when a benchmark crashed (exited non-zero): a
benchmark that misses its budget still exits 0, budgets are reported, not enforced.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

BENCH_DIR: Final = Path(__file__).resolve().parent
ROOT: Final = BENCH_DIR.parent
#: Not benchmarks: this runner, and the machine description the benchmarks share.
SKIP: Final = frozenset({Path(__file__).name, "__init__.py", "machine.py"})


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one benchmark script ended."""

    name: str
    returncode: int
    seconds: float


def benchmarks() -> list[Path]:
    """The benchmark scripts, in name order."""
    return sorted(p for p in BENCH_DIR.glob("*.py") if p.name not in SKIP)


def run_one(script: Path) -> Outcome:
    """Run ``script`` in its own process, its output going straight to ours."""
    started = time.perf_counter()
    completed = subprocess.run([sys.executable, str(script)], cwd=ROOT, check=False)
    return Outcome(script.stem, completed.returncode, time.perf_counter() - started)


def summary(outcomes: list[Outcome]) -> str:
    """The final table: name, exit code, seconds."""
    width = max([len("benchmark"), *(len(o.name) for o in outcomes)])
    lines = [f"{'benchmark':<{width}}  {'exit':>4}  {'seconds':>8}"]
    lines.append(f"{'-' * width}  {'-' * 4}  {'-' * 8}")
    for o in outcomes:
        flag = "" if o.returncode == 0 else "  CRASHED"
        lines.append(f"{o.name:<{width}}  {o.returncode:>4}  {o.seconds:>8.1f}{flag}")
    return "\n".join(lines)


def main() -> int:
    """Run them all; 1 if any crashed."""
    scripts = benchmarks()
    if not scripts:
        print(f"no benchmark found in {BENCH_DIR}")
        return 0
    outcomes: list[Outcome] = []
    for script in scripts:
        print(f"\n=== {script.stem} ({script.relative_to(ROOT)}) ===", flush=True)
        outcomes.append(run_one(script))
    print("\n=== summary ===")
    print(summary(outcomes))
    return 1 if any(o.returncode != 0 for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
