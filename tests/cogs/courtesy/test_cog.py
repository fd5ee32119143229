"""The courtesy cog in a running bot, on both capability profiles."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest

from bot.cog import Cog, CommandContext, EventContext, command
from bot.commands import OptionSpec
from bot.platform import PlatformError
from bot.testing import Harness
from bot.types import MessageRef, Verdict, Visibility
from cogs.core import CoreCog
from cogs.courtesy import CourtesyCog, MessageApproved, MessageRejected
from storage import courtesy as store


class Listener(Cog):
    """Records the verdicts listeners see and the signals cogs hear; judges text on command."""

    name = "listener"

    def __init__(self, services: Any) -> None:
        super().__init__(services)
        self.verdicts: list[Verdict | None] = []
        self.signals: list[object] = []

    async def on_message(self, ctx: EventContext) -> None:
        self.verdicts.append(ctx.verdict)

    async def on_edit(self, ctx: EventContext) -> None:
        self.verdicts.append(ctx.verdict)

    async def on_signal(self, signal: object) -> None:
        self.signals.append(signal)

    @command(
        "probe",
        description="Judge a text as an answer given through a command.",
        options=[OptionSpec("text", "The text", required=True, rest=True)],
    )
    async def probe(self, ctx: CommandContext) -> None:
        verdict = await self.services.verdicts.judge(ctx, ctx.options["text"])
        await ctx.reply(f"{verdict.visibility.name}:{verdict.text}")

    async def export_member_data(self, member_id: int) -> dict[str, Any]:
        return {}

    async def erase_member_data(self, member_id: int) -> None:
        return None


@asynccontextmanager
async def running(profile: str) -> AsyncIterator[Harness]:
    async with Harness(profile, cogs=[CoreCog, CourtesyCog, Listener], hosts=["hana"]) as h:
        yield h


def listener(h: Harness) -> Listener:
    return next(c for c in h.bot.cogs if isinstance(c, Listener))


def courtesy(h: Harness) -> CourtesyCog:
    return next(c for c in h.bot.cogs if isinstance(c, CourtesyCog))


def deleted(h: Harness, ref: MessageRef) -> bool:
    return h.platform.posted[ref.id].deleted


def untouched(verdict: Verdict | None) -> bool:
    """No rule matched: the router's default verdict."""
    return verdict is not None and verdict.visibility is Visibility.VISIBLE and verdict.rule is None


def dms(h: Harness, name: str) -> list[str]:
    return [s.text for s in h.private_to(name) if s.where == "direct"]


async def circle_id(h: Harness) -> int:
    circle = await h.bot.directory.circle_for(h.platform.channel)
    assert circle is not None and circle.id is not None
    return circle.id


# ------------------------------------------------------------------ actions


async def test_courteous_messages_pass_untouched(profile: str) -> None:
    async with running(profile) as h:
        ref = await h.say("ana", "Bonjour à tous, je suis infirmière de nuit.")
        assert not deleted(h, ref)
        assert h.sent == []
        assert untouched(listener(h).verdicts[0])


async def test_personal_details_are_reposted_masked_with_attribution(profile: str) -> None:
    async with running(profile) as h:
        ref = await h.say("ana", "Appelez-moi au 06 12 34 56 78 ou écrivez à ana@exemple.fr")
        assert deleted(h, ref)
        [repost] = h.public()
        assert repost.text == (
            "**ana** a écrit :\n> Appelez-moi au •• •• •• •• •• ou écrivez à ••••••••••••••"
        )
        [told] = dms(h, "ana")
        assert "coordonnées" in told and "06 12" not in told
        verdict = listener(h).verdicts[0]
        assert verdict is not None and verdict.visibility is Visibility.REDACTED
        assert "06 12" not in verdict.text and verdict.category == "pii"


async def test_insults_are_hidden_and_the_author_told_why(profile: str) -> None:
    async with running(profile) as h:
        ref = await h.say("bob", "Espèce de connard !")
        assert deleted(h, ref)
        assert h.public() == []
        [told] = dms(h, "bob")
        assert "retiré" in told and "une insulte" in told
        prefix = "/" if profile == "discord" else "!"
        assert f"`{prefix}charter`" in told
        verdict = listener(h).verdicts[0]
        assert verdict is not None and verdict.visibility is Visibility.HIDDEN
        assert (verdict.rule, verdict.category) == ("insult.strong", "insult")


