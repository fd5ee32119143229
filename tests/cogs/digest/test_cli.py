"""`cercle digest --from-jsonl` and `cercle demo`, as a user runs them."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from bot.cli import main

LINES = [
    {"profession": "nurse", "text": "Les insultes en commentaires m'ont blessée.", "lang": "fr"},
    {"profession": "infirmière", "text": "Hateful insults under my posts hurt me."},
    {"profession": "nurse", "text": "Le secret médical m'empêche de parler de mes patients."},
    {
        "profession": "lawyer",
        "text": "Trolls posted insulting comments on my page.",
        "author": "l1",
    },
    {
        "profession": "lawyer",
        "text": "J'ai reçu des insultes dans les commentaires.",
        "author": "l2",
    },
    {"profession": "avocate", "text": "LinkedIn brings me new clients.", "author": "l3"},
    {"profession": "baker", "text": "Des insultes sous mes photos de pain, quelle tristesse."},
]


@pytest.fixture
def jsonl(tmp_path: Path) -> Path:
    path = tmp_path / "answers.jsonl"
    body = "\n".join(json.dumps(line, ensure_ascii=False) for line in LINES)
    path.write_text(body + "\n", encoding="utf-8")
    return path


def test_digest_json(jsonl: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["digest", "--from-jsonl", str(jsonl), "--format", "json", "--lang", "en"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"participation", "shared_themes", "distinctive_themes", "not_heard"} <= set(data)
    assert data["participation"]["answers"] == len(LINES)
    # Wordings are matched to the vocabulary: "infirmière" is a nurse, "avocate" a lawyer.
    # The lone baker is under "other professions": fewer than 3 answerers are never named.
    professions = {p["profession"] for p in data["participation"]["by_profession"]}
    assert professions == {"nurse", "lawyer", "other"}
    shared = data["shared_themes"][0]
    assert {"label", "professions", "answers", "quote"} <= set(shared)
    assert shared["answers"] >= 5


def test_digest_markdown_to_a_folder(jsonl: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code = main(["digest", "--from-jsonl", str(jsonl), "--out", str(out), "--expect", "judge"])
    assert code == 0
    text = (out / "digest.md").read_text(encoding="utf-8")
    assert "Ce que les métiers partagent" in text and "Magistrat" in text
    assert (out / "participation.png").read_bytes().startswith(b"\x89PNG")


def test_unreadable_lines_are_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"profession": "nurse"}\nnot json\n', encoding="utf-8")
    assert main(["digest", "--from-jsonl", str(path), "--format", "json"]) == 1
    err = capsys.readouterr().err
    assert "line 1" in err and "line 2" in err


def test_demo_runs_a_week_and_saves_every_section(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["demo"]) == 0
    captured = capsys.readouterr()
    text = (tmp_path / "demo-out" / "digest.md").read_text(encoding="utf-8")
    assert text.strip() in captured.out
    for section in (
        "Synthèse — tour n°1",
        "Participation",
        "Ce que les métiers partagent",
        "Ce qui distingue chaque métier",
        "Que vous manque-t-il ?",
        "Qu’est-ce qui vous a déçu ?",
        "Accords entre métiers",
        "**Où les métiers s’accordent**\n• n°1 « ",  # statements drafted and voted on in French
        "Question de suivi suggérée",
    ):
        assert section in text, section
    assert (tmp_path / "demo-out" / "participation.png").read_bytes().startswith(b"\x89PNG")
    page = (tmp_path / "demo-out" / "digest.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "Synthèse — tour n°1" in page
    assert "data:image/png;base64," in page and "idiot" not in page
    data = json.loads((tmp_path / "demo-out" / "digest.json").read_text(encoding="utf-8"))
    assert data["participation"]["answers"] >= 100
    assert len(data["participation"]["by_profession"]) >= 10
    assert set(data["participation"]["by_language"]) == {"fr", "en"}
    # Courtesy acted on the rude and personal-detail messages: none is quoted.
    assert "jean.dupont@example.com" not in text and "idiot" not in text
    assert "question de la semaine" in captured.err and "⏳" in captured.err


def test_digest_html_is_one_page_with_the_chart_inside(
    jsonl: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["digest", "--from-jsonl", str(jsonl), "--format", "html", "--lang", "en"]) == 0
    page = capsys.readouterr().out
    assert page.startswith("<!DOCTYPE html>") and '<html lang="en">' in page
    assert "Shared across professions" in page and "Suggested follow-up question" in page
    [chart] = re.findall(r'<img src="data:image/png;base64,([^"]+)"', page)
    assert base64.b64decode(chart).startswith(b"\x89PNG")
    assert "http://" not in page and "https://" not in page and "<script" not in page
    out = tmp_path / "out"
    assert main(["digest", "--from-jsonl", str(jsonl), "--format", "html", "--out", str(out)]) == 0
    french = (out / "digest.html").read_text(encoding="utf-8")
    assert '<html lang="fr">' in french and "Ce que les métiers partagent" in french
    assert (out / "participation.png").read_bytes().startswith(b"\x89PNG")
