"""Circle rounds, end to end on both capability profiles, with a fake clock and no sleeps."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.cog import Cog, EventContext
from bot.compose import default_cogs
from bot.testing import Harness
from bot.types import ThreadRef, Verdict, Visibility
from cogs.courtesy.signals import MessageApproved, MessageRejected
from storage import rounds as store

# Monday 5 January 2026, 07:00 UTC = 08:00 in Paris: the first question is due in an hour.
START = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def wake(h: Harness) -> None:
    """A first message makes the channel a circle with its schedule."""
    await h.say("ana", "bonjour")


def prompt_posts(h: Harness) -> list[str]:
    return [
        s.text
        for s in h.public()
        if "question de la semaine" in s.text or "question of the week" in s.text
    ]


def thread(h: Harness) -> ThreadRef:
    assert h.platform.threads, "no thread was opened"
    return list(h.platform.threads.values())[-1]


async def set_professions(h: Harness) -> None:
    await h.command("ana", "/profession set infirmière libérale")
    await h.command("bob", "/profession set architecte")
    await h.command("chloe", "/profession set développeuse")


async def test_full_round_from_schedule_to_close(profile: str, db_url: str | None) -> None:
    async with Harness(profile, start=START, hosts=["hana"], db_url=db_url) as h:
        await wake(h)
        await set_professions(h)
        await h.command("dan", "/profession set avocat")  # a profession that stays silent
        await h.advance("59m")
        assert prompt_posts(h) == []
        await h.advance("2m")
        posts = prompt_posts(h)
        assert len(posts) == 1
        assert "Tour n°1" in posts[0]
        assert "Que pensez-vous de l’usage des réseaux sociaux dans votre métier" in posts[0]
        assert "• Que vous manque-t-il ?" in posts[0]
        assert "Courtois, bienveillant et légal" in posts[0]
        t = thread(h)

        a1 = await h.say("ana", "J'utilise LinkedIn pour la coordination des soins.", thread=t)
        await h.say(
            "bob",
            "Instagram montre nos chantiers, mais rien pour échanger entre métiers.",
            thread=t,
        )
        await h.say(
            "chloe",
            "Je réponds à Ana : la coordination est aussi notre problème.",
            thread=t,
            reply_to=a1,
        )
        await h.platform.add_reaction("bob", a1, "👍")

        round_ = await store.latest_round(
            h.db, (await h.bot.directory.circle_for(h.platform.channel)).id
        )  # type: ignore[union-attr]
        assert round_ is not None and round_.status == store.ROUND_OPEN
        answers = await store.answers(h.db, round_.id)  # type: ignore[arg-type]
        comments = await store.comments(h.db, round_.id)  # type: ignore[arg-type]
        assert [(a.profession_key, a.profession_wording) for a in answers] == [
            ("nurse", "infirmière libérale"),
            ("architect", "architecte"),
        ]
        assert len(comments) == 1 and comments[0].answer_id == answers[0].id
        assert [r.emoji for r in await store.reactions(h.db, round_.id)] == ["👍"]  # type: ignore[arg-type]

        # Reminder 24 h before the close (Saturday 09:00 Paris), in the channel, no ping.
        before = len(h.sent)
        await h.advance("5d")
        reminder = [s for s in h.sent[before:] if s.where == "channel"]
        assert len(reminder) == 1
        text = reminder[0].text
        assert "2 réponses" in text and "2 métiers" in text
        assert "Avocat" in text  # the lawyer has not been heard
        assert "Infirmi" not in text and "@" not in text

        await h.advance("1d")
        assert t.id in h.platform.closed_threads
        closed = await store.get_round(h.db, round_.id)  # type: ignore[arg-type]
        assert closed is not None and closed.status == store.ROUND_CLOSED
        assert any("Ce tour est clos" in s.text for s in h.sent if s.where == "thread")

        # A late answer is kept, marked late.
        await h.say("dan", "Je réponds en retard.", thread=t)
        late = [a for a in await store.answers(h.db, round_.id) if a.late]  # type: ignore[arg-type]
        assert [a.text for a in late] == ["Je réponds en retard."]


async def test_second_question_comes_a_week_later_at_nine_across_dst(profile: str) -> None:
    # Monday 23 March 2026 08:00 Paris (winter time); Europe switches to summer time on the 29th.
    async with Harness(profile, start=utc(2026, 3, 23, 7)) as h:
        await wake(h)
        await h.advance("8d")
        rounds = []
        circle = await h.bot.directory.circle_for(h.platform.channel)
        assert circle is not None
        async with h.db.session() as session:
            from sqlmodel import select

            rounds = list((await session.exec(select(store.Round).order_by(store.Round.id))).all())
        assert [r.scheduled_for for r in rounds] == [utc(2026, 3, 23, 8), utc(2026, 3, 30, 7)]
        assert len(prompt_posts(h)) == 2
        # Rotation: the second round asks a different question.
        assert rounds[0].prompt_text != rounds[1].prompt_text


async def test_restart_mid_round_loses_nothing_and_posts_nothing_twice(
    profile: str, db_url: str | None
) -> None:
    async with Harness(profile, start=START, db_url=db_url) as h:
        await wake(h)
        await h.advance("2h")
        t = thread(h)
        await h.say("ana", "Avant le redémarrage.", thread=t)
        await h.restart(downtime="3h")
        await h.say("bob", "Après le redémarrage.", thread=t)
        await h.restart()
        assert len(prompt_posts(h)) == 1
        round_ = await store.latest_round(h.db, 1)
        assert round_ is not None
        assert [a.text for a in await store.answers(h.db, round_.id or 0)] == [
            "Avant le redémarrage.",
            "Après le redémarrage.",
        ]
        # The close still happens on time after the restarts.
        await h.advance("6d")
        assert t.id in h.platform.closed_threads


async def test_round_missed_while_down_opens_late_once(profile: str) -> None:
    async with Harness(profile, start=START) as h:
        await wake(h)
        await h.restart(downtime="4h")  # down from 08:00 to 12:00 Paris: the 09:00 slot is missed
        posts = prompt_posts(h)
        assert len(posts) == 1
        round_ = await store.latest_round(h.db, 1)
        assert round_ is not None and round_.late and round_.scheduled_for == utc(2026, 1, 5, 8)
        await h.restart(downtime="1h")
        assert len(prompt_posts(h)) == 1


async def test_duplicate_scheduler_fire_posts_once(profile: str) -> None:
    async with Harness(profile, start=START) as h:
        await wake(h)
        await h.advance("2h")
        rounds_cog = next(c for c in h.bot.cogs if c.name == "rounds")
        assert await rounds_cog.open_round(1, scheduled_for=utc(2026, 1, 5, 8)) is None  # type: ignore[attr-defined]
        job = h.scheduler.jobs["rounds:1:open"]
        assert await h.scheduler.fire(job, utc(2026, 1, 5, 8)) is False
        assert len(prompt_posts(h)) == 1


async def test_edits_keep_history_and_deletions_remove(profile: str) -> None:
    async with Harness(profile, start=START) as h:
        await wake(h)
        await h.advance("2h")
        t = thread(h)
        ref = await h.say("ana", "Première version.", thread=t)
        await h.platform.edit_post(ref, "Seconde version.")
        answer = await store.answer_by_message(h.db, h.platform.name, ref.id)
        assert (
            answer is not None
            and answer.text == "Seconde version."
            and answer.edited_at is not None
        )
        assert [r.text for r in await store.revisions(h.db, answer.id or 0)] == [
            "Première version."
        ]
        comment = await h.say("bob", "Un commentaire.", thread=t, reply_to=ref)
        await h.platform.delete_post(ref)
        assert await store.answer_by_message(h.db, h.platform.name, ref.id) is None
        # The comment stays, detached from the deleted answer.
        kept = await store.comment_by_message(h.db, h.platform.name, comment.id)
        assert kept is not None and kept.answer_id is None


async def test_reply_to_a_comment_comments_on_the_same_answer(profile: str) -> None:
    async with Harness(profile, start=START) as h:
        await wake(h)
        await h.advance("2h")
        t = thread(h)
        answer = await h.say("ana", "Mon avis.", thread=t)
        first = await h.say("bob", "D'accord.", thread=t, reply_to=answer)
        await h.say("chloe", "Moi aussi.", thread=t, reply_to=first)
        stored = await store.answer_by_message(h.db, h.platform.name, answer.id)
        assert stored is not None
        comments = await store.comments(h.db, 1)
        assert [c.answer_id for c in comments] == [stored.id, stored.id]
        assert len(await store.answers(h.db, 1)) == 1


async def test_answer_without_profession_asks_once_then_tags(profile: str) -> None:
    async with Harness(profile, start=START) as h:
        await wake(h)
        await h.advance("2h")
        t = thread(h)
        await h.say("eve", "Sans métier déclaré.", thread=t)
        await h.say("eve", "Encore une réponse.", thread=t)
        asks = [s for s in h.private_to("eve") if "profession set" in s.text]
        assert len(asks) == 1
        await h.command("eve", "/profession set pharmacienne")
        assert {a.profession_key for a in await store.answers(h.db, 1)} == {"pharmacist"}


async def test_answer_command_outside_the_thread(profile: str) -> None:
    async with Harness(profile, start=START) as h:
        await wake(h)
        before_round = await h.command("ana", "/answer trop tôt")
        assert "Aucun tour n’est ouvert" in before_round[0].text
        await h.advance("2h")
        await h.command("ana", "/profession set infirmière")
        await h.command("ana", "/answer Les réseaux m'aident à trouver des remplaçantes.")
        answers = await store.answers(h.db, 1)
        assert [a.text for a in answers] == ["Les réseaux m'aident à trouver des remplaçantes."]
        reposted = [s for s in h.sent if s.where == "thread" and "remplaçantes" in s.text]
        assert len(reposted) == 1 and "**ana** (Infirmier / Infirmière)" in reposted[0].text


async def test_circle_status_counts_by_profession(profile: str) -> None:
    async with Harness(profile, start=START) as h:
        await wake(h)
        await set_professions(h)
        await h.advance("2h")
        t = thread(h)
        a = await h.say("ana", "Réponse une.", thread=t)
        await h.say("bob", "Réponse deux.", thread=t)
        await h.say("chloe", "Commentaire.", thread=t, reply_to=a)
        status = (await h.command("bob", "/circle status"))[0].text
        assert "2 réponses et 1 commentaire" in status
        assert "Infirmier / Infirmière : 1 réponse, 0 commentaire" in status
        assert "Développeur / Développeuse" in status and "1 commentaire" in status
        assert "ana" not in status and "bob" not in status  # counts, never names


async def test_host_prompt_commands_and_rotation(profile: str) -> None:
    async with Harness(profile, start=START, hosts=["hana"]) as h:
        await wake(h)
        added = await h.command(
            "hana",
            '/prompt add Qu\'avez-vous appris cette année ? sub1:"Une réussite" sub2:"Un échec"',
        )
        assert "ajoutée" in added[0].text
        listing = (await h.command("hana", "/prompt list"))[0].text
        assert listing.count("`#") == 16
        nxt = (await h.command("ana", "/prompt next"))[0].text
        assert "réseaux sociaux" in nxt and "lundi 5 janvier" in nxt
        await h.command("hana", "/prompt skip")
        nxt = (await h.command("ana", "/prompt next"))[0].text
        assert "réseaux sociaux" not in nxt
        await h.command("hana", "/prompt now")
        assert len(prompt_posts(h)) == 1
        again = await h.command("hana", "/prompt now")
        assert "encore ouvert" in again[0].text
        # Fifteen more rounds exhaust the bank: no question was asked twice.
        for _ in range(15):
            await h.advance("7d")
        async with h.db.session() as session:
            from sqlmodel import select

            asked = [r.prompt_id for r in (await session.exec(select(store.Round))).all()]
        assert len(asked) == 16 and len(set(asked)) == 16


async def test_member_suggestion_approved_by_a_host(profile: str) -> None:
    async with Harness(profile, start=START, hosts=["hana"]) as h:
        await wake(h)
        reply = (
            await h.command("ana", "/prompt suggest Comment gérez-vous la fatigue numérique ?")
        )[0]
        assert "suggestion" in reply.text
        pending = (await h.command("hana", "/prompt suggestions"))[0].text
        assert "fatigue numérique" in pending
        prompt_id = int(pending.split("`#")[1].split("`")[0])
        await h.command("hana", f"/prompt approve id:{prompt_id}")
        listing = (await h.command("hana", "/prompt list"))[0].text
        assert "fatigue numérique" in listing
        rejected = await h.command("hana", f"/prompt reject id:{prompt_id}")
        assert "Il n’y a pas de question" in rejected[0].text


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/prompt add", "obligatoire"),
        ("/prompt add " + "x" * 5000, "trop long"),
        ("/prompt remove id:999", "Il n’y a pas de question n°999"),
        ("/prompt remove id:abc", "attend un nombre"),
    ],
)
async def test_bad_host_input_gets_a_clear_message_and_changes_nothing(
    profile: str, command: str, expected: str
) -> None:
    async with Harness(profile, start=START, hosts=["hana"]) as h:
        await wake(h)
        before = (await h.command("hana", "/prompt list"))[0].text
        replies = await h.command("hana", command)
        assert len(replies) == 1 and expected in replies[0].text
        assert replies[0].to is not None  # said privately
        assert (await h.command("hana", "/prompt list"))[0].text == before


async def test_members_cannot_run_host_commands(profile: str) -> None:
    async with Harness(profile, start=START, hosts=["hana"]) as h:
        await wake(h)
        for command in ("/prompt now", "/prompt add Une question ?", "/circle setup language:en"):
            replies = await h.command("ana", command)
            assert "réservé aux hôtes" in replies[0].text
        assert prompt_posts(h) == []
        circle = await h.bot.directory.circle_for(h.platform.channel)
        assert circle is not None and circle.locale == "fr"


async def test_circle_setup_validates_everything_and_applies_all_or_nothing(profile: str) -> None:
    async with Harness(profile, start=START, hosts=["hana"]) as h:
        await wake(h)
        bad = (await h.command("hana", "/circle setup timezone:Mars/Olympus round_days:9"))[0].text
        assert "Fuseau horaire inconnu" in bad
        assert (await store.get_settings(h.db, 1)).round_hours == 144  # type: ignore[union-attr]
        too_long = (await h.command("hana", "/circle setup round_days:9"))[0].text
        assert "au plus 168 heures" in too_long
        bad_cron = (await h.command("hana", '/circle setup schedule:"every monday"'))[0].text
        assert "n’est pas un calendrier" in bad_cron
        ok = (
            await h.command(
                "hana",
                '/circle setup language:en timezone:America/Montreal schedule:"30 8 * * tue" '
                "round_days:3 reminder_hours:12",
            )
        )[0].text
        assert "Settings saved" in ok and "Tuesday" in ok
        await h.advance("2d")  # Tuesday 6 Jan 08:30 Montreal = 13:30 UTC
        posts = prompt_posts(h)
        assert len(posts) == 1 and "question of the week" in posts[0]
        round_ = await store.latest_round(h.db, 1)
        assert round_ is not None and round_.scheduled_for == utc(2026, 1, 6, 13, 30)
        assert round_.closes_at == utc(2026, 1, 9, 13, 30)


async def test_export_and_erase_member_data() -> None:
    async with Harness("discord", start=START) as h:
        await wake(h)
        await h.advance("2h")
        t = thread(h)
        ref = await h.say("ana", "Ma réponse.", thread=t)
        await h.platform.edit_post(ref, "Ma réponse corrigée.")
        member = await h.bot.directory.member_for(h.platform.user("ana"))
        cog = next(c for c in h.bot.cogs if c.name == "rounds")
        data = await cog.export_member_data(member)
        assert data["answers"][0]["text"] == "Ma réponse corrigée."
        assert data["answers"][0]["earlier_versions"] == ["Ma réponse."]
        await cog.erase_member_data(member)
        assert await store.answers(h.db, 1) == []


class HoldsWordHold(Cog):
    """Stands in for the courtesy rules: holds any message saying 'hold'."""

    name = "holds"

    async def inspect(self, ctx: EventContext) -> Verdict | None:
        text = getattr(ctx.event, "text", "")
        return Verdict(Visibility.HELD, text, rule="test") if "hold" in text else None

    async def export_member_data(self, member_id: int) -> dict[str, Any]:
        return {}

    async def erase_member_data(self, member_id: int) -> None:
        return None


async def test_held_answer_is_kept_out_of_counts_until_a_host_approves(profile: str) -> None:
    async with Harness(profile, start=START, cogs=[*default_cogs(), HoldsWordHold]) as h:
        await wake(h)
        await h.advance("2h")
        t = thread(h)
        await h.say("ana", "Une réponse visible.", thread=t)
        held = await h.say("bob", "Please hold this one.", thread=t)
        status = (await h.command("ana", "/circle status"))[0].text
        assert "1 réponse" in status
        # The moderator's own deletion of the held original must not lose it.
        await h.platform.delete_post(held)
        stored = await store.answer_by_message(h.db, h.platform.name, held.id)
        assert stored is not None and stored.visibility == "held"
        await h.bot.signals.emit(
            MessageApproved(held, h.platform.user("bob"), "Please hold this one.")
        )
        stored = await store.answer_by_message(h.db, h.platform.name, held.id)
        assert stored is not None and stored.visibility == "visible"
        assert "2 réponses" in (await h.command("ana", "/circle status"))[0].text
        other = await h.say("chloe", "hold me too", thread=t)
        await h.bot.signals.emit(MessageRejected(other))
        rejected = await store.answer_by_message(h.db, h.platform.name, other.id)
        assert rejected is not None and rejected.visibility == "hidden"
        # A member deleting their own visible answer still removes it.
        mine = await h.say("dan", "Je me rétracte.", thread=t)
        await h.platform.delete_post(mine)
        assert await store.answer_by_message(h.db, h.platform.name, mine.id) is None


async def test_an_approved_held_answer_asks_its_author_their_profession_once(profile: str) -> None:
    async with Harness(profile, start=START, cogs=[*default_cogs(), HoldsWordHold]) as h:
        await wake(h)
        await h.advance("2h")
        t = thread(h)
        await h.command("ana", "/profession set infirmière")
        tagged = await h.say("ana", "hold this, I am a nurse", thread=t)
        held = await h.say("bob", "Please hold this one.", thread=t)
        asked = "Merci pour votre réponse ! De quel métier parlez-vous ?"

        def dms(name: str) -> list[str]:
            return [s.text for s in h.private_to(name) if s.where == "direct"]

        assert not any(asked in text for text in dms("bob"))  # held: not thanked yet
        for _ in range(2):  # approved, then the approval seen again
            await h.bot.signals.emit(
                MessageApproved(held, h.platform.user("bob"), "Please hold this one.")
            )
        assert len([text for text in dms("bob") if asked in text]) == 1
        await h.bot.signals.emit(MessageApproved(tagged, h.platform.user("ana"), "hold this"))
        assert not any(asked in text for text in dms("ana"))