async def test_swearing_is_nudged_and_stays_visible(profile: str) -> None:
    async with running(profile) as h:
        ref = await h.say("bob", "Putain, le serveur est encore tombé.")
        assert not deleted(h, ref)
        [told] = dms(h, "bob")
        assert told.startswith("Petit rappel") and "des jurons" in told
        verdict = listener(h).verdicts[0]
        assert verdict is not None and verdict.visibility is Visibility.VISIBLE
        assert verdict.rule == "profanity"


async def test_flooding_is_warned_and_stays_visible(profile: str) -> None:
    async with running(profile) as h:
        refs = [await h.say("cy", f"point numéro {i}") for i in range(7)]
        assert not any(deleted(h, ref) for ref in refs)
        [told] = dms(h, "cy")
        assert told.startswith("Avertissement") and "trop de messages" in told


async def test_repeated_messages_and_mass_mentions_are_hidden(profile: str) -> None:
    async with running(profile) as h:
        refs = [await h.say("dan", "Venez voir ma formation !") for _ in range(3)]
        assert [deleted(h, r) for r in refs] == [False, False, True]
        ping = await h.say("eve", "@everyone regardez ça")
        assert deleted(h, ping)


async def test_links_from_newcomers_are_held(profile: str) -> None:
    async with running(profile) as h:
        ref = await h.say("newbie", "Super offre : https://promo.example/x")
        assert deleted(h, ref)
        [item] = await store.pending(h.db, await circle_id(h))
        assert item.rule == "spam.link"


@pytest.mark.parametrize(
    "text",
    [
        "t'es un c0nn4rd",  # leetspeak
        "c o n n a r d",  # spacing
        "a.s.s.h.o.l.e",  # separators
        "connnnnnard",  # repeated letters
        "en\u200bculé",  # zero-width
        "соnnаrd",  # homoglyphs
        "ｆｕｃｋ you",  # full-width
        "ENCULE",  # accents stripped, capitals
        "fu-ck off",  # cut word
    ],
)
async def test_every_evasion_family_is_hidden_in_the_bot(profile: str, text: str) -> None:
    async with running(profile) as h:
        ref = await h.say("bob", text)
        assert deleted(h, ref)
        verdict = listener(h).verdicts[0]
        assert verdict is not None and verdict.visibility is Visibility.HIDDEN


async def test_innocent_words_pass_in_the_bot(profile: str) -> None:
    async with running(profile) as h:
        for text in (
            "Le concours a lieu en juin, j'ai fait sa connaissance à Scunthorpe.",
            "Un cocktail après la conférence ? Je bosse jusqu'à 18 h.",
            "Une gerbe de fleurs au fond du cul-de-sac, assistance incluse.",
        ):
            ref = await h.say("ana", text)
            assert not deleted(h, ref)
        assert h.sent == []


async def test_edited_messages_are_checked_again(profile: str) -> None:
    async with running(profile) as h:
        ref = await h.say("bob", "Je ne suis pas d'accord.")
        await h.platform.edit_post(ref, "Je ne suis pas d'accord, pauvre conne.")
        assert deleted(h, ref)
        assert untouched(listener(h).verdicts[0])
        edit_verdict = listener(h).verdicts[1]
        assert edit_verdict is not None and edit_verdict.visibility is Visibility.HIDDEN


# ------------------------------------------------------------------ hold, approve, reject


async def test_held_message_approved_is_republished_with_attribution(profile: str) -> None:
    async with running(profile) as h:
        ref = await h.say("bob", "Sale con.")
        assert deleted(h, ref)
        assert "retenu pour la relecture" in dms(h, "bob")[0]
        verdict = listener(h).verdicts[0]
        assert verdict is not None and verdict.visibility is Visibility.HELD
        queue = (await h.command("hana", "/mod queue"))[0].text
        assert "`#1` **bob**" in queue and "insult.ambiguous" in queue and "> Sale con." in queue
        assert (await h.command("ana", "/mod queue"))[0].text.startswith("Désolé")
        replies = await h.command("hana", "/mod approve id:1")
        assert replies[-1].text == "n°1 approuvé : le message est publié."
        [repost] = h.public()
        assert repost.text == "**bob** a écrit :\n> Sale con."
        assert dms(h, "bob")[-1].startswith("Un hôte a approuvé")
        [signal] = [s for s in listener(h).signals if isinstance(s, MessageApproved)]
        assert signal.message == ref and signal.author.id == "bob" and signal.text == "Sale con."
        assert (await h.command("hana", "/mod queue"))[0].text == "Rien n’attend de relecture."
        again = await h.command("hana", "/mod approve id:1")
        assert again[0].text == "n°1 n’attend pas de relecture."


