"""The pipeline benchmark runs end to end and reports its figures (speed is never asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "pipeline.py"


@pytest.mark.slow
def test_pipeline_benchmark_runs_and_reports_json() -> None:
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), "--messages", "50", "--authors", "5", "--json"],
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert result["messages"] == 50
    for key in ("messages_per_second", "p50_ms", "p99_ms"):
        value = result[key]
        assert isinstance(value, int | float) and not isinstance(value, bool), key
    assert result["problems"] == []
    assert result["rows_stored"] == result["warmup"] + 50
