"""The hosts' opt-in ``@room`` on Matrix: in the body, the HTML and ``m.mentions``; refused
below the power level the room asks for it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bot.adapters.matrix import MatrixPlatform
from bot.clock import FakeClock
from bot.config import MatrixSettings
from bot.types import ChannelRef, Content, Ping
from storage.database import Database

BOT = "@cercle:example.org"
ROOM = ChannelRef("matrix", "!circle:example.org")


def _platform(tmp_path: Path) -> MatrixPlatform:
    settings = MatrixSettings(
        homeserver="https://example.org", user_id=BOT, password=SecretStr("secret")
    )
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'cercle.db'}")
    return MatrixPlatform(settings, db, FakeClock(datetime(2026, 1, 5, tzinfo=UTC)))


async def test_a_pinged_message_mentions_the_room_and_nothing_else(tmp_path: Path) -> None:
    platform = _platform(tmp_path)
    events: list[dict[str, Any]] = []

    async def send_event(room_id: str, kind: str, content: dict[str, Any], **_: Any) -> str:
        events.append(content)
        return f"$event{len(events)}"

    platform._send_event = send_event  # type: ignore[method-assign]
    await platform.send(ROOM, Content(text="**Round #1**", ping=Ping()))
    await platform.send(ROOM, Content(text="Closed."))
    # A role means nothing on Matrix: no @room for it.
    await platform.send(ROOM, Content(text="Reminder.", ping=Ping(role="4242")))
    pinged, plain, role = events
    assert pinged["body"].startswith("@room ") and "Round #1" in pinged["body"]
    assert pinged["formatted_body"].startswith("@room ")
    assert "<strong>Round #1</strong>" in pinged["formatted_body"]
    assert pinged["m.mentions"] == {"room": True}
    assert plain["m.mentions"] == {} and "@room" not in plain["body"]
    assert role["m.mentions"] == {} and "@room" not in role["body"]


async def test_the_bot_may_ping_the_room_only_at_the_power_level_it_asks(tmp_path: Path) -> None:
    platform = _platform(tmp_path)
    levels: dict[str, Any] = {"users": {"@hana:example.org": 100}, "users_default": 0}

    async def power_levels(room_id: str) -> dict[str, Any]:
        return levels

    platform._power_levels = power_levels  # type: ignore[method-assign]
    assert not await platform.may_ping(ROOM, Ping())  # @room needs 50 unless the room says
    levels["users"][BOT] = 50
    assert await platform.may_ping(ROOM, Ping())
    levels["notifications"] = {"room": 75}
    assert not await platform.may_ping(ROOM, Ping())
    levels["users_default"] = 80
    del levels["users"][BOT]
    assert await platform.may_ping(ROOM, Ping())
