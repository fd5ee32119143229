"""The Matrix adapter against a real Synapse: a whole round, a restart without loss, a 429."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bot.adapters.matrix import RateLimited
from bot.types import ChannelRef, Content
from storage import rounds as store
from storage import state

pytestmark = pytest.mark.slow


def is_from(user_id: str, room_id: str | None = None) -> Any:
    """A predicate: an ``m.room.message`` sent by ``user_id`` (in ``room_id`` when given)."""
    return lambda r, e: (
        e.get("type") == "m.room.message"
        and e.get("sender") == user_id
        and (room_id is None or r == room_id)
    )


def joined(user_id: str) -> Any:
    """A predicate: ``user_id`` joined a room."""
    return lambda r, e: (
        e.get("type") == "m.room.member"
        and e.get("state_key") == user_id
        and (e.get("content") or {}).get("membership") == "join"
    )


def direct_from(bot_id: str, room: str) -> Any:
    """A predicate: a message from the bot anywhere but the circle's room (a DM)."""
    return lambda r, e: is_from(bot_id)(r, e) and r != room


async def test_a_round_end_to_end(synapse: Any, kit: SimpleNamespace, tmp_path: Path) -> None:
    """Host opens a round; members tag, answer, comment, react, edit, delete; the round closes."""
    bot_account, host_account, ana_account, ben_account = [
        await synapse.user(n) for n in ("cercle", "host", "ana", "ben")
    ]
    bot_id = bot_account.user_id
    async with (
        kit.member(synapse, host_account) as host,
        kit.member(synapse, ana_account) as ana,
        kit.member(synapse, ben_account) as ben,
    ):
        room = await kit.create_circle(host, bot_id, [ana, ben])
        async with kit.running_bot(
            synapse, bot_account, tmp_path / "cercle.db", inviters=[host.user_id]
        ) as run:
            await host.wait_for(joined(bot_id))
            await ana.say(room, "!profession set nurse")
            await ben.say(room, "!profession set baker")
            _, tagged = await ana.wait_for(direct_from(bot_id, room))
            assert "Nurse" in tagged["content"]["body"]
            await ben.wait_for(direct_from(bot_id, room))

            await host.say(room, "!prompt now")
            _, prompt = await host.wait_for(
                lambda r, e: is_from(bot_id, room)(r, e) and "#1" in e["content"]["body"]
            )
            content = prompt["content"]
            assert content["msgtype"] == "m.notice"
            assert content["format"] == "org.matrix.custom.html"
            assert "<strong>" in content["formatted_body"] and "**" not in content["body"]
            assert content["m.mentions"] == {}
            root = prompt["event_id"]

            a1 = await ana.answer(room, root, "Networks let me reach patients' families.")
            b1 = await ben.answer(room, root, "I show my bread every morning; reach is unfair.")
            c1 = await ben.answer(room, root, "Families matter, yes.", reply_to=a1)
            r1 = await ana.send(
                room,
                "m.reaction",
                {"m.relates_to": {"rel_type": "m.annotation", "event_id": b1, "key": "👍"}},
            )
            e1 = await ana.send(
                room,
                "m.room.message",
                {
                    "msgtype": "m.text",
                    "body": "* Networks let me reach families and colleagues.",
                    "m.new_content": {
                        "msgtype": "m.text",
                        "body": "Networks let me reach families and colleagues.",
                    },
                    "m.relates_to": {"rel_type": "m.replace", "event_id": a1},
                },
            )
            x1 = await ben.answer(room, root, "Oops, wrong thread.")
            gone = await ben.client.room_redact(room, x1, reason="mistake")
            await run.platform.wait_handled([a1, b1, c1, r1, e1, x1, gone.event_id])

            db = run.db
            round_ = await store.round_by_thread(db, "matrix", root)
            assert round_ is not None and round_.id is not None
            answers = {a.message_id: a for a in await store.answers(db, round_.id)}
            assert set(answers) == {a1, b1}
            assert answers[a1].text == "Networks let me reach families and colleagues."
            assert answers[a1].profession_key == "nurse"
            assert answers[b1].profession_key == "baker"
            comments = await store.comments(db, round_.id)
            assert [(c.message_id, c.answer_id) for c in comments] == [(c1, answers[a1].id)]
            reactions = await store.reactions(db, round_.id)
            assert [(r.answer_id, r.emoji) for r in reactions] == [(answers[b1].id, "👍")]

            # Moderation: an insult is redacted (with a reason) and its author told privately;
            # a phone number is redacted and reposted masked, with attribution, in the thread.
            rude = await ben.answer(room, root, "You are an asshole.")
            phone = await ana.answer(room, root, "Call me at +33 6 12 34 56 78 to talk.")
            for gone_id in (rude, phone):
                _, redaction = await host.wait_for(
                    lambda r, e, gone_id=gone_id: (
                        e.get("type") == "m.room.redaction"
                        and gone_id in (e.get("redacts"), (e.get("content") or {}).get("redacts"))
                    )
                )
                assert redaction["sender"] == bot_id
                assert redaction["content"].get("reason")
            await ben.wait_for(
                lambda r, e: direct_from(bot_id, room)(r, e) and "removed" in e["content"]["body"]
            )
            await ana.wait_for(
                lambda r, e: (
                    direct_from(bot_id, room)(r, e) and "contact details" in e["content"]["body"]
                )
            )
            _, masked = await host.wait_for(
                lambda r, e: is_from(bot_id, room)(r, e) and "wrote:" in e["content"]["body"]
            )
            assert "12 34 56 78" not in masked["content"]["body"]
            assert masked["content"]["m.relates_to"]["event_id"] == root

            # A second private reply reuses the same direct room.
            await ana.say(room, "!profession me")
            await ana.wait_for(lambda r, e: len(ana.seen(direct_from(bot_id, room))) >= 2)
            dm_rooms = {r for r, e in ana.events if direct_from(bot_id, room)(r, e)}
            assert len(dm_rooms) == 1
            assert await state.get_state(db, "matrix", f"dm:{ana.user_id}") == dm_rooms.pop()

            # The scheduled close posts in the thread (Matrix cannot lock it).
            await run.scheduler.advance(timedelta(days=8))
            _, closing = await host.wait_for(
                lambda r, e: (
                    is_from(bot_id, room)(r, e)
                    and (e["content"].get("m.relates_to") or {}).get("event_id") == root
                    and "closed" in e["content"]["body"]
                )
            )
            assert closing["content"]["m.relates_to"]["rel_type"] == "m.thread"
            closed = await store.get_round(db, round_.id)
            assert closed is not None and closed.status == store.ROUND_CLOSED
            # The digest follows, its chart uploaded as an m.image.
            _, chart = await host.wait_for(
                lambda r, e: (
                    is_from(bot_id, room)(r, e) and e["content"].get("msgtype") == "m.image"
                ),
                within=90,
            )
            assert chart["content"]["url"].startswith("mxc://")
            assert chart["content"]["info"]["mimetype"] == "image/png"
            assert chart["content"]["info"]["w"] > 0


