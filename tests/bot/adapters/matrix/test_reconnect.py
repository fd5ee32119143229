"""Synapse restarts under a running bot: it reconnects by itself, nothing lost, nothing twice.

The test has a Synapse of its own (``own_synapse``: stopping the session's would break the
other tests), restarted on the same port with the same data.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.effects import Effects, event_key
from bot.types import ChannelRef, Content, MessageRef, ThreadRef
from storage import rounds as store

pytestmark = pytest.mark.slow


class Crash(Exception):
    """The bot died right after Synapse accepted a send, before the ledger recorded it."""


def _joined(user_id: str) -> Any:
    return lambda r, e: (
        e.get("type") == "m.room.member"
        and e.get("state_key") == user_id
        and (e.get("content") or {}).get("membership") == "join"
    )


async def test_a_synapse_restart_loses_nothing_and_doubles_nothing(
    own_synapse: Any, kit: SimpleNamespace, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    synapse = own_synapse
    bot_account, host_account, ana_account, ben_account = [
        await synapse.user(n) for n in ("cercle", "host", "ana", "ben")
    ]
    bot_id = bot_account.user_id
    # Small retry delays keep the outage short to ride out; the budget of a request's retries
    # (about 10 s) outlasts a restart, so a send under way is delayed, not failed.
    knobs = {"retry_cap": 0.5, "max_retries": 20, "reconnect_cap": 0.5}
    async with (
        kit.member(synapse, host_account) as host,
        kit.member(synapse, ana_account) as ana,
        kit.member(synapse, ben_account) as ben,
    ):
        room = await kit.create_circle(host, bot_id, [ana, ben])

        def direct(r: str, e: dict[str, Any]) -> bool:
            return bool(kit.is_from(bot_id)(r, e)) and r != room

        async with kit.running_bot(
            synapse, bot_account, tmp_path / "cercle.db", inviters=[host.user_id], **knobs
        ) as run:
            platform = run.platform
            await host.wait_for(_joined(bot_id))
            await ana.say(room, "!profession set nurse")
            await ben.say(room, "!profession set baker")
            await ana.wait_for(direct)
            await ben.wait_for(direct)
            await host.say(room, "!prompt now")
            _, prompt = await host.wait_for(
                lambda r, e: kit.is_from(bot_id, room)(r, e) and "#1" in e["content"]["body"]
            )
            root = prompt["event_id"]
            before = await ana.answer(room, root, "Answered before the outage.")
            await platform.wait_handled([before])

            # A send Synapse accepted whose recording a crash prevented: sent again after the
            # restart, under the same transaction id (Synapse keeps those in its database).
            effects = Effects(run.db, FakeClock(datetime.now(UTC)))
            thread = ThreadRef(ChannelRef("matrix", room), root)
            accepted: list[MessageRef] = []

            async def post(*, crash: bool) -> None:
                accepted.append(
                    await platform.send(thread.channel, Content("Noted."), thread=thread)
                )
                if crash:
                    raise Crash

            async with effects.scope(event_key("test", "noted")):
                with pytest.raises(Crash):
                    await effects.once("send", lambda: post(crash=True))

            # Synapse stops while the bot is about to answer ana's command: the reply is sent
            # to a server that is away, and retried until it is back.
            original = platform.send
            outage = asyncio.Event()

            async def send(
                channel: ChannelRef, content: Content, *, thread: ThreadRef | None = None
            ) -> MessageRef:
                if "Your profession" in content.text and not outage.is_set():
                    outage.set()
                    await synapse.server.stop()
                return await original(channel, content, thread=thread)

            platform.send = send  # type: ignore[method-assign]
            with caplog.at_level(logging.WARNING, logger="bot.adapters.matrix"):
                await ana.say(room, "!profession me")
                await asyncio.wait_for(outage.wait(), 30)
                await synapse.server.start()  # same port, same data
                await ana.wait_for(lambda r, e: len(ana.seen(direct)) >= 2, within=60)
            platform.send = original  # type: ignore[method-assign]
            # (The reply is sent from the sync loop's handling of the command: the loop
            # waited for it and never saw the outage.)

            # Synapse restarts while the bot is idle, its sync long-polling.
            with caplog.at_level(logging.WARNING, logger="bot.adapters.matrix"):
                await synapse.server.restart()

                async with effects.scope(event_key("test", "noted")):
                    await effects.once("send", lambda: post(crash=False))

                # Right after it is back, members post; the bot handles it all, once.
                after = [
                    await ben.answer(room, root, "Answered right after the restart."),
                    await ana.answer(room, root, "And a second thought from me."),
                ]
                added = await host.say(room, "!prompt add What changed in your work this year?")
                await ben.say(room, "!profession me")  # handled last: everything before it was
                await ben.wait_for(lambda r, e: len(ben.seen(direct)) >= 2, within=60)
                await platform.wait_handled([*after, added])

            round_ = await store.round_by_thread(run.db, "matrix", root)
            assert round_ is not None and round_.id is not None
            stored = [a.message_id for a in await store.answers(run.db, round_.id)]
            ana_direct = await kit.bot_messages(ana.client, bot_id, direct_only=True)
            in_room = await kit.bot_messages(host.client, bot_id)

    assert sorted(stored) == sorted([before, *after])  # each answer once, none lost
    # Ana: told her profession when she set it, and once when she asked during the outage.
    assert [len(bodies) for bodies in ana_direct.values()] == [2]
    assert in_room[room].count("Noted.") == 1 and accepted[0] == accepted[1]
    assert sum("added to the bank" in body for body in in_room[room]) == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any(m.startswith("Matrix send m.room.message") and "retry" in m for m in warnings)
    assert any(m.startswith("Matrix sync") for m in warnings)  # the idle sync lost it too
