"""make bench's summary reads every budget a benchmark prints, with its ratio (#17)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("run_all_bench", ROOT / "bench" / "run_all.py")
assert spec is not None and spec.loader is not None
run_all = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = run_all
spec.loader.exec_module(run_all)


def test_each_budget_of_a_line_is_its_own_with_its_ratio() -> None:
    line = "benign mix: median 0.2 ms (budget ≤ 0.5 ms: PASS), p99 7.5 ms (budget ≤ 5 ms: FAIL)"
    first, second = run_all.budgets_in(line)
    assert (first.passed, first.ratio, first.line) == (
        True,
        0.4,
        "benign mix: median 0.2 ms (budget ≤ 0.5 ms: PASS)",
    )
    assert (second.passed, second.ratio, second.line) == (
        False,
        1.5,
        "p99 7.5 ms (budget ≤ 5 ms: FAIL)",
    )


def test_a_figure_with_thousands_and_a_sign_gets_its_ratio() -> None:
    (one,) = run_all.budgets_in("throughput  1,155 messages/s (budget ≥ 2,000: FAIL)")
    assert (one.passed, one.ratio) == (False, 0.58)
    (rss,) = run_all.budgets_in("RSS +10.7 MiB (budget ≤ +8 MiB: FAIL, ratio 1.34)")
    assert (rss.passed, rss.ratio) == (False, 1.34)


def test_a_verdict_without_a_figure_is_still_reported() -> None:
    (row,) = run_all.budgets_in("fr | digest phrases | 5/5 | PASS")
    assert row.passed and row.ratio is None
    assert run_all.budgets_in("no verdict here: 3 ms") == []
