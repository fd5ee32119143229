"""A real bot (composition root, cogs, SQLite) on the Discord adapter, driven through SimCord.

SimCord replaces only discord.py's two network seams (REST and the gateway feed); the client,
its parsers, interactions and the adapter run unmodified. The adapter's connector is the
seam: instead of logging in to Discord it attaches the client to a SimCord world that lives
as long as the test, so a second bot (a restart) finds the same server, threads and messages.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import discord
import pytest
import simcord

from bot.adapters.discord import PERMISSIONS, DiscordPlatform
from bot.app import Bot
from bot.clock import FakeClock
from bot.cog import Cog
from bot.config import Config, DiscordSettings
from bot.scheduler import ManualScheduler
from bot.testing import DEFAULT_START
from storage.database import Database


class World:
    """One SimCord world, one database; bots come and go on them."""

    def __init__(self, tmp_path: Path, approved_intents: discord.Intents | None = None) -> None:
        self.clock = FakeClock(DEFAULT_START)
        self.db = Database(f"sqlite+aiosqlite:///{tmp_path / 'cercle.db'}")
        self.approved_intents = approved_intents
        self.env: simcord.Env | None = None
        self.bots: list[Bot] = []
        self.connects = 0

    async def connect(self, client: discord.Client) -> asyncio.Future[None] | None:
        """The adapter's connector: SimCord logs the client in and brings it to READY."""
        self.connects += 1
        if self.env is None:
            env = simcord.Env(client, approved_intents=self.approved_intents)
            await env.start()  # raises PrivilegedIntentsRequired like the real gateway
            self.env = env
        else:
            await self.env.restart_bot(client)
        return None

    async def start_bot(
        self,
        cogs: Sequence[type[Cog]] | None = None,
        settings: DiscordSettings | None = None,
        config: Config | None = None,
    ) -> tuple[Bot, DiscordPlatform]:
        """A bot with ``cogs`` (every default cog when omitted), started on the world;
        ``config`` the host's other settings (the defaults when omitted)."""
        from bot.compose import default_cogs

        platform = DiscordPlatform(
            settings or DiscordSettings(),
            db=self.db,
            clock=self.clock,
            locale="fr",
            connector=self.connect,
        )
        scheduler = ManualScheduler(self.db, self.clock, instance="test", grace=timedelta(hours=6))
        bot = Bot(
            config=config or Config(),
            db=self.db,
            scheduler=scheduler,
            platforms=[platform],
            cogs=list(cogs) if cogs is not None else default_cogs(),
        )
        await bot.start()
        self.bots.append(bot)
        return bot, platform

    @property
    def sim(self) -> simcord.Env:
        """The SimCord environment (once a bot connected)."""
        assert self.env is not None, "start a bot first"
        return self.env

    def server(self) -> Server:
        """A server with a circle channel, a host and two members."""
        return Server(self.sim)

    async def close(self) -> None:
        """Stop every bot, then the world."""
        for bot in reversed(self.bots):
            await bot.stop()
        if self.env is not None:
            await self.env.shutdown()
            errors = [e for e in self.env.errors if not isinstance(e, asyncio.CancelledError)]
            assert not errors, errors
        await self.db.dispose()


class Server:
    """A guild with #cercle, a host (Manage Messages) and members ana and bob."""

    def __init__(self, env: simcord.Env) -> None:
        self.env = env
        self.guild = env.create_guild("Réseau pro")
        self.channel = self.guild.create_text_channel("cercle")
        hosts = self.guild.create_role(
            "Hôtes", permissions=discord.Permissions(manage_messages=True)
        )
        self.hana = self.guild.add_member(
            env.create_user("hana", global_name="Hana"), roles=[hosts]
        )
        self.ana = self.guild.add_member(env.create_user("ana", global_name="Ana"))
        self.bob = self.guild.add_member(env.create_user("bob", global_name="Bob"))
        self._limit_bot_to_invite_permissions()

    def _limit_bot_to_invite_permissions(self) -> None:
        """The bot gets exactly what ``cercle discord invite-url`` asks for, nothing more."""
        backend: Any = self.env.backend
        guild = backend.get_guild(self.guild.id)
        bot_id = self.env.bot.user.id if self.env.bot.user else 0
        # One deviation: SimCord checks Manage Channels to archive and lock a thread, where
        # Discord's "Modify Channel" documents Manage Threads for a thread's archived/locked.
        granted = PERMISSIONS | discord.Permissions(manage_channels=True)
        for role_id in guild.members[bot_id].role_ids:
            if role_id != guild.id:
                guild.roles[role_id].permissions = granted.value

    def requests(self, method: str, fragment: str) -> list[Any]:
        """The REST calls the bot made, filtered."""
        return [r for r in self.env.http_requests if r.method == method and fragment in r.path]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    """A SimCord world and a database, cleaned up after the test."""
    w = World(tmp_path)
    try:
        yield w
    finally:
        await w.close()


@pytest.fixture
async def world_without_content_intent(tmp_path: Path) -> AsyncIterator[World]:
    """A world whose application was not granted the Message Content intent."""
    approved = discord.Intents.all()
    approved.message_content = False
    w = World(tmp_path, approved_intents=approved)
    try:
        yield w
    finally:
        await w.close()
