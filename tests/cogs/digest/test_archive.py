"""`cercle archive DIR`: a page per posted digest and an index, newest first, opened in Chromium."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.testing import Harness
from storage import digest as digest_store

START = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
MEMBERS = {
    "ana": "infirmière",
    "bea": "infirmière",
    "cara": "infirmière",
    "bob": "architecte",
    "ben": "architecte",
    "bart": "architecte",
}
WEEKS = (
    {
        "ana": "Le secret médical m'interdit de parler de mes patients en ligne.",
        "bea": "Patient confidentiality means I can never share a real case online.",
        "cara": "Le secret professionnel m'empêche de raconter une situation de soin.",
        "bob": "I was disappointed to find my project photos copied without credit.",
        "ben": "Mes rendus 3D ont été copiés sans crédit par un promoteur.",
        "bart": "My renderings get copied and reposted without credit all the time.",
    },
    {
        "ana": "Les commentaires haineux me découragent de publier.",
        "bob": "Hateful comments under my posts make me want to stop posting.",
    },
)


async def two_posted_digests(db_path: Path) -> None:
    """Two rounds answered and closed: two digests posted, in the harness's SQLite file."""
    async with Harness("matrix", start=START, hosts=["hana"], db_path=db_path) as h:
        await h.say("ana", "bonjour")
        for name, wording in MEMBERS.items():
            await h.command(name, f"/profession set {wording}")
        await h.advance("2h")  # round 1 opens
        for week, answers in enumerate(WEEKS):
            thread = list(h.platform.threads.values())[-1]
            for name, text in answers.items():
                await h.say(name, text, thread=thread)
            await h.advance("6d")  # the round closes, its digest is posted
            if week == 0:
                await h.advance("1d")  # the next round opens
        posted = await digest_store.posted(h.db)
        assert [r.number for _, r, _ in posted] == [2, 1]


def archive(db_path: Path, out: Path, *extra: str) -> int:
    return main(["archive", str(out), "--db", f"sqlite+aiosqlite:///{db_path}", *extra])


def links(page: str) -> list[str]:
    return re.findall(r'<a href="([^"]+)"', page)


@pytest.fixture
def no_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No configuration file around: the database comes from --db."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CERCLE_CONFIG", raising=False)


@pytest.mark.usefixtures("no_config")
async def test_archive_writes_a_page_per_digest_and_an_index_newest_first(
    tmp_path: Path, browser: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    db_path = tmp_path / "cercle.db"
    await two_posted_digests(db_path)
    out = tmp_path / "site"
    assert await _archive(db_path, out) == 0
    assert "wrote 2 digest pages" in capsys.readouterr().err
    index = (out / "index.html").read_text(encoding="utf-8")
    assert links(index) == ["circle-1-round-2.html", "circle-1-round-1.html"]
    assert index.index("Synthèse — tour n°2") < index.index("Synthèse — tour n°1")
    assert "18 janvier 2026" in index and "11 janvier 2026" in index  # the days they closed
    first = (out / "circle-1-round-1.html").read_text(encoding="utf-8")
    second = (out / "circle-1-round-2.html").read_text(encoding="utf-8")
    assert "Ce qui distingue chaque métier" in first and "secret" in first.lower()
    assert "2 réponses" in second and "6 réponses" in first
    assert "prompt add" not in first + second
    # In the browser: the index links every page; each page fits a phone, its chart loaded.
    seen = browser.measure(index)
    assert seen["links"] == links(index) and seen["scrollWidth"] <= seen["innerWidth"]
    assert seen["headings"] == ["Synthèses"]
    for name in links(index):
        seen = browser.measure((out / name).read_text(encoding="utf-8"), width=360)
        assert seen["scrollWidth"] <= seen["innerWidth"] and seen["text"] > 300
        [chart] = seen["images"]
        assert chart["complete"] and chart["naturalWidth"] > 0
    # Archiving again replaces the pages; the index's language can be chosen.
    assert await _archive(db_path, out, "--lang", "en") == 0
    assert "<h1>Digests</h1>" in (out / "index.html").read_text(encoding="utf-8")


async def _archive(db_path: Path, out: Path, *extra: str) -> int:
    import asyncio

    # main() runs its own event loop: off this test's loop.
    return await asyncio.to_thread(archive, db_path, out, *extra)


@pytest.mark.usefixtures("no_config")
async def test_an_archive_of_no_digest_says_so(tmp_path: Path) -> None:
    db_path = tmp_path / "cercle.db"
    async with Harness("discord", start=START, db_path=db_path) as h:
        await h.say("ana", "bonjour")
    out = tmp_path / "site"
    assert await _archive(db_path, out) == 0
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "Aucune synthèse n’a encore été publiée." in index and links(index) == []


@pytest.mark.usefixtures("no_config")
async def test_an_archive_of_an_old_schema_asks_for_an_upgrade(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "site"
    assert await _archive(tmp_path / "empty.db", out) == 1
    assert "cercle db upgrade" in capsys.readouterr().err
    assert not out.exists()
