"""Catch-up through SimCord: a message the core could not settle is not marked seen."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from bot.adapters.discord import DiscordPlatform
from bot.adapters.discord.catchup import CATCH_UP
from bot.config import DiscordSettings
from bot.platform import EventNotHandled
from bot.supervisor import Supervisor, TaskStatus
from bot.types import Event, MessagePosted
from storage import state


async def test_a_refused_message_stops_its_thread_and_is_caught_up_again_later(
    world: Any, caplog: pytest.LogCaptureFixture
) -> None:
    await world.start_bot()
    s = world.server()
    result = await s.hana.slash(s.channel, "prompt now")
    assert result.response is not None
    (thread,) = s.channel.threads
    key = f"thread:{thread.id}"
    await s.ana.send(thread, "Réponse vue en direct.")
    await world.bots[-1].stop()
    refused = await s.bob.send(thread, "refused once, then kept")
    after = await s.ana.send(thread, "after the refused one")

    heard: list[str] = []
    stored_when_refused: list[str | None] = []
    done = asyncio.Event()

    async def sink(event: Event) -> None:
        if not isinstance(event, MessagePosted):
            return
        heard.append(event.text)
        if event.text.startswith("refused") and heard.count(event.text) == 1:
            stored_when_refused.append(await state.get_state(world.db, "discord", key))
            raise EventNotHandled("MessagePosted: DatabaseUnavailable: connection refused")
        if event.text.startswith("after"):
            done.set()

    platform = DiscordPlatform(
        DiscordSettings(), db=world.db, clock=world.clock, locale="fr", connector=world.connect
    )
    with caplog.at_level(logging.WARNING, logger="bot.supervisor"):
        await platform.start(sink)  # its catch-up starts at READY
        try:
            await asyncio.wait_for(done.wait(), 30)
            await world.sim.settle()
        finally:
            await platform.stop()

    # Nothing after the refused message was handed before it, and it was not marked seen.
    assert heard == ["refused once, then kept"] * 2 + ["after the refused one"]
    (stored,) = stored_when_refused
    assert stored is not None and int(stored.split(":")[1]) < refused.id
    final = await state.get_state(world.db, "discord", key)
    assert final is not None and int(final.split(":")[1]) == after.id
    assert any(
        r.getMessage().startswith("discord-catch-up failed (EventNotHandled: message")
        for r in caplog.records
    )


async def test_a_refused_live_message_is_not_passed_by_a_later_one(world: Any) -> None:
    await world.start_bot()
    s = world.server()
    await s.hana.slash(s.channel, "prompt now")
    (thread,) = s.channel.threads
    key = f"thread:{thread.id}"
    await world.bots[-1].stop()

    gate = asyncio.Event()  # the database is back
    handled: list[str] = []
    later_handled = asyncio.Event()
    done = asyncio.Event()

    async def sink(event: Event) -> None:
        if not isinstance(event, MessagePosted):
            return
        if event.text.startswith("refused") and not gate.is_set():
            raise EventNotHandled("MessagePosted: DatabaseUnavailable: connection refused")
        handled.append(event.text)
        if event.text.startswith("later"):
            (done if gate.is_set() else later_handled).set()

    async def until_the_database_is_back(_delay: float) -> None:
        await world.sim.external_wait(gate.wait(), reason="the database comes back")

    supervisor = Supervisor(world.clock, sleep=until_the_database_is_back)
    platform = DiscordPlatform(
        DiscordSettings(),
        db=world.db,
        clock=world.clock,
        locale="fr",
        connector=world.connect,
        supervisor=supervisor,
    )
    await platform.start(sink)
    try:
        await world.sim.settle()
        refused = await s.bob.send(thread, "refused while the database is away")
        later = await s.ana.send(thread, "later, handled live")
        await world.sim.settle()
        assert later_handled.is_set()
        caught_up = supervisor.state(CATCH_UP)
        assert caught_up is not None and caught_up.status is TaskStatus.RESTARTING
        position = await state.get_state(world.db, "discord", key)
        # The later message was handled, but the thread's position stayed before the refused one.
        assert position is None or int(position.split(":")[1]) < refused.id
        gate.set()
        await asyncio.wait_for(done.wait(), 30)  # the catch-up retries with backoff
        await world.sim.settle()
    finally:
        await platform.stop()

    assert handled[0] == "later, handled live"
    assert handled[1:] == ["refused while the database is away", "later, handled live"]
    final = await state.get_state(world.db, "discord", key)
    assert final is not None and int(final.split(":")[1]) == later.id


async def test_a_backlog_is_caught_up_side_by_side_each_member_in_order(world: Any) -> None:
    await world.start_bot()
    s = world.server()
    await s.hana.slash(s.channel, "prompt now")
    (thread,) = s.channel.threads
    key = f"thread:{thread.id}"
    await world.bots[-1].stop()
    before = await state.get_state(world.db, "discord", key)
    # While the bot is away: 14 members answer 5 times each, then Bob replies to the last
    # answer; one answer in the middle is refused once (the database is away).
    members = [s.guild.add_member(world.sim.create_user(f"m{i}")) for i in range(14)]
    posted: list[str] = []
    last = None
    for n in range(5):
        for i, member in enumerate(members):
            last = await member.send(thread, f"m{i} answer {n}")
            posted.append(last.content)
    reply = await s.bob.send(thread, "Bob replies", reply_to=last)
    posted.append(reply.content)
    refused = posted[len(posted) // 2]

    heard: list[str] = []
    running = most = 0
    stored_when_refused: list[str | None] = []
    done = asyncio.Event()

    async def sink(event: Event) -> None:
        nonlocal running, most
        if not isinstance(event, MessagePosted):
            return
        running += 1
        most = max(most, running)
        try:
            await asyncio.sleep(0.001)  # a database round trip
            if event.text == refused and refused not in heard:
                heard.append(refused)
                stored_when_refused.append(await state.get_state(world.db, "discord", key))
                raise EventNotHandled("MessagePosted: DatabaseUnavailable: connection refused")
            heard.append(event.text)
            if heard.count("Bob replies") and heard.count(refused) == 2:
                done.set()
        finally:
            running -= 1

    platform = DiscordPlatform(
        DiscordSettings(), db=world.db, clock=world.clock, locale="fr", connector=world.connect
    )
    await platform.start(sink)  # its catch-up starts at READY
    try:
        await asyncio.wait_for(done.wait(), 30)
        await world.sim.settle()
    finally:
        await platform.stop()

    assert most > 1  # side by side, not one at a time
    # The first pass stopped at the refusal: its position had not moved past the backlog.
    assert stored_when_refused == [before]
    # Read again from the first message not settled: each member in order, the reply after
    # the answer it replies to; then the position is the backlog's last message.
    again = heard[len(heard) - 1 - heard[::-1].index(refused) :]
    assert set(again) >= set(posted[posted.index(refused) :])
    for i in range(14):
        mine = [t for t in again if t.startswith(f"m{i} ")]
        assert mine == [t for t in posted if t.startswith(f"m{i} ")][-len(mine) :]
    assert again.index("Bob replies") > again.index(last.content)
    final = await state.get_state(world.db, "discord", key)
    assert final is not None and int(final.split(":")[1]) == reply.id