async def test_restart_without_loss(synapse: Any, kit: SimpleNamespace, tmp_path: Path) -> None:
    """Answers posted while the bot is down are stored exactly once; history never handled."""
    bot_account, host_account, ana_account, ben_account = [
        await synapse.user(n) for n in ("cercle", "host", "ana", "ben")
    ]
    bot_id = bot_account.user_id
    db_path = tmp_path / "cercle.db"
    async with (
        kit.member(synapse, host_account) as host,
        kit.member(synapse, ana_account) as ana,
        kit.member(synapse, ben_account) as ben,
    ):
        room = await kit.create_circle(host, bot_id, [ana, ben])
        others = [await kit.poster(synapse, await synapse.user("m"), room, host) for _ in range(11)]
        # History: said before the bot ever started. Never answered.
        await ana.say(room, "!help")
        await ben.say(room, "!profession set baker")

        async with kit.running_bot(synapse, bot_account, db_path, inviters=[host.user_id]) as run:
            assert run.platform.logged_in_with_password
            device = run.platform.device_id
            await host.wait_for(joined(bot_id))
            await ana.say(room, "!profession set nurse")
            await ana.wait_for(direct_from(bot_id, room))
            assert len(ana.seen(direct_from(bot_id, room))) == 1  # no reply to the old !help
            await host.say(room, "!prompt now")
            _, prompt = await host.wait_for(
                lambda r, e: is_from(bot_id, room)(r, e) and "#1" in e["content"]["body"]
            )
            root = prompt["event_id"]
            live = await ana.answer(room, root, "Answered while the bot runs.")
            await run.platform.wait_handled([live])

        # The bot is down: 50 answers arrive, from a dozen members (a few each: one member
        # posting 25 at once would rightly be stopped as a flood by the courtesy rules).
        async def burst(person: Any, count: int) -> list[str]:
            return [await person.answer(room, root, f"answer {i}") for i in range(count)]

        offline = [
            event_id
            for ids in await asyncio.gather(
                burst(ana, 3), burst(ben, 3), *(burst(other, 4) for other in others)
            )
            for event_id in ids
        ]
        assert len(set(offline)) == 50

        # Restart with a small timeline: the gap is filled from /messages.
        async with kit.running_bot(
            synapse, bot_account, db_path, inviters=[host.user_id], timeline_limit=10
        ) as run:
            assert not run.platform.logged_in_with_password
            assert run.platform.device_id == device
            await run.platform.wait_handled(offline, within=60)
            round_ = await store.round_by_thread(run.db, "matrix", root)
            assert round_ is not None and round_.id is not None
            stored = [a.message_id for a in await store.answers(run.db, round_.id)]
            assert sorted(stored) == sorted([live, *offline])  # each exactly once
            # Ben never set a profession (his command was history): asked once, not twice.
            await ben.wait_for(direct_from(bot_id, room))

        # A third start replays nothing.
        async with kit.running_bot(
            synapse, bot_account, db_path, inviters=[host.user_id], timeline_limit=10
        ) as run:
            await ana.say(room, "!profession me")
            await ana.wait_for(lambda r, e: len(ana.seen(direct_from(bot_id, room))) >= 2)
            round_ = await store.round_by_thread(run.db, "matrix", root)
            assert round_ is not None and round_.id is not None
            assert len(await store.answers(run.db, round_.id)) == 51
        await asyncio.gather(*(other.client.close() for other in others))
        assert len(ana.seen(direct_from(bot_id, room))) == 2
        assert len(ben.seen(direct_from(bot_id, room))) == 1


