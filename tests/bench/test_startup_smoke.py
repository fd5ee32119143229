"""The start-up benchmark runs end to end; a console run loads no platform's library."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "startup.py"


@pytest.mark.slow
def test_startup_benchmark_reports_a_console_run_beside_its_baseline() -> None:
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), "--runs", "1", "--json"],
        capture_output=True,
        text=True,
        timeout=200,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    # A console run imports none of discord.py, matrix-nio, aiohttp, the digest's encoder.
    assert result["unused_imported"] == []
    assert result["modules"] > 100
    for key in ("ready_seconds", "idle_rss_mib", "baseline_seconds", "baseline_rss_mib"):
        value = result[key]
        assert isinstance(value, int | float) and not isinstance(value, bool) and value > 0, key
    assert result["ready_seconds"] > result["baseline_seconds"]
