"""The sync loop on a real Synapse: an event the core could not settle keeps the sync token."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import SecretStr

from bot.adapters.matrix import MatrixPlatform
from bot.adapters.matrix.base import NEXT_BATCH
from bot.clock import FakeClock
from bot.config import MatrixSettings
from bot.platform import EventNotHandled
from bot.types import Event, MessagePosted
from storage import state
from storage.database import Database

pytestmark = pytest.mark.slow


async def test_an_unsettled_event_is_synced_again_from_the_stored_token(
    synapse: Any, kit: SimpleNamespace, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bot_account, host_account = [await synapse.user(n) for n in ("cercle", "host")]
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'cercle.db'}")
    await db.upgrade()
    settings = MatrixSettings(
        homeserver=synapse.url,
        user_id=bot_account.user_id,
        password=SecretStr(bot_account.password),
        allowed_inviters=[host_account.user_id],
    )
    platform = MatrixPlatform(settings, db, FakeClock(datetime.now(UTC)), retry_floor=0.2)
    seen: list[str] = []
    tokens_when_refused: list[str | None] = []

    async def sink(event: Event) -> None:
        if not isinstance(event, MessagePosted):
            return
        seen.append(event.text)
        if event.text == "refused twice" and seen.count("refused twice") < 3:
            tokens_when_refused.append(await state.get_state(db, platform.name, NEXT_BATCH))
            raise EventNotHandled("MessagePosted: DatabaseUnavailable: connection refused")

    async with kit.member(synapse, host_account) as host:
        room = await kit.create_circle(host, bot_account.user_id, [])
        await platform.start(sink)
        try:
            await host.wait_for(
                lambda r, e: (
                    r == room
                    and e.get("type") == "m.room.member"
                    and e.get("state_key") == bot_account.user_id
                    and (e.get("content") or {}).get("membership") == "join"
                )
            )
            with caplog.at_level(logging.WARNING, logger="bot.adapters.matrix"):
                refused = await host.say(room, "refused twice")
                after = await host.say(room, "after it")
                await platform.wait_handled([refused, after], within=60)
        finally:
            await platform.stop()
            await db.dispose()

    assert seen == ["refused twice"] * 3 + ["after it"]
    # Both refusals found the same stored token: the sync never moved past the event.
    assert len(tokens_when_refused) == 2 and tokens_when_refused[0] == tokens_when_refused[1]
    retried = [
        r.getMessage()
        for r in caplog.records
        if "retried from the stored position" in r.getMessage()
    ]
    assert len(retried) == 2
    assert f"event {refused} in {room} not handled" in retried[0]


async def test_a_catch_up_the_core_could_not_settle_does_not_stop_the_start(
    synapse: Any, kit: SimpleNamespace, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Refused during the start-up catch-up, an event comes again from the sync loop."""
    bot_account, host_account = [await synapse.user(n) for n in ("cercle", "host")]
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'cercle.db'}")
    await db.upgrade()
    settings = MatrixSettings(
        homeserver=synapse.url,
        user_id=bot_account.user_id,
        password=SecretStr(bot_account.password),
        allowed_inviters=[host_account.user_id],
    )
    clock = FakeClock(datetime.now(UTC))
    seen: list[str] = []
    tokens_when_refused: list[str | None] = []

    async def sink(event: Event) -> None:
        if not isinstance(event, MessagePosted):
            return
        seen.append(event.text)
        if event.text == "said while the bot was down" and len(seen) < 3:
            tokens_when_refused.append(await state.get_state(db, "matrix", NEXT_BATCH))
            raise EventNotHandled("MessagePosted: DatabaseUnavailable: connection refused")

    async with kit.member(synapse, host_account) as host:
        room = await kit.create_circle(host, bot_account.user_id, [])
        first = MatrixPlatform(settings, db, clock, retry_floor=0.2)
        await first.start(sink)  # joins the room; the stored token marks "now"
        await first.stop()
        stored = await state.get_state(db, "matrix", NEXT_BATCH)
        down = await host.say(room, "said while the bot was down")
        platform = MatrixPlatform(settings, db, clock, retry_floor=0.2, reconnect_cap=0.2)
        try:
            with caplog.at_level(logging.WARNING, logger="bot.adapters.matrix"):
                await platform.start(sink)  # the catch-up refused the event: started anyway
                assert seen == ["said while the bot was down"]
                after = await host.say(room, "after it")
                await platform.wait_handled([down, after], within=60)
        finally:
            await platform.stop()
            await db.dispose()

    # Refused at the catch-up, then once more by the loop's first sync, then handled.
    assert seen == ["said while the bot was down"] * 3 + ["after it"]
    assert tokens_when_refused == [stored, stored]  # never moved past the event
    starting = [r.getMessage() for r in caplog.records if "starting anyway" in r.getMessage()]
    assert len(starting) == 1 and f"event {down} in {room} not handled" in starting[0]
