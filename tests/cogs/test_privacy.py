"""Members' data: a member gets everything stored about them, and can have it erased."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.config import Config
from bot.testing import Harness
from cogs.professions import profession_of
from storage import members
from storage import rounds as store

START = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)


async def _answered(h: Harness) -> int:
    await h.say("ana", "bonjour")
    await h.command("ana", "/profession set infirmière")
    await h.advance("2h")
    thread = list(h.platform.threads.values())[-1]
    ref = await h.say("ana", "Ma réponse sur les réseaux.", thread=thread)
    await h.platform.edit_post(ref, "Ma réponse corrigée sur les réseaux.")
    await h.say("bob", "Je commente.", thread=thread, reply_to=ref)
    return await h.bot.directory.member_for(h.platform.user("ana"))


async def test_mydata_sends_a_json_file_with_everything(profile: str) -> None:
    async with Harness(profile, start=START) as h:
        await _answered(h)
        replies = await h.command("ana", "/circle mydata")
        assert len(replies) == 1 and replies[0].to is not None and replies[0].to.id == "ana"
        (attachment,) = replies[0].content.attachments
        assert attachment.filename == "cercle-mydata.json"
        data = json.loads(attachment.data)
        assert data["member"]["accounts"][0]["user_id"] == "ana"
        assert data["rounds"]["answers"][0]["text"] == "Ma réponse corrigée sur les réseaux."
        assert data["rounds"]["answers"][0]["earlier_versions"] == ["Ma réponse sur les réseaux."]
        assert data["professions"]["profession"]["key"] == "nurse"
        # Nobody else's words are in ana's export.
        assert "Je commente." not in attachment.data.decode()


async def test_forget_asks_for_confirmation_then_erases_everything(
    profile: str, db_url: str | None
) -> None:
    async with Harness(profile, start=START, db_url=db_url) as h:
        member_id = await _answered(h)
        first = await h.command("ana", "/circle forget")
        assert "confirmer:oui" in first[0].text
        assert len(await store.answers(h.db, 1)) == 1  # nothing erased yet

        done = await h.command("ana", "/circle forget confirm:yes")
        assert "ne stocke plus rien" in done[0].text
        assert await store.answers(h.db, 1) == []
        assert await profession_of(h.db, member_id) is None
        assert await members.member_record(h.db, member_id) == {}
        # bob's comment stays, detached from the erased answer.
        comments = await store.comments(h.db, 1)
        assert len(comments) == 1 and comments[0].answer_id is None
        # ana can come back as a new member.
        assert await h.bot.directory.member_for(h.platform.user("ana")) != member_id


async def test_retention_deletes_old_answers_and_keeps_recent_ones(profile: str) -> None:
    config = Config.model_validate({"privacy": {"retention_days": 30}})
    async with Harness(profile, start=START, config=config, hosts=["hana"]) as h:
        await h.say("ana", "bonjour")
        await h.command("hana", "/prompt now")
        first = list(h.platform.threads.values())[-1]
        await h.say("ana", "Réponse du premier tour.", thread=first)
        await h.advance("7d2h")  # round 1 closes, round 2 opens on Monday 09:00
        second = list(h.platform.threads.values())[-1]
        await h.say("bob", "Réponse du deuxième tour.", thread=second)
        await h.advance("30d")  # round 1 closed 31 days ago now; later rounds are recent
        remaining = [a.text for r in (1, 2) for a in await store.answers(h.db, r)]
        assert remaining == ["Réponse du deuxième tour."]
        assert await store.get_round(h.db, 1) is not None  # the round itself stays
