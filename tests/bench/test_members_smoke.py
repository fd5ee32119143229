"""The per-member memory benchmark runs end to end; its caches stay within their bound."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "members.py"


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
