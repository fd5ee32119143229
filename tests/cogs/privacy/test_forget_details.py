"""``/circle forget`` in detail: posted digests are edited in place, posts in the member's name
are deleted (and kept until they are), adapters' entries about the member go, the bank keeps
only the questions a host accepted."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.platform import PlatformError
from bot.testing import Harness
from bot.types import MessageRef
from storage import digest as digest_store
from storage import members, state
from storage import rounds as rounds_store

START = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
PHONE = "Mon numéro pour le chantier : 06 12 34 56 78, rappelez-moi."
OTHERS = {
    "bob": ("architecte", "Mes rendus 3D ont été copiés sans crédit par un promoteur."),
    "ben": ("architecte", "My renderings get copied and reposted without credit all the time."),
    "dan": ("avocat", "LinkedIn m'apporte des clients, mais la déontologie limite la publicité."),
    "bea": ("infirmière", "Patient confidentiality means I can never share a real case online."),
}
ANSWER = "Le secret médical m'interdit de parler de mes patients en ligne, même sans nom."


async def member(h: Harness, name: str) -> int:
    return await h.bot.directory.member_for(h.platform.user(name))


async def test_a_posted_digest_is_edited_in_place_without_the_member(
    profile: str,
) -> None:
    async with Harness(profile, start=START, hosts=["hana"]) as h:
        await h.say("ana", "bonjour")
        await h.command("ana", "/profession set infirmière")
        for name, (wording, _) in OTHERS.items():
            await h.command(name, f"/profession set {wording}")
        await h.advance("2h")
        thread = list(h.platform.threads.values())[-1]
        for name, (_, text) in OTHERS.items():
            await h.say(name, text, thread=thread)
        mine = await h.say("ana", ANSWER, thread=thread)
        for reactor in ("bob", "dan", "bea"):
            await h.platform.add_reaction(reactor, mine, "👍")
        await h.advance("6d")
        record = await digest_store.get(h.db, 1)
        assert record is not None and ANSWER in record.data
        ids = json.loads(record.message_ids)
        posted = [s for s in h.sent if s.ref.id in ids]
        assert len(posted) == len(ids) >= 1

        await h.command("ana", "/circle forget confirm:yes")

        record = await digest_store.get(h.db, 1)
        assert record is not None and json.loads(record.message_ids) == ids
        assert ANSWER not in record.data and ANSWER not in record.markdown
        # The same messages, edited: nothing deleted and posted again.
        assert all(s.edits and not s.deleted for s in posted)
        now = [s.edits[-1] for s in posted]
        shown = "\n".join(c.text + (c.card.body if c.card else "") for c in now)
        assert "secret médical" not in shown
        assert "5 réponses" in shown  # the counts stay
        assert any(c.attachments for c in now)  # with the chart


async def test_posts_in_the_members_name_are_kept_until_deleted(
    profile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with Harness(profile, start=START, hosts=["hana"]) as h:
        await h.say("ana", PHONE)  # masked, then reposted with ana's name
        ana = await member(h, "ana")
        [repost] = [s for s in h.public() if "06 12" not in s.text and "rappelez-moi" in s.text]
        exported = await h.command("ana", "/circle mydata")
        data = json.loads(exported[0].content.attachments[0].data)
        assert [p["message_id"] for p in data["privacy"]["posts_in_your_name"]] == [repost.ref.id]
        delete = h.platform.delete

        async def refuse(message: MessageRef, *, reason: str = "") -> None:
            if message.id == repost.ref.id:
                raise PlatformError("missing permission")
            await delete(message, reason=reason)

        monkeypatch.setattr(h.platform, "delete", refuse)
        failed = await h.command("ana", "/circle forget confirm:yes")
        assert "Réessayez plus tard" in failed[-1].text
        assert not repost.deleted
        # Nothing is lost for the next try: the member and the post are still known.
        assert await members.get_member(h.db, ana) is not None
        assert [p.message_id for p in await members.posts_in_name_of(h.db, ana)] == [repost.ref.id]

        monkeypatch.setattr(h.platform, "delete", delete)
        done = await h.command("ana", "/circle forget confirm:yes")
        assert "ne stocke plus rien" in done[-1].text
        assert repost.deleted
        assert await members.posts_in_name_of(h.db, ana) == []


async def test_adapters_forget_their_entries_about_the_member(profile: str) -> None:
    async with Harness(profile, start=START, hosts=["hana"]) as h:
        await h.say("ana", "bonjour")
        await h.say("bob", "bonjour")
        adapter, now = h.platform.name, h.clock.now()
        # What a Matrix adapter keeps: direct rooms, mutes' previous levels, reactions' senders.
        about_ana = {
            "dm:ana": "!dm-ana",
            "mute:circle:ana": '{"level": 0}',
            "reaction:$e1": json.dumps(["circle", "$answer", "ana", "👍"]),
        }
        others = {
            "dm:bob": "!dm-bob",
            "dm:diana": "!dm-diana",  # a name that ends like hers is someone else
            "reaction:$e2": json.dumps(["circle", "$answer", "bob", "👍"]),
            "next_batch": "s72_ana_9",
        }
        for key, value in {**about_ana, **others}.items():
            await state.set_state(h.db, adapter, key, value, now=now)

        await h.command("ana", "/circle forget confirm:yes")

        kept = await state.states_with_prefix(h.db, adapter, "")
        assert kept == others


async def test_only_questions_a_host_accepted_stay_in_the_bank(profile: str) -> None:
    async with Harness(profile, start=START, hosts=["hana"]) as h:
        await h.say("ana", "bonjour")
        for question in ("Première idée de question ?", "Deuxième idée de question ?"):
            await h.command("ana", f"/prompt suggest {question}")
        found = await h.bot.directory.circle_for(h.platform.channel)
        assert found is not None and found.id is not None
        circle = found.id
        accepted, waiting = await rounds_store.prompts(h.db, circle, rounds_store.PROMPT_SUGGESTED)
        await h.command("hana", f"/prompt approve id:{accepted.id}")

        await h.command("ana", "/circle forget confirm:yes")

        assert await rounds_store.get_prompt(h.db, circle, waiting.id or 0) is None
        kept = await rounds_store.get_prompt(h.db, circle, accepted.id or 0)
        assert kept is not None and kept.text == "Première idée de question ?"
        assert kept.suggested_by is None