async def test_rate_limit_is_honoured(synapse: Any, kit: SimpleNamespace, tmp_path: Path) -> None:
    """A 429 is waited out (bounded), and the bot keeps serving."""
    bot_account, host_account, ana_account = [
        await synapse.user(n) for n in ("cercle", "host", "ana")
    ]
    bot_id = bot_account.user_id
    override = f"/_synapse/admin/v1/users/{bot_id}/override_ratelimit"
    async with kit.member(synapse, host_account) as host, kit.member(synapse, ana_account) as ana:
        room = await kit.create_circle(host, bot_id, [ana])
        async with kit.running_bot(
            synapse, bot_account, tmp_path / "cercle.db", inviters=[":localhost"]
        ) as run:
            await host.wait_for(joined(bot_id))
            await synapse.admin_api("POST", override, {"messages_per_second": 1, "burst_count": 1})
            try:
                channel = ChannelRef("matrix", room)
                sent = [await run.platform.send(channel, Content(f"burst {i}")) for i in range(3)]
                assert run.platform.rate_limited >= 1
                for ref in sent:
                    await host.wait_for(lambda r, e, ref=ref: e.get("event_id") == ref.id)

                # Bounded: with no retry left the caller hears about it.
                run.platform.max_retries = 0
                with pytest.raises(RateLimited):
                    for i in range(3):
                        await run.platform.send(channel, Content(f"no retry {i}"))
                run.platform.max_retries = 5

                # Still rate limited, the bot keeps answering.
                await ana.say(room, "!profession set nurse")
                await ana.wait_for(direct_from(bot_id, room))
            finally:
                await synapse.admin_api("DELETE", override)


async def test_a_mute_lowers_the_power_level_and_its_end_restores_it(
    synapse: Any, kit: SimpleNamespace, tmp_path: Path
) -> None:
    """Repeated insults mute through power levels; when the mute ends the bot restores them."""
    bot_account, host_account, ana_account = [
        await synapse.user(n) for n in ("cercle", "host", "ana")
    ]
    bot_id = bot_account.user_id
    async with (
        kit.member(synapse, host_account) as host,
        kit.member(synapse, ana_account) as ana,
    ):
        room = await kit.create_circle(host, bot_id, [ana])

        async def ana_level() -> int:
            levels = await host.client.room_get_state_event(room, "m.room.power_levels")
            content = levels.content
            return int(content.get("users", {}).get(ana.user_id, content.get("users_default", 0)))

        async with kit.running_bot(
            synapse, bot_account, tmp_path / "cercle.db", inviters=[host.user_id]
        ) as run:
            await host.wait_for(joined(bot_id))
            before = await ana_level()
            await ana.say(room, "espèce de connard")
            await ana.say(room, "quel connard tu fais")
            await ana.wait_for(
                lambda r, e: direct_from(bot_id, room)(r, e) and "muted" in e["content"]["body"]
            )

            async def level_is(check: Any) -> None:
                while not check(await ana_level()):  # noqa: ASYNC110
                    await asyncio.sleep(0.1)  # the bot's state change reaches the server

            await asyncio.wait_for(level_is(lambda level: level < 0), 20)
            # The mute's end is a scheduled job: advance the bot's clock past it.
            await run.scheduler.advance(timedelta(minutes=11))
            await asyncio.wait_for(level_is(lambda level: level == before), 20)


async def test_starting_from_an_access_token(
    synapse: Any, kit: SimpleNamespace, tmp_path: Path
) -> None:
    """With only an access token configured, the bot uses it (no password login) and works."""
    bot_account, host_account = [await synapse.user(n) for n in ("cercle", "host")]
    bot_id = bot_account.user_id
    async with kit.member(synapse, host_account) as host:
        room = await kit.create_circle(host, bot_id, [])
        async with kit.running_bot(
            synapse, bot_account, tmp_path / "cercle.db", inviters=[host.user_id], with_token=True
        ) as run:
            assert not run.platform.logged_in_with_password
            await host.wait_for(joined(bot_id))
            await host.say(room, "!help")
            _, reply = await host.wait_for(direct_from(bot_id, room))
            assert "help" in reply["content"]["body"]
