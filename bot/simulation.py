"""A whole bot on the in-memory platform with a simulated clock: the demo and the test kit.

Example::

    async with Simulation(profile="matrix", hosts=["hana"]) as sim:
        await sim.command("ana", "/help")
        await sim.advance("3d")   # fires every job due meanwhile, in order

``sim.platform`` is a :class:`~bot.adapters.memory.MemoryPlatform` (see its member-side
methods); ``sim.bot`` is built by the composition root over a real SQLite database (or the
PostgreSQL database given by URL).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self

from bot import compose
from bot.adapters.memory import MemoryPlatform, Sent
from bot.app import Bot
from bot.clock import FakeClock, parse_duration
from bot.cog import Cog
from bot.config import Config
from bot.platform import DISCORD_LIKE, MATRIX_LIKE, Capabilities
from bot.scheduler import ManualScheduler
from bot.types import MessageRef, ThreadRef
from storage.database import Database

PROFILES: Final[dict[str, Capabilities]] = {"discord": DISCORD_LIKE, "matrix": MATRIX_LIKE}
#: A Monday morning, so weekly schedules are easy to reason about.
DEFAULT_START: Final = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)


class Simulation:
    """A running bot on the memory platform with a fake clock and a manual scheduler."""

    def __init__(
        self,
        profile: str = "discord",
        *,
        cogs: Sequence[type[Cog]] | None = None,
        hosts: Sequence[str] = ("host",),
        config: Config | None = None,
        start: datetime = DEFAULT_START,
        db_path: Path | None = None,
        db_url: str | None = None,
    ) -> None:
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}: use one of {sorted(PROFILES)}")
        self.profile = profile
        self.cog_types = list(cogs) if cogs is not None else compose.default_cogs()
        self.config = config or Config()
        self.clock = FakeClock(start)
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if db_url is None:
            if db_path is None:
                self._tmp = tempfile.TemporaryDirectory(prefix="cercle-sim-")
                db_path = Path(self._tmp.name) / "cercle.db"
            db_url = f"sqlite+aiosqlite:///{db_path}"
        #: A PostgreSQL database given by URL is emptied first: each simulation starts clean.
        self._reset = db_url.startswith("postgresql")
        self.db = Database(db_url)
        self.platform = MemoryPlatform(
            self.clock, name=profile, capabilities=PROFILES[profile], hosts=hosts
        )
        self.scheduler = self._scheduler()
        self.bot = self._bot()

    def _scheduler(self) -> ManualScheduler:
        return ManualScheduler(
            self.db, self.clock, instance="simulation", grace=compose.grace(self.config)
        )

    def _bot(self) -> Bot:
        # A simulated clock does not wait: failed steps are retried at once.
        return compose.build(
            self.config,
            self.db,
            self.scheduler,
            [self.platform],
            cogs=self.cog_types,
            retry_delays=(0.0, 0.0),
        )

    async def __aenter__(self) -> Self:
        if self._reset:
            async with self.db.engine.begin() as conn:
                await conn.exec_driver_sql("DROP SCHEMA public CASCADE")
                await conn.exec_driver_sql("CREATE SCHEMA public")
        await self.bot.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.bot.stop()
        await self.db.dispose()
        if self._tmp is not None:
            self._tmp.cleanup()

    async def restart(self, *, downtime: timedelta | str = timedelta()) -> None:
        """Stop the bot, let ``downtime`` pass with nothing running, start a fresh process.

        Everything in memory is rebuilt (cogs, scheduler, caches); the database and what the
        platform recorded survive, as they would across a real restart.
        """
        await self.bot.stop()
        if isinstance(downtime, str):
            downtime = parse_duration(downtime)
        self.clock.advance(downtime)
        self.scheduler = self._scheduler()
        self.bot = self._bot()
        await self.bot.start()

    # ------------------------------------------------------------ acting

    async def say(
        self,
        name: str,
        text: str,
        *,
        thread: ThreadRef | None = None,
        reply_to: MessageRef | None = None,
    ) -> MessageRef:
        """Member ``name`` posts ``text``."""
        return await self.platform.post(name, text, thread=thread, reply_to=reply_to)

    async def command(
        self, name: str, text: str, *, options: dict[str, Any] | None = None
    ) -> list[Sent]:
        """Member ``name`` runs a command; returns what the bot sent in response."""
        before = len(self.platform.sent)
        await self.platform.command(name, text, options=options)
        return self.platform.sent[before:]

    async def advance(self, delta: timedelta | str) -> int:
        """Move the fake clock on, firing due jobs in order; returns how many ran."""
        if isinstance(delta, str):
            delta = parse_duration(delta)
        return await self.scheduler.advance(delta)

    # ------------------------------------------------------------ looking

    @property
    def sent(self) -> list[Sent]:
        """Everything the bot sent, in order."""
        return self.platform.sent

    def public(self) -> list[Sent]:
        """What everyone in the channel (and its threads) saw."""
        return [s for s in self.platform.sent if s.where in ("channel", "thread")]

    def private_to(self, name: str) -> list[Sent]:
        """What only member ``name`` saw (ephemeral replies and direct messages)."""
        return [s for s in self.platform.sent if s.to is not None and s.to.id == name.lower()]
