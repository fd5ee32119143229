"""A real Synapse for the Matrix adapter tests, and plain nio clients playing the members.

Synapse is installed by ``make`` (``.venv-synapse``); when it is missing the session fixture
installs it itself. The tests are skipped only when it truly cannot be installed, and never
when ``CERCLE_REQUIRE_SYNAPSE`` is set (CI sets it).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from nio import (
    AsyncClient,
    AsyncClientConfig,
    MessageDirection,
    RoomCreateResponse,
    RoomMessagesResponse,
    RoomPreset,
    SyncResponse,
)
from pydantic import SecretStr

from bot.adapters.matrix import MatrixPlatform
from bot.adapters.matrix.devserver import (
    Account,
    SynapseServer,
    SynapseUnavailable,
    default_env,
    install,
    throwaway_directory,
)
from bot.app import Bot
from bot.clock import FakeClock
from bot.compose import default_cogs
from bot.config import BotSettings, Config, MatrixSettings
from bot.scheduler import ManualScheduler
from storage.database import Database

REPO = Path(__file__).resolve().parents[4]


@dataclass
class Synapse:
    """The running server and an admin account on it."""

    server: SynapseServer
    admin: Account

    @property
    def url(self) -> str:
        """Client API base URL."""
        return self.server.url

    async def user(self, name: str) -> Account:
        """A fresh user (a unique suffix keeps tests apart)."""
        return await self.server.register(
            f"{name}-{secrets.token_hex(3)}", secrets.token_urlsafe(12)
        )

    async def admin_api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Call the admin API as the admin."""
        return await self.server.admin_request(self.admin.access_token, method, path, body)


def _installed() -> Path:
    """Synapse's environment, installed if need be (a skip only where it cannot be, and not CI)."""
    env = Path(os.environ.get("CERCLE_SYNAPSE_ENV") or REPO / ".venv-synapse")
    required = bool(os.environ.get("CERCLE_REQUIRE_SYNAPSE"))
    try:
        asyncio.run(install(env))
    except SynapseUnavailable as error:
        if required:
            raise
        pytest.skip(f"Synapse cannot be installed here ({default_env()}): {error}")
    return env


@pytest.fixture(scope="session")
def synapse() -> Iterator[Synapse]:
    """One Synapse on a free loopback port for the whole session."""
    env = _installed()
    directory = throwaway_directory()
    server = SynapseServer(env, directory)
    asyncio.run(server.start())
    try:
        admin = asyncio.run(server.register("admin", secrets.token_urlsafe(12), admin=True))
        yield Synapse(server, admin)
    finally:
        asyncio.run(server.stop())
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def own_synapse() -> Iterator[Synapse]:
    """A Synapse of the test's own, on another port (for a test that stops and restarts it)."""
    env = _installed()
    directory = throwaway_directory()
    server = SynapseServer(env, directory)
    asyncio.run(server.start())
    try:
        admin = asyncio.run(server.register("admin", secrets.token_urlsafe(12), admin=True))
        yield Synapse(server, admin)
    finally:
        asyncio.run(server.stop())
        shutil.rmtree(directory, ignore_errors=True)


#: Members' clients retry a lost connection every second at most (nio's default waits up to a
#: minute), so they are back soon after a homeserver restart.
_MEMBER_CONFIG = AsyncClientConfig(
    encryption_enabled=False, max_limit_exceeded=3, max_timeout_retry_wait_time=1
)


