"""The rounds cog's per-member caches stay bounded and forget nothing that matters."""

from __future__ import annotations

import pytest

from bot.testing import Harness
from cogs.core import CoreCog
from cogs.professions import ProfessionsCog
from cogs.rounds import RoundsCog
from storage import rounds as store


async def test_past_the_profession_cache_an_answer_is_still_tagged(
    profile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("cogs.rounds.base.PROFESSIONS_CACHED", 2)
    cogs = [CoreCog, ProfessionsCog, RoundsCog]
    async with Harness(profile, cogs=cogs, hosts=["hana"]) as h:
        await h.command("hana", "/prompt now")
        thread = list(h.platform.threads.values())[-1]
        people = {"ana": "architecte", "bob": "boulanger", "cy": "comptable", "dan": "avocat"}
        for name, profession in people.items():
            await h.command(name, f"/profession set {profession}")
        for name in people:
            await h.say(name, f"Mon avis de {name} sur la question du jour.", thread=thread)
        rounds = next(c for c in h.bot.cogs if isinstance(c, RoundsCog))
        assert len(rounds._professions) == 2  # memory stays flat past the cache
        await h.say("ana", "Et un second avis, après avoir lu les autres.", thread=thread)
        round_ = await store.current_round(h.db, await circle_id(h))
        assert round_ is not None and round_.id is not None
        tags = [a.profession_key for a in await store.answers(h.db, round_.id)]
        assert len(tags) == 5 and None not in tags
        assert tags[0] == tags[-1]  # ana's profession read again, not lost


async def circle_id(h: Harness) -> int:
    circle = await h.bot.directory.circle_for(h.platform.channel)
    assert circle is not None and circle.id is not None
    return circle.id


async def test_past_the_asked_cache_nobody_is_asked_for_a_profession_twice(
    profile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("cogs.rounds.base.ASKED_CACHED", 2)
    cogs = [CoreCog, ProfessionsCog, RoundsCog]
    async with Harness(profile, cogs=cogs, hosts=["hana"]) as h:
        await h.command("hana", "/prompt now")
        thread = list(h.platform.threads.values())[-1]
        names = ["ana", "bob", "cy", "dan"]
        for name in names:  # none set a profession: each is asked once
            await h.say(name, f"Mon avis de {name} sur la question du jour.", thread=thread)
        rounds = next(c for c in h.bot.cogs if isinstance(c, RoundsCog))
        assert len(rounds._asked) == 2  # memory stays flat past the cache
        await h.say("ana", "Et un second avis, après avoir lu les autres.", thread=thread)
        await h.restart()  # a new process: nothing in memory
        await h.say("bob", "Un troisième avis, le lendemain.", thread=thread)
        for name in names:
            asked = [s for s in h.private_to(name) if "profession set" in s.text]
            assert len(asked) == 1, name
