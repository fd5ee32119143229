"""The moderation quality benchmark prints its figures as JSON when asked (``--json``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "moderation_quality.py"
CASES = [
    {"text": "Je poste mes chantiers sur Instagram le lundi.", "lang": "fr", "label": "ok"},
    {"text": "I share my renderings on LinkedIn.", "lang": "en", "label": "ok"},
    {"text": "je sais où tu habites, fais gaffe à toi", "lang": "fr", "label": "threat"},
    {"text": "You are a worthless idiot.", "lang": "en", "label": "insult"},
]


def test_json_output_holds_every_family_and_language_counted(tmp_path: Path) -> None:
    cases = tmp_path / "set.jsonl"
    cases.write_text("\n".join(json.dumps(c) for c in CASES) + "\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--set", str(cases), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["messages"] == 4
    assert result["labels"] == {"ok/fr": 1, "ok/en": 1, "threat/fr": 1, "insult/en": 1}
