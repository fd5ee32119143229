"""The moderation benchmark runs end to end and reports its figures (speed is never asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "bench" / "moderation.py"


@pytest.mark.slow
def test_moderation_benchmark_runs_and_reports_json() -> None:
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), "--rounds", "1", "--limit", "30", "--json"],
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert result["messages"] == 30
    assert [e["engine"] for e in result["engines"]] == ["rules+sem", "rules", "keywords", "glin"]
    for engine in result["engines"]:
        for key in ("median_ms", "p99_ms", "messages_per_second", "abusive_recall"):
            assert isinstance(engine[key], int | float), key
    assert result["budget"] in {"PASS", "FAIL"}
