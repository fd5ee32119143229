"""Where professions agree and differ, as the digest reads it from a round's votes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.config import Config
from bot.i18n import translator
from bot.testing import Harness
from cogs.votes import sections, standing
from cogs.votes.standing import from_dict

START = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
VOTERS = {
    "ana": "infirmière",
    "bea": "infirmière",
    "cleo": "infirmière",
    "bob": "architecte",
    "ben": "architecte",
    "bart": "architecte",
    "dan": "avocat",  # the only lawyer: counted with other professions
}
SHARED = "Les réseaux enferment chaque métier dans sa bulle."
SPLIT = "Publier ses travaux en ligne protège le métier."
NARROW = "Le secret médical interdit tout témoignage."


async def voted(h: Harness) -> None:
    await h.say("ana", "bonjour")
    for name, wording in VOTERS.items():
        await h.command(name, f"/profession set {wording}")
    await h.command("hana", "/prompt now")
    for text in (SHARED, SPLIT, NARROW):
        await h.command("hana", f"/statement add {text}")
    for name in VOTERS:
        await h.command(name, "/vote 1 agree")
    for name in ("ana", "bea", "cleo"):
        await h.command(name, "/vote 2 agree")
    for name in ("bob", "ben", "bart"):
        await h.command(name, "/vote 2 disagree")
    await h.command("dan", "/vote 2 pass")
    for name in ("ana", "bea"):  # two votes only: not ranked
        await h.command(name, "/vote 3 agree")


async def test_the_digest_hook_ranks_bridges_and_cruxes_with_counts_by_profession(
    profile: str,
) -> None:
    async with Harness(profile, start=START, hosts=["hana"]) as h:
        await voted(h)
        s = await standing(h.db, 1)
        assert (s.statements, s.voters) == (3, 7)
        assert [(e.statement_id, e.text) for e in s.agree] == [(1, SHARED)]
        assert [(e.statement_id, e.text) for e in s.differ] == [(2, SPLIT)]
        (split,) = s.differ
        assert [(c.profession, c.agree, c.disagree, c.passed) for c in split.counts] == [
            ("architect", 0, 3, 0),
            ("nurse", 3, 0, 0),
            ("other", 0, 0, 1),
        ]
        # Nurses (3+1)/(3+2) = 0.8, architects 1/5 = 0.2, other professions 1/3.
        assert split.consensus == round(0.8 * 0.2 * 1 / 3, 6)
        assert split.spread == 0.6

        text = "\n".join(
            "\n".join([title, *entries]) for title, entries in sections(s, translator("fr"))
        )
        assert "Où les métiers s’accordent" in text and "Où les métiers divergent" in text
        assert "Infirmier / Infirmière 3 sur 3" in text and "Architecte 0 sur 3" in text
        assert "autres métiers 0 sur 1" in text and "Avocat" not in text  # the lone lawyer
        assert "7 votants" in text and NARROW not in text
        english = sections(s, translator("en"))
        assert [title for title, _ in english] == [
            "Where professions agree",
            "Where professions differ",
        ]
        # Stored with the digest as plain data, read back the same.
        assert from_dict(json.loads(json.dumps(s.as_dict()))) == s
        assert sections(s.as_dict(), translator("en")) == english


async def test_the_minimums_come_from_the_config() -> None:
    strict = Config.model_validate({"votes": {"min_voters": 8}})
    async with Harness("discord", start=START, hosts=["hana"], config=strict) as h:
        await voted(h)
        s = await standing(h.db, 1, h.config.votes)
        assert (s.agree, s.differ) == ((), ())
        assert sections(s, translator("fr")) == []


async def test_a_round_without_votes_has_nothing_to_show() -> None:
    async with Harness("discord", start=START, hosts=["hana"]) as h:
        await h.say("ana", "bonjour")
        await h.command("hana", "/prompt now")
        s = await standing(h.db, 1)
        assert (s.agree, s.differ, s.statements, s.voters) == ((), (), 0, 0)
        assert sections({}, translator("fr")) == []