async def test_held_message_rejected_tells_the_author_and_costs_strikes(profile: str) -> None:
    async with running(profile) as h:
        ref = await h.say("bob", "Je vais te défoncer.")
        assert deleted(h, ref)
        replies = await h.command("hana", "/mod reject id:1 les menaces n'ont pas leur place ici")
        assert replies[-1].text == "n°1 refusé ; bob en connaît le motif."
        assert "Motif : les menaces n'ont pas leur place ici" in dms(h, "bob")[1]
        assert [s for s in listener(h).signals if isinstance(s, MessageRejected)] == [
            MessageRejected(ref)
        ]
        assert h.public() == []
        # A threat costs 3 strikes once a host confirms it: the member is muted.
        assert h.platform.is_muted("bob")


async def test_a_report_reaches_the_queue_and_a_rejection_removes_the_message(
    profile: str,
) -> None:
    async with running(profile) as h:
        ref = await h.say("ana", "Les gens de ton métier ne servent à rien.")
        assert not deleted(h, ref)
        replies = await h.command("bob", f"/report message:{ref.id} c'est méprisant")
        assert replies[-1].text == "Merci : les hôtes vont regarder."
        queue = (await h.command("hana", "/mod queue"))[0].text
        assert "signalé : c'est méprisant" in queue and "**ana**" in queue
        await h.command("hana", "/mod reject id:1 merci de rester bienveillante")
        assert deleted(h, ref)
        assert "merci de rester bienveillante" in dms(h, "ana")[-1]
        assert MessageRejected(ref) in listener(h).signals


async def test_a_report_by_link_or_text_and_an_approved_report_keeps_the_message(
    profile: str,
) -> None:
    async with running(profile) as h:
        ref = await h.say("ana", "Je maintiens ce que j'ai dit.")
        link = f"https://discord.com/channels/1/2/{ref.id}"
        await h.command("bob", f"/report message:{link}")
        await h.command("bob", "/report quelqu'un m'a insulté en privé")
        items = await store.pending(h.db, await circle_id(h))
        assert [(i.message_id, i.author_name) for i in items] == [(ref.id, "ana"), (None, "")]
        queue = (await h.command("hana", "/mod queue"))[0].text
        assert "**?**" not in queue and "\n> …" not in queue
        assert "aucun message, seulement les mots du signalement — signalé : quelqu'un" in queue
        await h.command("hana", "/mod approve id:1")
        assert not deleted(h, ref)
        empty = await h.command("bob", "/report")
        assert "Dites-moi quel message" in empty[-1].text


async def test_answers_given_through_commands_are_judged_held_and_approved(profile: str) -> None:
    async with running(profile) as h:
        reply = await h.command("bob", "/probe Sale con, voilà ma réponse")
        assert reply[-1].text == "HELD:Sale con, voilà ma réponse"
        assert dms(h, "bob") == []  # the answering command tells the member itself
        [item] = await store.pending(h.db, await circle_id(h))
        assert item.message_id is not None and item.message_id.startswith("command:")
        await h.command("hana", "/mod approve id:1")
        [signal] = [s for s in listener(h).signals if isinstance(s, MessageApproved)]
        assert signal.message.id == item.message_id
        masked = await h.command("ana", "/probe mon numéro : 06 12 34 56 78")
        assert masked[-1].text == "REDACTED:mon numéro : •• •• •• •• ••"


# ------------------------------------------------------------------ modes, strikes


async def test_observe_mode_only_logs_then_enforce_acts_again(profile: str) -> None:
    async with running(profile) as h:
        replies = await h.command("hana", "/mod mode observe")
        assert "observation" in replies[-1].text
        ref = await h.say("bob", "Espèce de connard !")
        assert not deleted(h, ref)
        assert dms(h, "bob") == []
        assert untouched(listener(h).verdicts[0])
        log = (await h.command("hana", "/mod log"))[0].text
        assert "**retirer** (mode observation) · bob · `insult.strong` · règles" in log
        await h.command("hana", "/mod mode enforce")
        again = await h.say("bob", "Espèce de connard !")
        assert deleted(h, again)
        assert "mode application" in (await h.command("hana", "/mod mode"))[0].text


