"""`cercle demo`'s week includes a round of votes: statements drafted from the answers, private
votes, and the digest's two vote sections in every saved form (the encoder runs: ~25 s)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cogs.digest.demo import run_demo


async def test_the_demo_week_has_votes_and_its_digest_shows_both_sections(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run_demo(tmp_path, locale="en") == 0
    err = capsys.readouterr().err
    assert "statements drafted from the answers" in err and "private votes" in err
    text = (tmp_path / "digest.md").read_text(encoding="utf-8")
    assert text.index("**Where professions agree**") < text.index("**Where professions differ**")
    data = json.loads((tmp_path / "digest.json").read_text(encoding="utf-8"))["votes"]
    assert data["statements"] >= 3 and data["voters"] >= 50 and data["agree"] and data["differ"]
    # Counts by profession, the crux as the follow-up question.
    crux = data["differ"][0]["text"].rstrip(".")
    assert f"members do not agree on “{crux}”: what separates you on this?" in text
    page = (tmp_path / "digest.html").read_text(encoding="utf-8")
    assert "<h2>Where professions agree</h2>" in page and '<table class="votes">' in page
