"""The votes benchmark runs end to end and reports its figures (speed is never asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "votes.py"


@pytest.mark.slow
def test_votes_benchmark_runs_and_reports_json() -> None:
    args = ["--members", "40", "--statements", "6", "--votes", "150", "--pipeline", "40"]
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), *args, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    rank = result["rank"]
    assert rank["votes"] == 150 and rank["statements"] == 6
    assert rank["same_figures"] is True  # ours and the naive recount agree on every figure
    for key in ("rank_s", "naive_s"):
        assert isinstance(rank[key], float), key
    pipe = result["pipeline"]
    assert pipe["stored"] == pipe["votes"] == pipe["replies"] == 40
    # The budget's verdict and ratio, and the answers measured beside the votes in the run.
    assert pipe["passed"] == (pipe["votes_per_second"] >= pipe["budget_per_second"] == 2000)
    assert pipe["ratio"] == round(pipe["votes_per_second"] / 2000, 3)
    answers = result["answers"]
    assert answers["stored"] >= answers["answers"] > 0 and answers["answers_per_second"] > 0
    # --check gates on the verdict: exit 1 below the budget, 0 at or above it.
    checked = subprocess.run(
        [sys.executable, str(SCRIPT), *args, "--json", "--check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    again = json.loads(checked.stdout)["pipeline"]
    assert checked.returncode == (0 if again["passed"] else 1), checked.stderr