@dataclass
class Member:
    """A person's Matrix client: syncs in the background and records what it sees."""

    client: AsyncClient
    account: Account
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    task: asyncio.Task[None] | None = None

    @property
    def user_id(self) -> str:
        """The member's Matrix id."""
        return self.account.user_id

    async def _loop(self) -> None:
        since: str | None = None
        while True:
            response = await self.client.sync(timeout=30_000, since=since)
            if not isinstance(response, SyncResponse):
                continue
            since = response.next_batch
            for room_id in response.rooms.invite:
                await self.client.join(room_id)  # members accept every invite (DMs)
            async with self.changed:
                for room_id, info in response.rooms.join.items():
                    self.events.extend((room_id, e.source) for e in info.timeline.events)
                self.changed.notify_all()

    async def wait_for(
        self, predicate: Callable[[str, dict[str, Any]], bool], *, within: float = 20.0
    ) -> tuple[str, dict[str, Any]]:
        """The first event seen (past or future) that matches ``predicate``."""

        def found() -> tuple[str, dict[str, Any]] | None:
            return next(((r, e) for r, e in self.events if predicate(r, e)), None)

        async def wait() -> tuple[str, dict[str, Any]]:
            async with self.changed:
                await self.changed.wait_for(lambda: found() is not None)
            result = found()
            assert result is not None
            return result

        return await asyncio.wait_for(wait(), within)

    def seen(self, predicate: Callable[[str, dict[str, Any]], bool]) -> list[dict[str, Any]]:
        """Every event seen so far that matches ``predicate``."""
        return [e for r, e in self.events if predicate(r, e)]

    async def say(self, room_id: str, body: str, **relations: Any) -> str:
        """Post an ``m.text`` (with ``m.relates_to`` when given); returns its event id."""
        content: dict[str, Any] = {"msgtype": "m.text", "body": body}
        if relations:
            content["m.relates_to"] = relations
        return await self.send(room_id, "m.room.message", content)

    async def answer(self, room_id: str, thread: str, body: str, reply_to: str = "") -> str:
        """Post in a thread; ``reply_to`` makes it a real reply to one of its messages."""
        relates: dict[str, Any] = {
            "rel_type": "m.thread",
            "event_id": thread,
            "is_falling_back": not reply_to,
            "m.in_reply_to": {"event_id": reply_to or thread},
        }
        return await self.send(
            room_id, "m.room.message", {"msgtype": "m.text", "body": body, "m.relates_to": relates}
        )

    async def send(self, room_id: str, kind: str, content: dict[str, Any]) -> str:
        """Send any event; fails the test on an error."""
        response = await self.client.room_send(room_id, kind, content)
        event_id = getattr(response, "event_id", None)
        assert event_id, response
        return str(event_id)


@asynccontextmanager
async def member(synapse: Synapse, account: Account) -> AsyncIterator[Member]:
    """A logged-in, syncing member client."""
    client = AsyncClient(synapse.url, account.user_id, config=_MEMBER_CONFIG)
    client.restore_login(account.user_id, "TEST", account.access_token)
    person = Member(client, account)
    person.task = asyncio.create_task(person._loop())
    try:
        yield person
    finally:
        person.task.cancel()
        await asyncio.gather(person.task, return_exceptions=True)
        await client.close()


async def create_circle(host: Member, bot_id: str, members: list[Member]) -> str:
    """The host's circle room (the host created it: a host), the bot invited at level 100."""
    response = await host.client.room_create(
        name="Cercle",
        preset=RoomPreset.private_chat,
        invite=[bot_id, *(m.user_id for m in members)],
        power_level_override={"users": {bot_id: 100}},
    )
    assert isinstance(response, RoomCreateResponse), response
    for person in members:
        await person.wait_for(lambda r, e: r == response.room_id)  # joined and syncing it
    return str(response.room_id)


async def timeline(client: AsyncClient, room_id: str) -> list[dict[str, Any]]:
    """Every event of ``room_id`` the client may see, oldest first, read from the server.

    Paginated from now backwards (``/messages``): what the homeserver holds, not what a sync
    loop happened to see so far.
    """
    found: list[dict[str, Any]] = []
    start = ""
    while True:
        response = await client.room_messages(
            room_id, start=start, direction=MessageDirection.back, limit=100
        )
        assert isinstance(response, RoomMessagesResponse), response
        found.extend(e.source for e in response.chunk)
        if not response.chunk or not response.end or response.end == start:
            break
        start = response.end
    found.reverse()
    return found


async def bot_messages(
    client: AsyncClient, bot_id: str, *, text: str = "", direct_only: bool = False
) -> dict[str, list[str]]:
    """The bot's messages containing ``text`` in every room ``client`` joined: room -> bodies.

    With ``direct_only``, only the rooms the bot and the client alone are in (direct rooms).
    """
    joined = await client.joined_rooms()
    found: dict[str, list[str]] = {}
    for room_id in getattr(joined, "rooms", []):
        if direct_only:
            members = await client.joined_members(room_id)
            ids = {m.user_id for m in getattr(members, "members", [])}
            if ids != {bot_id, client.user_id}:
                continue
        bodies = [
            str(e["content"].get("body", ""))
            for e in await timeline(client, room_id)
            if e.get("type") == "m.room.message" and e.get("sender") == bot_id
        ]
        found[room_id] = [b for b in bodies if text in b]
    return found


