"""The catch-up benchmark runs end to end and reports its figures (speed is never asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "catchup.py"


@pytest.mark.slow
def test_catchup_benchmark_runs_and_reports_json_beside_its_baseline() -> None:
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), "--messages", "120", "--members", "30", "--json"],
        capture_output=True,
        text=True,
        timeout=200,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert result["problems"] == []
    assert result["answers_stored"] == 120
    assert result["events_settled"] == 1 + 30 + 120  # the round, the live answers, the backlog
    for key in ("messages_per_second", "baseline_rows_per_second", "ratio", "cpu_ms_per_message"):
        value = result[key]
        assert isinstance(value, int | float) and not isinstance(value, bool) and value > 0, key
    assert result["ratio"] == pytest.approx(
        result["messages_per_second"] / result["baseline_rows_per_second"], rel=0.01
    )


def test_catchup_benchmark_refuses_a_workload_that_would_trip_the_flood_rule() -> None:
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), "--messages", "100", "--members", "10"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 2
    assert "at most 5 queued answers a member" in completed.stderr
