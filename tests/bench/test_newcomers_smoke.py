"""The newcomer-burst benchmark runs end to end, both bots side by side (speed never asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "newcomers.py"


@pytest.mark.slow
def test_newcomers_benchmark_reports_newcomers_beside_known_members() -> None:
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), "--members", "40", "--json"],
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    result = json.loads(completed.stdout)
    assert result["newcomers"]["stored"] == result["known"]["stored"] == 40
    assert result["ratio"] > 0 and isinstance(result["passed"], bool)
