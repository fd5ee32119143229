"""The bot drafts statements from the answers (the bundled encoder runs: about 2 s once).

The round has four leading themes; three professions of three members each answer.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.adapters.memory import Sent
from bot.config import Config
from bot.effects import event_key
from bot.testing import Harness
from cogs.votes import VotesCog
from storage import digest as digest_store
from storage import rounds as rounds_store
from storage import votes as store

#: Member name -> (profession as they say it, answer).
ANSWERS: dict[str, tuple[str, str]] = {
    "ana": (
        "infirmière",
        "Les réseaux enferment chaque métier dans sa propre bulle. Je manque de temps pour "
        "publier quoi que ce soit après mes tournées. Le secret médical interdit de raconter "
        "le moindre cas réel.",
    ),
    "bea": (
        "infirmière",
        "Chaque profession reste dans sa bulle sur les réseaux sociaux. Publier demande un "
        "temps que je n'ai jamais. Le secret professionnel m'empêche de parler de mes patients.",
    ),
    "cleo": (
        "infirmière",
        "On ne sort jamais de la bulle de son propre métier en ligne. Je n'ai pas le temps "
        "d'écrire des publications. Le secret médical rend tout témoignage impossible.",
    ),
    "bob": (
        "architecte",
        "Les réseaux nous gardent dans la bulle de notre profession. Préparer une publication "
        "me prend un temps fou. Nos rendus sont copiés sans aucun crédit.",
    ),
    "ben": (
        "architecte",
        "Les métiers restent enfermés chacun dans leur bulle. Je n'ai pas le temps de publier "
        "régulièrement. Nos images de projets circulent sans crédit.",
    ),
    "bart": (
        "architecte",
        "Chaque métier vit dans sa bulle sur les réseaux. Le temps manque pour alimenter un "
        "compte professionnel. Nos plans sont repris sans que l'agence soit créditée.",
    ),
    "dan": (
        "avocat",
        "Sur les réseaux chaque profession reste dans sa bulle. Je manque de temps pour "
        "écrire des publications. La déontologie limite fortement notre publicité.",
    ),
    "dora": (
        "avocat",
        "Les professions restent enfermées dans leur bulle en ligne. Publier prend un temps "
        "que je n'ai pas. Les règles déontologiques restreignent la publicité des avocats.",
    ),
    "dylan": (
        "avocat",
        "On reste dans la bulle de son métier sur les réseaux. Je n'ai pas le temps de "
        "publier. Notre déontologie encadre strictement toute publicité.",
    ),
}

START = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
#: The round opens at 08:00 UTC (09:00 in Paris) and lasts 144 h: two thirds is 96 h later.
TWO_THIRDS = "4d1m"


def statements_posted(h: Harness) -> list[Sent]:
    return [s for s in h.public() if s.text.startswith("**n°") and not s.deleted]


async def answered(h: Harness) -> None:
    await h.say("ana", "bonjour")
    for name, (wording, _) in ANSWERS.items():
        await h.command(name, f"/profession set {wording}")
    await h.advance("1h")  # the round opens
    thread = list(h.platform.threads.values())[-1]
    for name, (_, text) in ANSWERS.items():
        await h.say(name, text, thread=thread)


def votes_cog(h: Harness) -> VotesCog:
    return next(c for c in h.bot.cogs if isinstance(c, VotesCog))


async def test_statements_are_drafted_two_thirds_into_the_round(profile: str) -> None:
    async with Harness(profile, start=START, hosts=["hana"]) as h:
        await answered(h)
        await h.advance("3d23h")
        assert statements_posted(h) == []
        await h.advance("2h")
        posted = statements_posted(h)
        texts = [s.text.split("** ", 1)[1] for s in posted]
        assert 3 <= len(texts) <= 6
        thread = list(h.platform.threads.values())[-1]
        assert all(s.where == "thread" and s.ref.thread.id == thread.id for s in posted)  # type: ignore[union-attr]
        # One per leading theme, in French, a clause each, nobody named.
        assert any("bulle" in t for t in texts) and any("temps" in t for t in texts)
        names = {n.lower() for n in ANSWERS}
        assert not [t for t in texts if set(t.lower().replace(".", " ").split()) & names]
        assert all(t.endswith(".") and len(t) <= 141 and "@" not in t for t in texts)
        intro = [s for s in h.public() if "Des énoncés tirés de vos réponses" in s.text]
        assert len(intro) == 1
        if profile == "matrix":
            assert "conversation privée" in intro[0].text
        else:
            assert "boutons" in intro[0].text and all(len(s.actions) == 3 for s in posted)
        # Members vote on them like on any statement.
        number = posted[0].text.split("**n°")[1].split("**")[0]
        await h.command("bob", f"/vote {number} agree")
        assert await store.vote_count(h.db, int(number)) == 1

        # At the close the round has no new theme: nothing is posted twice.
        await h.advance("2d")
        assert [s.text for s in statements_posted(h)] == [s.text for s in posted]


async def test_a_draft_run_again_after_a_crash_posts_and_stores_nothing_twice() -> None:
    async with Harness("discord", start=START, hosts=["hana"]) as h:
        await answered(h)
        cog = votes_cog(h)
        occurrence = event_key("job", "votes:round:1:draft:67", "replayed")
        async with cog.services.effects.scope(occurrence):
            first = await cog.draft_round(1)
        sent = len(h.sent)
        # The same job occurrence taken over by another process: it runs again from the top.
        async with cog.services.effects.scope(occurrence):
            again = await cog.draft_round(1)
        assert [s.id for s in again] == [s.id for s in first] and first
        assert len(h.sent) == sent
        assert len(await store.statements(h.db, 1)) == len(first)


async def test_a_later_draft_adds_only_new_themes_and_keeps_what_hosts_dropped_out() -> None:
    async with Harness("discord", start=START, hosts=["hana"]) as h:
        await answered(h)
        cog = votes_cog(h)
        first = await cog.draft_round(1)
        await h.command("hana", f"/statement drop {first[0].id}")
        assert await cog.draft_round(1) == []  # the dropped one is not drafted again
        texts = [s.text for s in await store.statements(h.db, 1)]
        assert len(texts) == len(set(texts)) == len(first)


async def test_no_draft_when_turned_off_or_when_too_few_answered(profile: str) -> None:
    off = Config.model_validate({"votes": {"draft_at": []}})
    async with Harness(profile, start=START, hosts=["hana"], config=off) as h:
        await answered(h)
        await h.advance("6d")
        assert statements_posted(h) == []
    async with Harness(profile, start=START, hosts=["hana"]) as h:
        await h.say("ana", "bonjour")
        await h.advance("1h")
        thread = list(h.platform.threads.values())[-1]
        await h.say("ana", ANSWERS["ana"][1], thread=thread)
        await h.advance("4d1h")
        assert statements_posted(h) == []


def digest_index(h: Harness) -> int:
    """Where the close's digest is among the bot's messages."""
    for i, s in enumerate(h.sent):
        body = s.content.card.body if s.content.card else s.text
        if "**Participation**" in body:
            return i
    raise AssertionError("no digest posted")


async def test_the_draft_at_the_close_comes_before_the_digest_and_is_in_it(profile: str) -> None:
    at_close = Config.model_validate({"votes": {"draft_at": [100]}})
    async with Harness(profile, start=START, hosts=["hana"], config=at_close) as h:
        await answered(h)
        await h.advance("6d1h")  # past the close
        posted = [i for i, s in enumerate(h.sent) if s in statements_posted(h)]
        assert posted and max(posted) < digest_index(h)
        record = await digest_store.get(h.db, 1)
        assert record is not None
        assert json.loads(record.data)["votes"]["statements"] == len(posted)


async def test_a_bot_down_over_the_close_posts_no_statement_after_the_digest() -> None:
    async with Harness("discord", start=START, hosts=["hana"]) as h:
        await answered(h)
        await h.restart(downtime="6d")  # the close and both drafts were missed
        await h.advance("1m")
        closed = await rounds_store.get_round(h.db, 1)
        assert closed is not None and closed.status == rounds_store.ROUND_CLOSED
        # Caught up in order: the drafts were due first, so they come before the digest.
        posted = [i for i, s in enumerate(h.sent) if s in statements_posted(h)]
        assert max(posted, default=-1) < digest_index(h)
        record = await digest_store.get(h.db, 1)
        assert record is not None
        assert json.loads(record.data)["votes"]["statements"] == len(posted)
        assert await votes_cog(h).draft_round(1) == []  # closed: no more drafts
