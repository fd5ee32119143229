"""The network path once: unmodified discord.py against a loopback Discord of our own.

SimCord (``test_simcord.py``) replaces discord.py's HTTP and gateway seams; here nothing is
replaced. ``discord.http.Route.BASE`` and ``DiscordWebSocket.DEFAULT_GATEWAY`` point at
``fake_discord.FakeDiscord`` on 127.0.0.1, and the real bot (composition root, cogs, SQLite)
logs in with its token, identifies on the websocket, reaches READY, syncs its commands through
a 429, and answers a member's message over REST.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import discord
import discord.gateway
import discord.http
import pytest
import yarl

from bot.adapters.discord import DiscordPlatform
from bot.adapters.discord.platform import gateway_connector, intents
from bot.app import Bot
from bot.clock import FakeClock
from bot.config import Config, DiscordSettings
from bot.scheduler import ManualScheduler
from bot.testing import DEFAULT_START
from bot.types import ChannelRef
from cogs.core import CoreCog
from cogs.courtesy.cog import CourtesyCog
from storage import courtesy
from storage.database import Database


def _load_fake() -> Any:
    name = "cercle_tests_fake_discord"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, Path(__file__).with_name("fake_discord.py")
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


fake_discord = _load_fake()
TOKEN = "MTIz.fake.bot-token"
WAIT = 10.0  # every wait is bounded; the whole exchange takes well under a second


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Any]:
    """The loopback Discord; discord.py points at it for the test only (monkeypatch restores)."""
    server = fake_discord.FakeDiscord(token=TOKEN)
    await server.start()
    monkeypatch.setattr(discord.http.Route, "BASE", server.api_base)
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(server.gateway_url)
    )
    try:
        yield server
    finally:
        await server.close()


def _production_connector(token: str) -> Any:
    """The adapter's own connector, with discord.py's 2 s wait for late guilds lowered."""
    connect = gateway_connector(token)

    async def connector(client: discord.Client) -> Any:
        client._connection.guild_ready_timeout = 0.05
        return await connect(client)

    return connector


async def test_login_ready_rate_limited_sync_and_reply_over_the_network(
    fake: Any, tmp_path: Path
) -> None:
    fake.rate_limit_once.add(rf"PUT /applications/{fake.application_id}/commands")
    clock = FakeClock(DEFAULT_START)
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'cercle.db'}")
    settings = DiscordSettings(token=TOKEN, application_id=int(fake.application_id))
    platform = DiscordPlatform(
        settings, db=db, clock=clock, locale="fr", connector=_production_connector(TOKEN)
    )
    bot = Bot(
        config=Config(),
        db=db,
        scheduler=ManualScheduler(db, clock, instance="test", grace=timedelta(hours=6)),
        platforms=[platform],
        cogs=[CoreCog, CourtesyCog],
    )
    try:
        await asyncio.wait_for(bot.start(), WAIT)
        client = platform.client
        await asyncio.wait_for(client.wait_until_ready(), WAIT)

        # Login: GET /users/@me with the bot token, then the application.
        (login,) = fake.calls("GET", "/users/@me")
        assert login.headers["Authorization"] == f"Bot {TOKEN}"
        assert login.status == 200
        assert client.user is not None and str(client.user.id) == fake.bot.id

        # Gateway: HELLO → IDENTIFY with the token and Cercle's intents, no member requests.
        assert fake.identify is not None
        assert fake.identify["token"] == TOKEN
        assert fake.identify["intents"] == intents().value
        assert not discord.Intents._from_value(fake.identify["intents"]).members
        assert fake_discord.REQUEST_MEMBERS not in fake.gateway_ops
        # READY handled: the guild and its channel came from GUILD_CREATE.
        guild = client.get_guild(int(fake.guild_id))
        assert guild is not None and not guild.unavailable
        assert isinstance(client.get_channel(int(fake.channel_id)), discord.TextChannel)

        # Command sync: a 429, then one retry after retry_after, which succeeded.
        limited, synced = fake.calls("PUT", r"/applications/\d+/commands")
        assert (limited.status, synced.status) == (429, 200)
        assert synced.at - limited.at >= fake.retry_after * 0.9
        assert synced.json == platform.payload and synced.json
        assert platform.synced == ["commands:global"]

        # A member's message over the gateway: courtesy masks the phone number, deletes the
        # original and reposts it; without Manage Webhooks (a 403 here) the repost is
        # attributed ("**Ana** wrote:") and sent by the bot, mentions denied.
        ana = fake.members["900000000000000001"]
        created = fake.message(ana, "Appelez-moi au 06 12 34 56 78")
        await fake.dispatch("MESSAGE_CREATE", created)
        channel = fake.channel_id
        (deleted,) = await asyncio.wait_for(
            fake.wait_for("DELETE", rf"/channels/{channel}/messages/{created['id']}"), WAIT
        )
        assert deleted.status == 204
        (repost,) = await asyncio.wait_for(
            fake.wait_for("POST", rf"/channels/{channel}/messages"), WAIT
        )
        (no_webhook,) = fake.calls("GET", rf"/channels/{channel}/webhooks")
        assert no_webhook.status == 403
        assert repost.json["content"].startswith("**Ana**")
        assert "06 12 34 56 78" not in repost.json["content"]
        mentions = repost.json["allowed_mentions"]  # nobody pinged: no parse, no list
        assert mentions["parse"] == [] and not mentions.get("users") and not mentions.get("roles")
        # …and tells the author privately, in a DM opened over REST.
        (opened,) = await asyncio.wait_for(fake.wait_for("POST", "/users/@me/channels"), WAIT)
        assert str(opened.json["recipient_id"]) == ana.id
        (note,) = await asyncio.wait_for(fake.wait_for("POST", r"/channels/1\d+/messages"), WAIT)
        assert note.status == 200 and note.json["allowed_mentions"]["parse"] == []
        # The decision was stored, about this very message.
        circle = await bot.directory.circle_for(ChannelRef("discord", channel))
        assert circle is not None
        entries = await courtesy.recent_log(db, circle.id or 0)
        assert [(e.message_id, e.action) for e in entries] == [(created["id"], "redact")]
        # Nothing was retried but the rate-limited sync.
        assert len(fake.calls("PUT", r"/applications/\d+/commands")) == 2
    finally:
        await asyncio.wait_for(bot.stop(), WAIT)
        await db.dispose()