async def test_strikes_decay_with_time(profile: str) -> None:
    async with running(profile) as h:
        await h.say("bob", "connard")  # 2 strikes
        await h.advance("6d")  # two half-lives: 0.5 left
        await h.say("bob", "connard")  # 2.5 < 3: no mute
        assert not h.platform.is_muted("bob")
        text = (await h.command("hana", "/mod strikes bob"))[0].text
        assert "**bob** : 2,50 points d’avertissement" in text and "Pas en sourdine." in text


async def test_strikes_escalate_to_longer_temporary_mutes(profile: str) -> None:
    async with running(profile) as h:
        await h.say("bob", "connard")
        await h.say("bob", "connard")  # 4 strikes: first mute, 10 minutes
        assert h.platform.is_muted("bob")
        assert h.platform.mutes["bob"] == h.clock.now() + timedelta(minutes=10)
        assert "sourdine" in dms(h, "bob")[-1]
        await h.advance("11m")
        assert not h.platform.is_muted("bob")
        await h.say("bob", "connard")
        await h.say("bob", "connard")  # the second mute is longer
        assert h.platform.mutes["bob"] == h.clock.now() + timedelta(minutes=60)
        strikes = (await h.command("hana", "/mod strikes bob"))[0].text
        assert "En sourdine jusqu’au" in strikes
        log = (await h.command("hana", "/mod log member:bob"))[0].text
        assert log.count("mis en sourdine") == 2


async def test_pardon_clears_strikes_and_lifts_the_mute(profile: str) -> None:
    async with running(profile) as h:
        await h.say("bob", "connard")
        await h.say("bob", "connard")
        assert h.platform.is_muted("bob")
        replies = await h.command("hana", "/mod pardon bob")
        assert replies[-1].text == "bob est gracié : avertissements effacés, pas de sourdine."
        assert not h.platform.is_muted("bob")
        assert "effacé vos avertissements" in dms(h, "bob")[-1]
        # French writes the singular below 2: « 0,00 point », never « 0,00 points ».
        assert (
            "**bob** : 0,00 point d’avertissement ("
            in (await h.command("hana", "/mod strikes bob"))[0].text
        )
        unknown = await h.command("hana", "/mod pardon zoe")
        assert unknown[-1].text == "Je ne connais aucun membre nommé zoe."


# ------------------------------------------------------------------ host tools, charter


async def test_mod_test_explains_without_acting(profile: str) -> None:
    async with running(profile) as h:
        text = (await h.command("hana", "/mod test Quel abruti, appelle le 06 12 34 56 78"))[0].text
        assert text.startswith(
            "Décision : **retirer**, pour une insulte (règle `insult.directed`)."
        )
        assert "après l’indice « quel »" in text
        assert "`pii.phone` → masquer" in text
        assert "> Quel abruti, appelle le •• •• •• •• ••" in text
        clean = (await h.command("hana", "/mod test Bonne journée"))[0].text
        assert clean == "Rien à signaler : les règles le laissent passer."
        assert await store.recent_log(h.db, await circle_id(h)) == []


async def test_mod_log_filters_by_member(profile: str) -> None:
    async with running(profile) as h:
        assert (await h.command("hana", "/mod log"))[0].text == "Aucune décision pour l’instant."
        await h.say("ana", "06 12 34 56 78")
        await h.say("bob", "Merde.")
        everyone = (await h.command("hana", "/mod log"))[0].text
        assert "ana" in everyone and "bob" in everyone
        only_bob = (await h.command("hana", "/mod log member:bob"))[0].text
        assert "bob" in only_bob and "ana" not in only_bob


async def test_allow_list_and_rule_overrides_per_circle(profile: str) -> None:
    async with running(profile) as h:
        replies = await h.command("hana", "/mod allow sale con")
        assert replies[-1].text == "« sale con » est désormais autorisé dans ce cercle."
        assert not deleted(h, await h.say("bob", "sale con"))
        await h.command("hana", "/mod allow sale con remove:yes")
        assert deleted(h, await h.say("bob", "sale con"))
        rule = await h.command("hana", "/mod rule profanity action:allow")
        assert "Règle `profanity` (des jurons) : laisser passer" in rule[-1].text
        assert not deleted(h, await h.say("bob", "Merde alors"))
        assert not any("Petit rappel" in t for t in dms(h, "bob"))
        unknown = await h.command("hana", "/mod rule nope")
        assert unknown[-1].text.startswith("Règle inconnue : nope.")


