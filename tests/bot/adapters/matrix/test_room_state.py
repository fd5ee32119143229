"""Rooms' state after a restart, on a real Synapse: loaded when a room first has news or is
asked about, not every room's at start; and what reading a room the bot is not in gives.

An incremental sync gives only what changed in a room; what the bot reads of it (members'
names, power levels, who is still in a direct room) must still be the room's whole state.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import SecretStr

from bot.adapters.matrix import MatrixPlatform
from bot.clock import FakeClock
from bot.config import MatrixSettings
from bot.platform import PlatformError
from bot.types import ChannelRef, Content, Event, MessagePosted, Role, UserRef
from storage.database import Database

pytestmark = pytest.mark.slow


class Posts:
    """A sink keeping the posts it is handed."""

    def __init__(self) -> None:
        self.posts: list[MessagePosted] = []

    async def __call__(self, event: Event) -> None:
        if isinstance(event, MessagePosted):
            self.posts.append(event)


@asynccontextmanager
async def adapter(
    synapse: Any, account: Any, db: Database, inviter: str, sink: Posts
) -> AsyncIterator[MatrixPlatform]:
    """The Matrix adapter alone, started on ``sink`` (stopped at the end)."""
    settings = MatrixSettings(
        homeserver=synapse.url,
        user_id=account.user_id,
        password=SecretStr(account.password),
        allowed_inviters=[inviter],
    )
    platform = MatrixPlatform(settings, db, FakeClock(datetime.now(UTC)), retry_floor=0.2)
    await platform.start(sink)
    try:
        yield platform
    finally:
        await platform.stop()


async def until(check: Any, within: float = 20.0) -> None:
    """Poll ``check()`` until it is true."""
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.05)


async def test_after_a_restart_a_room_with_news_is_read_with_its_whole_state(
    synapse: Any, kit: SimpleNamespace, tmp_path: Path
) -> None:
    """Names set and hosts made before the downtime are known when the backlog is handled."""
    bot_account, host_account, ana_account = [
        await synapse.user(n) for n in ("cercle", "host", "ana")
    ]
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'cercle.db'}")
    await db.upgrade()
    try:
        async with (
            kit.member(synapse, host_account) as host,
            kit.member(synapse, ana_account) as ana,
        ):
            await ana.client.set_displayname("Ana Lima")
            room = await kit.create_circle(host, bot_account.user_id, [ana])
            async with adapter(synapse, bot_account, db, host.user_id, Posts()) as first:
                await host.wait_for(lambda r, e: r == room and e.get("state_key") == first.user_id)
                tick = await host.say(room, "the bot is here")
                await first.wait_handled([tick])
            # Down: Ana posts. Her name and the host's power level are old state, not news.
            posted = await ana.say(room, "posted while the bot was away")
            sink = Posts()
            async with adapter(synapse, bot_account, db, host.user_id, sink) as again:
                await again.wait_handled([posted])
                channel = ChannelRef("matrix", room)
                assert await again.role_of(UserRef("matrix", host.user_id), channel) is Role.HOST
                assert await again.role_of(UserRef("matrix", ana.user_id), channel) is Role.MEMBER
    finally:
        await db.dispose()
    [post] = [p for p in sink.posts if p.message.id == posted]
    assert post.author.display_name == "Ana Lima"


async def test_a_direct_room_left_before_a_restart_is_not_reused(
    synapse: Any, kit: SimpleNamespace, tmp_path: Path
) -> None:
    """A member who left their direct room gets the bot's next direct message in a new one,
    even when that room had no news since the restart."""
    bot_account, host_account, ana_account = [
        await synapse.user(n) for n in ("cercle", "host", "ana")
    ]
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'cercle.db'}")
    await db.upgrade()
    ana_ref = UserRef("matrix", ana_account.user_id)
    try:
        async with (
            kit.member(synapse, host_account) as host,
            kit.member(synapse, ana_account) as ana,
        ):
            room = await kit.create_circle(host, bot_account.user_id, [ana])
            async with adapter(synapse, bot_account, db, host.user_id, Posts()) as first:
                await host.wait_for(lambda r, e: r == room and e.get("state_key") == first.user_id)
                old = (await first.send_direct(ana_ref, Content(text="first"))).channel.id
                await ana.wait_for(lambda r, e: r == old and e["content"].get("body") == "first")
                await ana.client.room_leave(old)
                await until(lambda: ana.user_id not in first.client.rooms[old].users)
                # A later event handled: the sync that saw the leave is stored.
                tick = await host.say(room, "tick")
                await first.wait_handled([tick])
            async with adapter(synapse, bot_account, db, host.user_id, Posts()) as again:
                new = (await again.send_direct(ana_ref, Content(text="second"))).channel.id
                got, _ = await ana.wait_for(lambda r, e: e["content"].get("body") == "second")
    finally:
        await db.dispose()
    assert new != old and got == new


async def test_a_room_the_bot_is_not_in_reads_as_refused(
    synapse: Any, kit: SimpleNamespace, tmp_path: Path
) -> None:
    """Its history is refused with the homeserver's reason, and it has no state to read."""
    bot_account, host_account = [await synapse.user(n) for n in ("cercle", "host")]
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'cercle.db'}")
    await db.upgrade()
    try:
        async with kit.member(synapse, host_account) as host:
            created = await host.client.room_create(name="Elsewhere")  # the bot not invited
            other = created.room_id
            async with adapter(synapse, bot_account, db, host.user_id, Posts()) as platform:
                with pytest.raises(PlatformError, match="M_FORBIDDEN"):
                    await platform._backfill(other, "", platform._next_batch or "")
                assert await platform._room_state(other) is None
    finally:
        await db.dispose()
