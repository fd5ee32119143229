"""``/circle setup``: settings in words, day and time, what a new slot does to the open round,
and the hosts' opt-in mention (once per round, off by default)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.testing import Harness
from bot.types import Ping
from storage import rounds as store

START = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)  # Monday 08:00 in Paris, an hour before the slot


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def prompt_posts(h: Harness) -> list[str]:
    return [s.text for s in h.public() if "question de la semaine" in s.text]


async def test_setup_without_options_shows_the_settings_in_words(profile: str) -> None:
    async with Harness(profile, start=START, hosts=["hana"]) as h:
        await h.say("ana", "bonjour")
        # Babel writes "6 jours" with a no-break space.
        shown = (await h.command("hana", "/circle setup"))[0].text.replace("\u00a0", " ")
        assert "Réglages enregistrés" not in shown
        assert "Questions : chaque lundi à 09:00 (Europe/Paris)" in shown
        assert "Langue : français" in shown and "Fuseau horaire : Europe/Paris" in shown
        assert "Les tours durent 6 jours ; rappel 24 h avant la clôture." in shown
        assert "Portée : aucune mention (activez-la avec `mention:on" in shown
        assert "moins de 3 répondants" in shown  # the digest's guard, from [digest]
        assert "Prochaine question : lundi 5 janvier, 09:00." in shown
        english = (await h.command("hana", "/circle setup language:en"))[0].text
        assert english.startswith("Settings saved.")
        assert "Questions: every Monday at 09:00 (Europe/Paris)" in english
        assert (await store.get_settings(h.db, 1)).prompt_cron == "0 9 * * mon"  # type: ignore[union-attr]


async def test_day_and_time_set_the_schedule_and_are_validated(profile: str) -> None:
    async with Harness(profile, start=START, hosts=["hana"]) as h:
        await h.say("ana", "bonjour")
        ok = (await h.command("hana", "/circle setup day:jeudi time:18h30"))[0].text
        assert "chaque jeudi à 18:30 (Europe/Paris)" in ok
        assert "Prochaine question : jeudi 8 janvier, 18:30." in ok
        assert (await store.get_settings(h.db, 1)).prompt_cron == "30 18 * * thu"  # type: ignore[union-attr]
        # The time alone keeps the day; the day alone keeps the time.
        await h.command("hana", "/circle setup time:07:15")
        await h.command("hana", "/circle setup day:Tuesday")
        assert (await store.get_settings(h.db, 1)).prompt_cron == "15 7 * * tue"  # type: ignore[union-attr]
        bad_day = (await h.command("hana", "/circle setup day:someday"))[0].text
        assert "« someday » n’est pas un jour" in bad_day and "circle setup [" in bad_day
        bad_time = (await h.command("hana", "/circle setup time:25:00"))[0].text
        assert "« 25:00 » n’est pas une heure" in bad_time and "[heure:<" in bad_time
        both = (await h.command("hana", '/circle setup schedule:"0 9 * * mon" day:lundi'))[0].text
        assert "soit calendrier:" in both
        assert (await store.get_settings(h.db, 1)).prompt_cron == "15 7 * * tue"  # type: ignore[union-attr]
        await h.advance("1d")  # Tuesday 6 January, 07:15 Paris = 06:15 UTC
        round_ = await store.latest_round(h.db, 1)
        assert round_ is not None and round_.scheduled_for == utc(2026, 1, 6, 6, 15)


async def test_a_new_slot_inside_the_open_round_is_skipped_as_the_warning_says(
    profile: str,
) -> None:
    async with Harness(profile, start=START, hosts=["hana"]) as h:
        await h.say("ana", "bonjour")
        await h.advance("1h")  # Monday 09:00: round #1 opens, closes Sunday 11 January 09:00
        assert len(prompt_posts(h)) == 1
        reply = (await h.command("hana", "/circle setup day:mercredi"))[0].text
        assert "Le tour n°1 reste ouvert jusqu’à dimanche 11 janvier, 09:00" in reply
        assert "le créneau de mercredi 7 janvier, 09:00 est sauté" in reply
        assert "Prochaine question : mercredi 14 janvier, 09:00." in reply
        # Members are promised the same date, not the skipped slot.
        upcoming = (await h.command("ana", "/prompt next"))[0].text
        assert "Prochaine question, mercredi 14 janvier, 09:00" in upcoming
        await h.advance("3d")  # Thursday 8 January: Wednesday's slot passed, nothing posted
        assert len(prompt_posts(h)) == 1
        await h.advance("6d")  # Wednesday 14 January 09:00 Paris
        assert len(prompt_posts(h)) == 2
        round_ = await store.latest_round(h.db, 1)
        assert round_ is not None and round_.scheduled_for == utc(2026, 1, 14, 8)


async def test_the_warning_comes_only_when_a_new_slot_falls_inside_the_open_round(
    profile: str,
) -> None:
    async with Harness(profile, start=START, hosts=["hana"]) as h:
        await h.say("ana", "bonjour")
        await h.advance("1h")
        reply = (await h.command("hana", "/circle setup round_days:2 day:jeudi"))[0].text
        # The open round keeps its own close (Sunday): Thursday 8 January is inside it.
        assert "est sauté" in reply
        # Sunday 11 January 10:00 comes after the close at 09:00: nothing is skipped.
        later = (await h.command("hana", "/circle setup time:10:00 day:dimanche"))[0].text
        assert "est sauté" not in later
        assert "Prochaine question : dimanche 11 janvier, 10:00." in later


async def test_the_role_mention_is_off_by_default_then_once_per_round() -> None:
    async with Harness("discord", start=START, hosts=["hana"]) as h:
        await h.say("ana", "bonjour")
        await h.advance("1h")
        assert [s.content.ping for s in h.sent] == [None] * len(h.sent)  # off by default
        await h.advance("7d")
        refused = (await h.command("hana", "/circle setup mention:on"))[0].text
        assert "Donnez le rôle à mentionner" in refused
        shown = (await h.command("hana", "/circle setup mention:on mention_role:<@&4242>"))[0].text
        assert "le rôle `4242` avec la question et le rappel" in shown
        before = len(h.sent)
        await h.advance("7d")  # round #2's reminder (Saturday) then round #3's question (Monday)
        pinged = [s for s in h.sent[before:] if s.content.ping is not None]
        assert [s.content.ping for s in pinged] == [Ping(role="4242")] * 2
        assert "⏳" in pinged[0].text and "question de la semaine" in pinged[1].text
        rounds_cog = next(c for c in h.bot.cogs if c.name == "rounds")
        current = await store.current_round(h.db, 1)
        assert current is not None
        # A second run of the reminder (a replay, a restart) posts it without the mention.
        await h.restart()
        rounds_cog = next(c for c in h.bot.cogs if c.name == "rounds")
        await rounds_cog._remind(current.id)  # type: ignore[attr-defined]
        await rounds_cog._remind(current.id)  # type: ignore[attr-defined]
        reminders = [s for s in h.sent if "⏳" in s.text]
        assert [s.content.ping for s in reminders[-2:]] == [Ping(role="4242"), None]
        await rounds_cog._remind(current.id)  # type: ignore[attr-defined]
        assert h.sent[-1].content.ping is None
        off = (await h.command("hana", "/circle setup mention:off"))[0].text
        assert "Portée : aucune mention" in off
        before = len(h.sent)
        await h.advance("7d")
        assert all(s.content.ping is None for s in h.sent[before:])


async def test_matrix_mentions_the_room_when_the_bot_may(monkeypatch: pytest.MonkeyPatch) -> None:
    async with Harness("matrix", start=START, hosts=["hana"]) as h:
        await h.say("ana", "bonjour")
        role = (await h.command("hana", "!circle setup mention:on mention_role:4242"))[0].text
        assert "la mention est tout le salon" in role

        async def may_not(channel: object, ping: Ping) -> bool:
            return False

        monkeypatch.setattr(h.platform, "may_ping", may_not, raising=False)
        lacking = (await h.command("hana", "!circle setup mention:on"))[0].text
        assert "niveau de pouvoir" in lacking
        assert "aucune mention" in (await h.command("hana", "!circle setup"))[0].text

        async def may(channel: object, ping: Ping) -> bool:
            return True

        monkeypatch.setattr(h.platform, "may_ping", may, raising=False)
        ok = (await h.command("hana", "!circle setup mention:on"))[0].text
        assert "room avec la question et le rappel" in ok  # (its @ defused in this reply)
        await h.advance("1h")
        (question,) = [s for s in h.public() if "question de la semaine" in s.text]
        assert question.content.ping == Ping()
