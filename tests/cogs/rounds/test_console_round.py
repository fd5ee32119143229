"""A week of a circle scripted through the console, as a host would try it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CERCLE = Path(sys.executable).with_name("cercle")
SCRIPT = Path(__file__).parents[3] / "examples" / "first-week.txt"


def test_scripted_week_through_the_console(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CERCLE_")}
    result = subprocess.run(
        [
            str(CERCLE),
            "run",
            "--clock",
            "fake",
            "--host",
            "hana",
            "--start",
            "2026-01-05T10:00+01:00",
        ],
        input=SCRIPT.read_text(encoding="utf-8"),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    blocks = out.split("\n\n")
    # The host opened a round: the prompt in the channel, then answers in its thread.
    assert "[#circle] Cercle:\n**Tour n°1 — la question de la semaine**" in out
    # The reminder, one day before the close: counts and who is missing, no ping.
    reminder = next(b for b in blocks if "Ce tour se termine dans" in b)
    assert "3 réponses de 3 métiers" in reminder
    assert "Avocat" in reminder
    # /circle status by the host, before and after the close, counts by profession.
    statuses = [b for b in blocks if "[private → hana]" in b and "Tour n°1" in b]
    assert len(statuses) == 2
    assert "3 réponses et 1 commentaire" in statuses[0]
    assert "Infirmier / Infirmière : 1 réponse, 0 commentaire" in statuses[0]
    assert "Développeur / Développeuse : 1 réponse, 1 commentaire" in statuses[0]
    assert "(clos)" in statuses[1]
    assert "Ce tour est clos : 3 réponses de 3 métiers" in out
