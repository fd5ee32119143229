"""The digest benchmark's embedding-job case runs end to end and reports its figures (speed
is never asserted): every new answer embedded, the stall measured, the verdict from it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "digest.py"


@pytest.mark.slow
def test_the_embedding_job_case_embeds_every_new_answer_and_reports_its_stalls() -> None:
    args = ["--sizes", "", "--job", "120", "--new", "30", "--json"]
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    assert report["machine"]
    jobs = {r["mode"]: r for r in report["results"]}
    assert set(jobs) == {"idle", "reload", "incremental"}
    assert jobs["idle"]["sentences_embedded"] == 0
    for mode in ("reload", "incremental"):
        job = jobs[mode]
        assert job["answers"] == 120 and job["new"] == 30
        assert job["sentences_embedded"] >= 30, mode  # the new answers, every sentence once
        assert job["left_without_vectors"] == 0, mode
        assert job["max_stall_ms"] >= job["p99_stall_ms"] >= 0 and job["beats"] > 0, mode
    assert jobs["reload"]["sentences_embedded"] == jobs["incremental"]["sentences_embedded"]
