"""``cercle moderate``: JSON lines in, decisions out, a summary table, bad lines reported."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from cogs.courtesy.batch import run

CERCLE = Path(sys.executable).with_name("cercle")
DEV_SET = Path(__file__).parent / "data" / "moderation_dev_cases.jsonl"


def test_the_dev_set_through_the_command_line(tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"
    result = subprocess.run(
        [str(CERCLE), "moderate", "--input", str(DEV_SET), "--output", str(output)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    rows = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 141
    for row in rows:
        assert {"text", "lang", "label", "note", "action", "category", "rule"} <= set(row)
        assert row["action"] in {"allow", "nudge", "warn", "redact", "hide", "hold"}
        assert ("redacted_text" in row) == (row["label"] == "pii")
    assert "moderated 141 line(s), 0 unreadable" in result.stderr
    assert "label" in result.stderr and "acted" in result.stderr  # the labelled table


def test_unreadable_lines_are_reported_skipped_and_fail_the_run(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(
        b'{"text": "Bonjour", "lang": "fr"}\n'
        b"not json\n"
        b"\n"
        b'["a list"]\n'
        b'{"txt": "no text"}\n'
        b"\xff\xfe\n"
        b'{"text": "Appelle-moi au 06 12 34 56 78", "id": 7}\n'
        b'{"text": "x", "at": "yesterday"}\n'
    )
    out, err = io.StringIO(), io.StringIO()
    assert run(source, stdout=out, stderr=err) == 1
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [row["action"] for row in rows] == ["allow", "redact"]
    assert rows[1]["id"] == 7 and rows[1]["redacted_text"] == "Appelle-moi au •• •• •• •• ••"
    assert rows[0]["rule"] is None and "redacted_text" not in rows[0]
    errors = err.getvalue()
    for number in (2, 4, 5, 6, 8):
        assert f"line {number}:" in errors
    assert "line 3:" not in errors  # blank lines are not errors
    assert "moderated 2 line(s), 5 unreadable" in errors


def test_a_rules_file_changes_the_decisions(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "Merde alors"}\n', encoding="utf-8")
    config = tmp_path / "rules.toml"
    config.write_text('[rules."profanity"]\naction = "hide"\nstrikes = 1\n', encoding="utf-8")
    out = io.StringIO()
    assert run(source, config_path=config, stdout=out, stderr=io.StringIO()) == 0
    assert json.loads(out.getvalue())["action"] == "hide"


def test_a_bad_rules_file_is_refused_before_reading(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "x"}\n', encoding="utf-8")
    config = tmp_path / "rules.toml"
    config.write_text('[rules."profanity"]\naction = "ban"\n', encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    assert run(source, config_path=config, stdout=out, stderr=err) == 2
    assert out.getvalue() == "" and "'ban' is not one of" in err.getvalue()
    assert run(tmp_path / "missing.jsonl", stdout=out, stderr=err) == 2


def test_stateful_rules_use_the_times_in_the_file(tmp_path: Path) -> None:
    lines = [
        {"text": "Achetez ma formation !", "author": "bob", "at": f"2026-01-05T09:0{i}:00+00:00"}
        for i in range(3)
    ]
    lines.append(
        {
            "text": "https://promo.example/x",
            "author": "new",
            "at": "2026-01-05T09:00:00+00:00",
            "joined_at": "2026-01-05T08:30:00+00:00",
        }
    )
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(line) for line in lines), encoding="utf-8")
    out = io.StringIO()
    assert run(source, stdout=out, stderr=io.StringIO()) == 0
    rules = [json.loads(line)["rule"] for line in out.getvalue().splitlines()]
    assert rules == [None, None, "flood.repeat", "spam.link"]
