"""The close's digest shows where professions agree and differ, guarded like its answers
(both capability profiles, SQLite and PostgreSQL; hosts write the statements: no encoder)."""

from __future__ import annotations

import json

from bot.config import Config, DigestSettings
from bot.testing import Harness
from storage import digest as digest_store

from .test_standing import NARROW, SHARED, SPLIT, START, voted


def digest_text(h: Harness) -> str:
    """The posted digest as members read it (a card's body on Discord, text elsewhere)."""
    bodies = [s.content.card.body if s.content.card else s.text for s in h.public()]
    posted = [b for b in bodies if "**Participation**" in b or "Question de suivi" in b]
    assert posted, "no digest posted"
    return "\n".join(posted)


async def test_the_close_digest_shows_both_sections_and_the_crux_question(
    profile: str, db_url: str | None
) -> None:
    async with Harness(profile, start=START, hosts=["hana"], db_url=db_url) as h:
        await voted(h)
        await h.advance("7d")  # the round closes: its digest is posted
        text = digest_text(h)
        agree, differ = text.index("Où les métiers s’accordent"), text.index("divergent")
        assert agree < text.index(SHARED.rstrip(".")) < differ < text.index(SPLIT.rstrip("."))
        assert "Infirmier / Infirmière 3 sur 3" in text and "Architecte 0 sur 3" in text
        assert "autres métiers 0 sur 1" in text and "Avocat / Avocate 0" not in text
        assert NARROW.rstrip(".") not in text  # two voters: not ranked
        question = "Côté Infirmier / Infirmière et côté Architecte, les avis divergent sur"
        assert question in text
        record = await digest_store.get(h.db, 1)
        assert record is not None and record.chart
        stored = json.loads(record.data)["votes"]
        assert (stored["statements"], stored["voters"], stored["ranked"]) == (3, 7, 2)
        # The question waits in the hosts' suggestions.
        replies = await h.command("hana", "/prompt suggestions")
        assert any(question in r.text for r in replies)


async def test_the_guard_size_of_the_digest_pools_small_professions_in_votes(
    profile: str,
) -> None:
    # Three nurses and three architects are under a guard of four: nobody is named.
    config = Config(digest=DigestSettings(min_profession_size=4))
    async with Harness(profile, start=START, hosts=["hana"], config=config) as h:
        await voted(h)
        await h.advance("7d")
        record = await digest_store.get(h.db, 1)
        assert record is not None
        stored = json.loads(record.data)["votes"]
        counts = [c for e in (*stored["agree"], *stored["differ"]) for c in e["counts"]]
        assert {c["profession"] for c in counts} <= {"other"}
        text = digest_text(h)
        assert "autres métiers 7 sur 7" in text and "Infirmier / Infirmière 3 sur 3" not in text


async def test_hosts_are_told_when_no_statement_has_enough_votes(profile: str) -> None:
    strict = Config.model_validate({"votes": {"min_voters": 8}})
    async with Harness(profile, start=START, hosts=["hana"], config=strict) as h:
        await voted(h)
        replies = await h.command("hana", "/digest preview")
        text = "\n".join(r.text for r in replies)
        assert "métiers s’accordent" not in text and "Où les métiers divergent" not in text
        assert "aucun énoncé n’a atteint 8 votants de 2 métiers" in text
        assert all(r.to is not None or r.where == "ephemeral" for r in replies)
