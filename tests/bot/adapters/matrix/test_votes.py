"""Votes on a real Synapse: statements in the round's thread, ``!vote`` in a direct room.

Matrix has no buttons nor ephemeral replies: a member votes by writing ``!vote <n> <choice>``
to the bot in a direct room, where only they and the bot read it. Written in the circle's
room, the vote still counts, its confirmation goes to the direct room and says the room saw
the command; the bot itself never says in the room who voted what.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bot.config import DigestSettings, VotesSettings
from storage import rounds as rounds_store
from storage import votes as store

pytestmark = pytest.mark.slow


def joined(user_id: str) -> Any:
    """A predicate: ``user_id`` joined a room."""
    return lambda r, e: (
        e.get("type") == "m.room.member"
        and e.get("state_key") == user_id
        and (e.get("content") or {}).get("membership") == "join"
    )


def says(
    kit: SimpleNamespace, bot_id: str, room: str, text: str, *, elsewhere: bool = False
) -> Any:
    """A predicate: the bot's message containing ``text`` in ``room`` (or anywhere else)."""
    return lambda r, e: (
        kit.is_from(bot_id)(r, e)
        and (r != room if elsewhere else r == room)
        and text in str(e["content"].get("body", ""))
    )


async def test_statements_in_the_thread_votes_in_a_direct_room(
    synapse: Any, kit: SimpleNamespace, tmp_path: Path
) -> None:
    bot_account, host_account, ana_account, ben_account, cleo_account, dan_account = [
        await synapse.user(n) for n in ("cercle", "host", "ana", "ben", "cleo", "dan")
    ]
    bot_id = bot_account.user_id
    async with (
        kit.member(synapse, host_account) as host,
        kit.member(synapse, ana_account) as ana,
        kit.member(synapse, ben_account) as ben,
        kit.member(synapse, cleo_account) as cleo,
        kit.member(synapse, dan_account) as dan,
    ):
        room = await kit.create_circle(host, bot_id, [ana, ben, cleo, dan])
        # A small circle's host lowers the minimums: four voters, two a profession, are ranked
        # (two a profession is the least the re-identification guard lets a digest show).
        small = {
            "votes": VotesSettings(min_voters=4, min_professions=2),
            "digest": DigestSettings(min_profession_size=2),
        }
        async with kit.running_bot(
            synapse, bot_account, tmp_path / "cercle.db", inviters=[host.user_id], sections=small
        ) as run:
            await host.wait_for(joined(bot_id))
            await ana.say(room, "!profession set nurse")
            await ben.say(room, "!profession set baker")
            _, tagged = await ana.wait_for(says(kit, bot_id, room, "Nurse", elsewhere=True))
            await ben.wait_for(says(kit, bot_id, room, "Baker", elsewhere=True))
            await cleo.say(room, "!profession set nurse")
            await dan.say(room, "!profession set baker")
            await cleo.wait_for(says(kit, bot_id, room, "Nurse", elsewhere=True))
            await dan.wait_for(says(kit, bot_id, room, "Baker", elsewhere=True))
            await host.say(room, "!prompt now")
            _, prompt = await host.wait_for(says(kit, bot_id, room, "#1"))
            root = prompt["event_id"]

            # A host's statement is posted at once; a member's after a host approves it.
            await host.say(room, "!statement add Our tools keep each profession apart.")
            await ana.say(room, "!statement add We lack time to publish.")
            await ana.wait_for(says(kit, bot_id, room, "Your statement #2", elsewhere=True))
            await host.say(room, "!statement approve 2")
            posted = []
            for text in ("Our tools keep each profession apart.", "We lack time to publish."):
                _, event = await ana.wait_for(says(kit, bot_id, room, text))
                posted.append(event)
            for event in posted:
                relates = event["content"]["m.relates_to"]
                assert relates["rel_type"] == "m.thread" and relates["event_id"] == root
            assert [e["content"]["body"] for e in posted] == [
                "#1 Our tools keep each profession apart.",
                "#2 We lack time to publish.",
            ]

            # Ana votes in her direct room with the bot: the answer comes there, and only there.
            dm = next(r for r, e in ana.events if e is tagged)
            vote = await ana.say(dm, "!vote 1 agree")
            _, recorded = await ana.wait_for(says(kit, bot_id, dm, "Your vote on #1 is recorded"))
            assert "This room saw your command" not in recorded["content"]["body"]
            changed = await ana.say(dm, "!vote 1 disagree")
            _, now = await ana.wait_for(says(kit, bot_id, dm, "Your vote on #1 is now"))
            assert "(it was: agree)" in now["content"]["body"]
            # Ben votes in the circle's room: counted, answered in his direct room with a word
            # on what the room saw; nothing in the room from the bot about it.
            in_room = await ben.say(room, "!vote 2 pass")
            _, warned = await ben.wait_for(
                says(kit, bot_id, room, "Your vote on #2 is recorded", elsewhere=True)
            )
            assert "This room saw your command" in warned["content"]["body"]
            await run.platform.wait_handled([vote, changed, in_room])
            casts = await store.round_votes(run.db, 1)
            # One vote per member and statement, the latest kept, with the voter's profession.
            assert [(c.statement_id, c.choice, c.profession) for c in casts] == [
                (1, store.DISAGREE, "nurse"),
                (2, store.PASS, "baker"),
            ]
            in_the_room = await kit.timeline(host.client, room)
            from_bot = [
                str(e["content"].get("body", ""))
                for e in in_the_room
                if e.get("sender") == bot_id and e.get("type") == "m.room.message"
            ]
            assert not [b for b in from_bot if "vote" in b.lower() and not b.startswith("#")]

            # !help vote says plainly what others can see.
            await ana.say(dm, "!help vote")
            _, helped = await ana.wait_for(says(kit, bot_id, dm, "!vote"))
            body = helped["content"]["body"]
            assert "Nobody sees who voted what" in body
            assert "a command written in the room is seen by everyone" in body
            round_ = await rounds_store.current_round(run.db, 1)
            assert round_ is not None and round_.thread_id == root

            # The bakers agree with #1, the nurses disagree: at the close, the digest says so.
            await ana.answer(room, root, "Networks let me reach families and colleagues.")
            await ben.answer(room, root, "I post my bread on Instagram every morning.")
            cast = []
            for member, choice in ((ben, "agree"), (cleo, "disagree"), (dan, "agree")):
                cast.append(await member.say(room, f"!vote 1 {choice}"))
                await member.wait_for(
                    says(kit, bot_id, room, "Your vote on #1 is recorded", elsewhere=True)
                )
            await run.platform.wait_handled(cast)
            await run.scheduler.advance(timedelta(days=8))
            _, digest = await host.wait_for(
                says(kit, bot_id, room, "Where professions differ"), within=90
            )
            body = digest["content"]["body"]
            differ = body.split("Where professions differ", 1)[1]
            assert "#1 “Our tools keep each profession apart” — 4 voters" in differ
            assert "agree: Baker / Pastry cook 2 of 2 · Nurse 0 of 2" in differ
            # The crux asks the follow-up question.
            assert "do not agree on “Our tools keep each profession apart”" in differ
