"""Transaction ids from the effects ledger: an effect sent again is one event, across restarts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import SecretStr

from bot.adapters.matrix import MatrixPlatform
from bot.adapters.matrix.base import SESSION
from bot.adapters.matrix.sending import transaction_id
from bot.clock import FakeClock
from bot.config import MatrixSettings
from bot.effects import Effects, event_key
from bot.types import ChannelRef, Content, Event
from storage import state
from storage.database import Database


class Crash(Exception):
    """The process died right after the homeserver accepted a send, before it was recorded."""


async def _ignore(_event: Event) -> None:
    return None


async def test_a_transaction_id_follows_the_effect_and_is_random_outside_one(
    tmp_path: Path,
) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'cercle.db'}")
    await db.upgrade()
    effects = Effects(db, FakeClock(datetime.now(UTC)))
    ids: dict[str, list[str]] = {"a": [], "b": []}

    async def perform(scope: str) -> None:
        ids[scope] += [transaction_id(), transaction_id(), transaction_id("file0")]
        raise Crash  # not recorded: the next attempt performs again, under the same key

    try:
        for scope in ("a", "b", "a"):
            async with effects.scope(event_key("test", scope)):
                with pytest.raises(Crash):
                    await effects.once("send", lambda scope=scope: perform(scope))
    finally:
        await db.dispose()

    first, again = ids["a"][:3], ids["a"][3:]
    assert first == again  # a replay of the effect sends under the same ids
    assert first[0] == first[1] != first[2]  # each event of one effect has its own
    assert set(first).isdisjoint(ids["b"])  # another effect, other ids
    assert all(t.startswith("cercle-") and t[7:].isalnum() and len(t) == 39 for t in first)
    outside = {transaction_id() for _ in range(3)}
    assert len(outside) == 3 and not any(t.startswith("cercle-") for t in outside)


@pytest.mark.slow
async def test_an_effect_sent_again_after_a_restart_is_one_event_on_synapse(
    synapse: Any, kit: SimpleNamespace, tmp_path: Path
) -> None:
    """The same effect, sent by three sessions of the bot's device, is one event in the room.

    A send the homeserver accepted but the ledger never recorded (a crash in between) is sent
    again: by the restarted bot (its stored session), and by a fresh login on the same device
    (the stored token refused). Synapse answers with the first event each time. Another device
    would post it again: the dedupe holds because the bot keeps its device.
    """
    bot_account, host_account = [await synapse.user(n) for n in ("cercle", "host")]
    bot_id = bot_account.user_id
    clock = FakeClock(datetime.now(UTC))
    settings = MatrixSettings(
        homeserver=synapse.url,
        user_id=bot_id,
        password=SecretStr(bot_account.password),
        allowed_inviters=[host_account.user_id],
    )
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'cercle.db'}")
    await db.upgrade()
    key = event_key("matrix", "test-event")
    sent: list[str] = []
    devices: list[str | None] = []

    async def send_once(platform: MatrixPlatform, channel: ChannelRef, *, crash: bool) -> None:
        effects = Effects(platform.db, clock)  # the ledger lives in the bot's database

        async def perform() -> None:
            ref = await platform.send(channel, Content("Question #7 added to the bank."))
            sent.append(ref.id)
            if crash:
                raise Crash

        async with effects.scope(key):
            if crash:
                with pytest.raises(Crash):
                    await effects.once("send", perform)
            else:
                await effects.once("send", perform)

    async def session(database: Database, channel: ChannelRef, *, crash: bool) -> None:
        platform = MatrixPlatform(settings, database, clock, retry_floor=0.2)
        await platform.start(_ignore)  # its catch-up accepts the host's invite
        try:
            devices.append(platform.device_id)
            await send_once(platform, channel, crash=crash)
        finally:
            await platform.stop()

    async with kit.member(synapse, host_account) as host:
        room = await kit.create_circle(host, bot_id, [])
        channel = ChannelRef("matrix", room)
        # First run: it joins, sends, and "dies" before recording the send.
        await session(db, channel, crash=True)
        # Restarted: the stored session (same device, same token).
        await session(db, channel, crash=True)
        # The stored token is refused: a new login, on the same device.
        raw = await state.get_state(db, "matrix", SESSION)
        assert raw is not None
        stale = {**json.loads(raw), "access_token": "syt_refused"}
        await state.set_state(db, "matrix", SESSION, json.dumps(stale), now=clock.now())
        await session(db, channel, crash=False)
        # A bot that forgot its device (a fresh database): the same effect, another device.
        other = Database(f"sqlite+aiosqlite:///{tmp_path / 'other.db'}")
        await other.upgrade()
        try:
            await session(other, channel, crash=False)
        finally:
            await other.dispose()
        stored = json.loads(await state.get_state(db, "matrix", SESSION) or "{}")
        posted = await kit.bot_messages(host.client, bot_id, text="added to the bank")
    await db.dispose()

    assert devices[0] == devices[1] == devices[2] != devices[3]
    assert stored["access_token"] != "syt_refused"  # the new login's token was kept
    assert sent[0] == sent[1] == sent[2] != sent[3]  # Synapse answered with the first event
    assert posted[room] == ["Question #7 added to the bank."] * 2  # one per device
