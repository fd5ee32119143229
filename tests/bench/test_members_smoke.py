"""The per-member memory benchmark runs end to end; its caches stay within their bound."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
SCRIPT = BENCH / "members.py"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"{name}_bench", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_members_benchmark_reports_memory_at_a_tenth_and_at_the_end() -> None:
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), "--members", "60", "--json"],
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    result = json.loads(completed.stdout)
    assert result["answers_stored"] == 60
    assert 0 < result["rss_early_mib"] <= result["rss_end_mib"] + 50
    assert result["caches"]["courtesy first seen"] == result["caches"]["rounds asked"] == 60


@pytest.mark.parametrize(
    ("early", "end", "ratio"), [(123.3, 134.0, "1.34"), (120.0, 119.6, "-0.05")]
)
def test_the_printed_ratio_is_the_growth_over_its_budget_as_make_bench_reads_it(
    early: float, end: float, ratio: str
) -> None:
    members, run_all = _load("members"), _load("run_all")
    growth = round(end - early, 1)
    result = members.Result(
        members=100_000,
        early_members=10_000,
        rss_early_mib=early,
        rss_end_mib=end,
        growth_mib=growth,
        budget_growth_mib=8.0,
        passed=growth <= 8.0,
        caches={},
        seconds=150.0,
        answers_stored=100_000,
        machine={},
    )
    text = members.report(result)
    (budget,) = run_all.budgets_in(text)
    assert f"ratio {ratio})" in text
    assert budget.ratio == float(ratio) and budget.passed == (growth <= 8.0)
