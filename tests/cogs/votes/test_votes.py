"""Statements and private votes, end to end on both capability profiles (no drafting here:
the hosts write the statements, so no encoder is loaded; see test_drafts.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot.adapters.memory import Sent
from bot.testing import Harness
from bot.types import ChannelRef, CommandInvoked, ThreadRef
from storage import votes as store

START = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)
PROFESSIONS = {"ana": "infirmière", "bob": "architecte", "dan": "avocat"}
SAID = "Les réseaux enferment chaque métier dans sa bulle."


async def open_round(h: Harness) -> ThreadRef:
    await h.say("ana", "bonjour")
    for name, wording in PROFESSIONS.items():
        await h.command(name, f"/profession set {wording}")
    await h.command("hana", "/prompt now")
    return list(h.platform.threads.values())[-1]


def statements_posted(h: Harness) -> list[Sent]:
    return [s for s in h.public() if s.text.startswith("**n°") and not s.deleted]


async def host_adds(h: Harness, text: str = SAID) -> int:
    replies = await h.command("hana", f"/statement add {text}")
    assert "est publié dans le fil du tour" in replies[-1].text
    return int(statements_posted(h)[-1].text.split("**n°")[1].split("**")[0])


def dm(h: Harness, name: str) -> ChannelRef:
    return ChannelRef(h.platform.name, f"dm-{name}", direct=True)


async def run(h: Harness, name: str, text: str, channel: ChannelRef | None) -> list[Sent]:
    """Member ``name`` runs a command in ``channel`` (default: the circle's)."""
    before = len(h.sent)
    await h.platform.command(name, text, channel=channel)
    return h.sent[before:]


async def test_a_vote_is_private_changeable_and_one_per_member(profile: str) -> None:
    async with Harness(profile, start=START, hosts=["hana"]) as h:
        thread = await open_round(h)
        number = await host_adds(h)
        (post,) = statements_posted(h)
        assert post.ref.thread is not None and post.ref.thread.id == thread.id
        assert SAID in post.text
        where = dm(h, "ana") if profile == "matrix" else None
        first = await run(h, "ana", f"/vote {number} agree", where)
        assert [s.where for s in first] == ["direct" if profile == "matrix" else "ephemeral"]
        assert "d’accord" in first[0].text and "Personne ne voit qui a voté quoi" in first[0].text
        changed = await run(h, "ana", f"/vote {number} contre", where)
        assert "pas d’accord" in changed[0].text and "(c’était : d’accord)" in changed[0].text
        await run(h, "bob", f"/vote #{number} pass", dm(h, "bob") if where else None)
        # Nobody else saw any vote: nothing public mentions them.
        assert not [s for s in h.public() if "vote" in s.text.lower() and "**n°" not in s.text]
        casts = await store.round_votes(h.db, 1)
        assert sorted((c.choice, c.profession) for c in casts) == [
            ("disagree", "nurse"),
            ("pass", "architect"),
        ]


async def test_a_vote_in_the_room_of_a_text_platform_is_warned_about() -> None:
    async with Harness("matrix", start=START, hosts=["hana"]) as h:
        await open_round(h)
        number = await host_adds(h)
        replies = await h.command("ana", f"/vote {number} agree")
        assert [s.where for s in replies] == ["direct"]
        assert "Ce salon a vu votre commande" in replies[0].text
        assert "(`!vote <n> pour|contre|passe`)" in replies[0].text  # French choice words
        quiet = await run(h, "ana", f"/vote {number} agree", dm(h, "ana"))
        assert "Ce salon a vu" not in quiet[0].text


async def test_the_buttons_under_a_statement_vote(profile: str) -> None:
    async with Harness(profile, start=START, hosts=["hana"]) as h:
        await open_round(h)
        number = await host_adds(h)
        (post,) = statements_posted(h)
        assert [a.options for a in post.actions] == [
            (("statement", str(number)), ("choice", choice))
            for choice in ("agree", "disagree", "pass")
        ]
        before = len(h.sent)
        await h.platform.press("dan", post, 1)
        replies = h.sent[before:]
        assert len(replies) == 1 and replies[0].to is not None and replies[0].to.id == "dan"
        dan = await h.bot.directory.member_for(h.platform.user("dan"))
        vote = await store.vote_of(h.db, number, dan)
        assert vote is not None and vote.choice == store.DISAGREE


async def test_a_vote_replayed_by_the_platform_is_stored_and_confirmed_once(profile: str) -> None:
    async with Harness(profile, start=START, hosts=["hana"]) as h:
        await open_round(h)
        number = await host_adds(h)
        event = CommandInvoked(
            channel=h.platform.channel,
            user=h.platform.user("ana"),
            at=h.clock.now(),
            id="cmd-replayed",
            path=("vote",),
            options={"statement": str(number), "choice": "agree"},
            reply_token=h.platform.channel,
        )
        before = len(h.sent)
        await h.platform.deliver(event)
        await h.platform.deliver(event)
        await h.restart()
        await h.platform.deliver(event)
        assert len(h.sent) - before == 1
        assert await store.vote_count(h.db, number) == 1


async def test_members_propose_hosts_approve_edit_and_drop(profile: str) -> None:
    async with Harness(profile, start=START, hosts=["hana"]) as h:
        await open_round(h)
        replies = await h.command("ana", "/statement add On manque de temps pour publier.")
        assert "va aux hôtes" in replies[-1].text
        assert statements_posted(h) == []  # held for the hosts
        refused = await h.command("ana", "/statement approve 1")
        assert "réservé aux hôtes" in refused[-1].text
        listing = await h.command("hana", "/statement list")
        assert "En attente d’un hôte" in listing[-1].text and "#1" in listing[-1].text
        assert "En attente" not in (await h.command("bob", "/statement list"))[-1].text

        await h.command("hana", "/statement edit 1 On manque de temps pour publier en ligne.")
        await h.command("hana", "/statement approve 1")
        (post,) = statements_posted(h)
        assert "publier en ligne" in post.text
        await h.command("hana", "/statement edit 1 Publier en ligne prend trop de temps.")
        assert "Publier en ligne prend trop de temps." in post.text  # the message was edited

        await h.command("bob", "/vote 1 agree")
        refused = await h.command("hana", "/statement edit 1 Autre chose encore.")
        assert "ont déjà voté" in refused[-1].text
        assert "prend trop de temps" in post.text

        await h.command("hana", "/statement drop 1")
        assert post.deleted and statements_posted(h) == []
        gone = await h.command("bob", "/vote 1 agree")
        assert "Il n’y a pas d’énoncé n°1 ouvert au vote" in gone[-1].text
        assert await store.round_votes(h.db, 1) == []  # its vote no longer counts


async def test_list_shows_each_members_own_vote_only(profile: str) -> None:
    async with Harness(profile, start=START, hosts=["hana"]) as h:
        await open_round(h)
        number = await host_adds(h)
        await h.command("bob", f"/vote {number} agree")
        mine = await h.command("bob", "/statement list")
        theirs = await h.command("dan", "/statement list")
        assert "_d’accord_" in mine[-1].text
        assert "_pas encore voté_" in theirs[-1].text and "_d’accord_" not in theirs[-1].text


async def test_bad_votes_are_explained(profile: str) -> None:
    async with Harness(profile, start=START, hosts=["hana"]) as h:
        await open_round(h)
        number = await host_adds(h)
        for text in (f"/vote {number}", f"/vote {number} peut-être", "/vote agree"):
            replies = await h.command("ana", text)
            assert "Donnez le numéro de l’énoncé" in replies[-1].text, text
        missing = await h.command("ana", "/vote 999 agree")
        assert "Il n’y a pas d’énoncé n°999 ouvert au vote" in missing[-1].text
        assert await store.vote_count(h.db, number) == 0


async def test_a_french_circle_is_shown_and_takes_the_french_choice_words() -> None:
    async with Harness("matrix", start=START, hosts=["hana"]) as h:
        await open_round(h)
        number = await host_adds(h)
        bad = await run(h, "ana", f"/vote {number} peut-être", dm(h, "ana"))
        assert "Utilisation : !vote <énoncé> [choix:<pour|contre|passe>]" in bad[-1].text
        voted = await run(h, "ana", f"/vote {number} choix:contre", dm(h, "ana"))
        assert f"Votre vote sur n°{number} est enregistré : pas d’accord." in voted[-1].text


async def test_votes_close_when_the_next_round_opens(profile: str) -> None:
    async with Harness(profile, start=START, hosts=["hana"]) as h:
        await open_round(h)
        number = await host_adds(h)
        await h.advance("6d")  # closed, the next round not open yet: still open to votes
        late = await h.command("ana", f"/vote {number} agree")
        assert "est enregistré" in late[-1].text
        await h.advance("2d")  # the next Monday's round opened
        closed = await h.command("bob", f"/vote {number} agree")
        assert "Les votes sur n°" in closed[-1].text and "nouveau tour" in closed[-1].text
        assert await store.vote_count(h.db, number) == 1


async def test_help_says_what_others_can_see(profile: str) -> None:
    async with Harness(profile, start=START) as h:
        await h.say("ana", "bonjour")
        shown = await h.command("ana", "/help vote")
        assert "Personne ne voit qui a voté quoi" in shown[-1].text
        assert "conversation privée" in shown[-1].text


async def test_a_forgotten_member_leaves_no_vote_nor_proposal(profile: str) -> None:
    async with Harness(profile, start=START, hosts=["hana"]) as h:
        await open_round(h)
        number = await host_adds(h)
        mine = "Les kumquats nocturnes méritent un réseau à eux."
        await h.command("ana", f"/statement add {mine}")
        await h.command("hana", "/statement approve 2")
        await h.command("ana", f"/vote {number} agree")
        await h.command("bob", "/vote 2 agree")
        replies = await h.command("ana", "/circle mydata")
        exported = replies[-1].content.attachments[0].data.decode()
        assert mine in exported and '"choice": "agree"' in exported
        ana = await h.bot.directory.member_for(h.platform.user("ana"))
        await h.command("ana", "/circle forget confirm:yes")
        assert [s.text for s in statements_posted(h)] == [f"**n°{number}** {SAID}"]
        assert await store.member_data(h.db, ana) == {"votes": [], "proposed_statements": []}
        assert await store.round_votes(h.db, 1) == []


async def test_votes_arriving_together_are_each_stored_and_confirmed(
    profile: str, db_url: str | None
) -> None:
    async with Harness(profile, start=START, hosts=["hana"], db_url=db_url) as h:
        await open_round(h)
        first, second = await host_adds(h), await host_adds(h, "Publier prend du temps.")
        names = [f"m{i}" for i in range(20)]
        for name in names:
            await h.say(name, "bonjour")
        before = len(h.sent)

        async def vote(name: str, text: str) -> None:
            await h.platform.command(name, text, channel=dm(h, name))

        choices = [("disagree", "agree")[i % 2] for i in range(len(names))]

        # Side by side, as a busy gateway delivers them: they share lookups and one write.
        await asyncio.gather(
            *(vote(n, f"/vote {first} {c}") for n, c in zip(names, choices, strict=True)),
            *(vote(n, f"/vote {second} pass") for n in names[:10]),
            vote("ana", f"/vote {first} agree"),
        )
        replies = h.sent[before:]
        assert len(replies) == 31 and all(s.where in ("direct", "ephemeral") for s in replies)
        assert sum("est enregistré" in s.text for s in replies) == 31
        casts = await store.round_votes(h.db, 1)
        assert len(casts) == 31
        assert sum(c.choice == "agree" for c in casts if c.statement_id == first) == 11
        assert [c.profession for c in casts if c.member_id == 1] == ["nurse"]  # ana