async def test_the_charter_is_shown_and_replaced_by_hosts(profile: str) -> None:
    async with running(profile) as h:
        shown = (await h.command("ana", "/charter"))[0].text
        assert shown.startswith("**La charte du cercle**") and "coordonnées" in shown
        refused = await h.command("ana", '/charter set:"Tout est permis"')
        assert refused[-1].text == "Seuls les hôtes peuvent changer la charte."
        await h.command("hana", '/charter set:"Soyons aimables."')
        assert (await h.command("ana", "/charter"))[0].text == "Soyons aimables."
        await h.command("hana", "/charter reset:yes")
        assert (await h.command("ana", "/charter"))[0].text.startswith("**La charte du cercle**")


async def test_the_charter_speaks_the_circles_language(profile: str) -> None:
    async with running(profile) as h:
        from storage import members

        circle = await h.bot.directory.circle_for(h.platform.channel)
        assert circle is not None and circle.id is not None
        await h.bot.directory.changed(await members.update_circle(h.db, circle.id, locale="en"))
        assert (await h.command("ana", "/charter"))[0].text.startswith("**The circle's charter**")
        await h.say("bob", "Damn it")
        assert dms(h, "bob")[-1].startswith("A gentle reminder")


# ------------------------------------------------------------------ member data


async def test_member_data_is_exported_and_erased(profile: str) -> None:
    async with running(profile) as h:
        await h.say("bob", "Sale con.")
        await h.say("bob", "connard")
        ana_ref = await h.say("ana", "Bonjour")
        await h.command("bob", f"/report message:{ana_ref.id} rien")
        bob = await h.bot.directory.member_for(h.platform.user("bob"))
        cog = courtesy(h)
        data = await cog.export_member_data(bob)
        assert {e["action"] for e in data["decisions"]} >= {"hold", "hide"}
        assert [s["weight"] for s in data["strikes"]] == [2.0]
        assert [q["text"] for q in data["queued_messages"]] == ["Sale con."]
        assert [r["note"] for r in data["reports_made"]] == ["rien"]
        await cog.erase_member_data(bob)
        after = await cog.export_member_data(bob)
        assert after == {
            "decisions": [],
            "strikes": [],
            "mutes": [],
            "queued_messages": [],
            "reports_made": [],
            "approved_examples": [],
        }
        [report] = await store.pending(h.db, await circle_id(h))
        assert report.reporter_member_id is None and report.note == ""


async def test_a_platform_refusing_to_delete_does_not_break_moderation(
    profile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(profile) as h:

        async def refuse(message: MessageRef, *, reason: str = "") -> None:
            raise PlatformError("missing permission")

        monkeypatch.setattr(h.platform, "delete", refuse)
        await h.say("bob", "Espèce de connard !")
        [told] = dms(h, "bob")
        assert "retiré" in told and "incident" not in told
        assert [e.action for e in await store.recent_log(h.db, await circle_id(h))] == ["hide"]


async def test_a_mute_is_lifted_on_the_platform_when_it_ends_even_after_a_restart(
    profile: str,
) -> None:
    async with running(profile) as h:
        await h.say("bob", "connard")
        await h.say("bob", "connard")  # muted for 10 minutes
        assert "bob" in h.platform.mutes
        # Matrix mutes through power levels, which never end by themselves: the bot must.
        await h.restart(downtime="2m")
        await h.advance("9m")
        assert "bob" not in h.platform.mutes


async def test_past_the_first_seen_cache_a_long_standing_member_is_no_newcomer(
    profile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("cogs.courtesy.base.FIRST_SEEN_CACHED", 2)
    async with running(profile) as h:
        await h.say("ana", "Bonjour à toutes et à tous")
        await h.advance("3d")
        for name in ("bob", "cy", "dan"):  # ana's first-seen time leaves the cache
            await h.say(name, "Bonjour !")
        assert len(courtesy(h)._first_seen) == 2  # memory stays flat past the cache
        ref = await h.say("ana", "Le compte rendu : https://docs.example/cr")
        assert not deleted(h, ref)  # read again: three days in the circle, not a newcomer
        ref = await h.say("newbie", "Super offre : https://promo.example/x")
        assert deleted(h, ref)