def is_from(user_id: str, room_id: str | None = None) -> Callable[[str, dict[str, Any]], bool]:
    """A predicate: an ``m.room.message`` sent by ``user_id`` (in ``room_id`` when given)."""
    return lambda r, e: (
        e.get("type") == "m.room.message"
        and e.get("sender") == user_id
        and (room_id is None or r == room_id)
    )


@dataclass
class Poster:
    """A member who only posts (no sync loop): for bursts from many accounts."""

    client: AsyncClient

    async def answer(self, room_id: str, thread: str, body: str) -> str:
        """Post in a thread."""
        return await Member.answer(self, room_id, thread, body)  # type: ignore[arg-type]

    async def send(self, room_id: str, kind: str, content: dict[str, Any]) -> str:
        """Send any event."""
        return await Member.send(self, room_id, kind, content)  # type: ignore[arg-type]


async def poster(synapse: Synapse, account: Account, room_id: str, host: Member) -> Poster:
    """A member invited by the host who joined ``room_id``."""
    client = AsyncClient(
        synapse.url,
        account.user_id,
        config=AsyncClientConfig(encryption_enabled=False, max_limit_exceeded=3),
    )
    client.restore_login(account.user_id, "TEST", account.access_token)
    invited = await host.client.room_invite(room_id, account.user_id)
    assert not hasattr(invited, "status_code"), invited
    joined = await client.join(room_id)
    assert getattr(joined, "room_id", None) == room_id, joined
    return Poster(client)


@dataclass
class Running:
    """A bot connected to the test Synapse."""

    bot: Bot
    platform: MatrixPlatform
    scheduler: ManualScheduler
    db: Database


@asynccontextmanager
async def running_bot(
    synapse: Synapse,
    account: Account,
    db_path: Path,
    *,
    inviters: list[str],
    timeline_limit: int = 50,
    clock: FakeClock | None = None,
    with_token: bool = False,
    sections: dict[str, Any] | None = None,
    **adapter: Any,
) -> AsyncIterator[Running]:
    """Start a whole bot (every default cog) on the Matrix adapter; stop it at the end.

    ``sections`` sets other config sections as a host would (``{"votes": VotesSettings(...)}``);
    ``adapter`` overrides the adapter's own knobs (``max_retries``, ``reconnect_cap``, ...).
    """
    config = Config(
        **(sections or {}),
        bot=BotSettings(adapters=["matrix"], locale="en", instance="test"),
        matrix=MatrixSettings(
            homeserver=synapse.url,
            user_id=account.user_id,
            password=None if with_token else SecretStr(account.password),
            access_token=SecretStr(account.access_token) if with_token else None,
            allowed_inviters=inviters,
        ),
    )
    db = Database(f"sqlite+aiosqlite:///{db_path}")
    clock = clock or FakeClock(datetime.now(UTC).replace(microsecond=0))
    scheduler = ManualScheduler(db, clock, instance="test", grace=timedelta(hours=1))
    knobs: dict[str, Any] = {"timeline_limit": timeline_limit, "retry_floor": 0.2, **adapter}
    platform = MatrixPlatform(config.matrix, db, clock, **knobs)
    bot = Bot(config=config, db=db, scheduler=scheduler, platforms=[platform], cogs=default_cogs())
    await bot.start()
    try:
        yield Running(bot, platform, scheduler, db)
    finally:
        await bot.stop()
        await db.dispose()


@pytest.fixture
def kit() -> SimpleNamespace:
    """The helpers above, for the test modules (conftest modules are not importable)."""
    return SimpleNamespace(
        member=member,
        create_circle=create_circle,
        is_from=is_from,
        running_bot=running_bot,
        timeline=timeline,
        bot_messages=bot_messages,
        poster=poster,
    )
