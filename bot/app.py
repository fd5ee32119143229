"""The composition root: storage, clock, scheduler, adapters and cogs wired into one bot."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any, TypeVar

from bot.cog import Cog, Context, Services
from bot.commands import CommandSpec, validate_spec
from bot.config import Config
from bot.i18n import translator
from bot.messenger import Messenger
from bot.metrics import Metrics
from bot.platform import OffersSuggestions, Platform
from bot.router import CommandRegistry, Router
from bot.scheduler import Scheduler
from bot.types import ChannelRef, Role, ThreadRef, UserRef, Verdict
from storage import members
from storage.database import Database
from storage.models import Account, Circle

log = logging.getLogger("cercle")

C = TypeVar("C", bound=Context)


class StartupError(Exception):
    """The bot cannot start; the message says what to do."""


class Bot:
    """One process: several platforms, one set of cogs, one database."""

    def __init__(
        self,
        *,
        config: Config,
        db: Database,
        scheduler: Scheduler,
        platforms: Sequence[Platform],
        cogs: Sequence[type[Cog]],
    ) -> None:
        self.config = config
        self.db = db
        self.scheduler = scheduler
        self.clock = scheduler.clock
        self._platforms = {platform.name: platform for platform in platforms}
        self._messengers = {name: Messenger(p) for name, p in self._platforms.items()}
        services = Services(
            bot=self, db=db, clock=self.clock, scheduler=scheduler, config=config, log=log
        )
        self.cogs = [cog_type(services) for cog_type in cogs]
        self.commands = CommandRegistry()
        for cog in self.cogs:
            self.commands.add_cog(cog)
        problems = [p for spec in self.commands.specs for p in validate_spec(spec)]
        if problems:
            raise ValueError("invalid command specs:\n" + "\n".join(problems))
        self.metrics = Metrics()
        scheduler.on_run = self._job_ran
        self.router = Router(self)
        self._accounts: dict[tuple[str, str], tuple[int, str]] = {}
        self._account_lookups: dict[tuple[str, str], asyncio.Future[Account]] = {}
        self._circles: dict[tuple[str, str], Circle] = {}
        self._stopping = asyncio.Event()
        self._started: list[Platform] = []

    # ------------------------------------------------------------ lifecycle

    @property
    def platforms(self) -> list[Platform]:
        """The adapters this bot runs."""
        return list(self._platforms.values())

    def platform(self, name: str) -> Platform:
        """The adapter called ``name``."""
        return self._platforms[name]

    def messenger(self, platform: str) -> Messenger:
        """The messenger that speaks through ``platform``."""
        return self._messengers[platform]

    @property
    def specs(self) -> list[CommandSpec]:
        """Every command spec."""
        return self.commands.specs

    async def prepare_storage(self) -> None:
        """Make sure the schema is current: upgrade it, or refuse to start."""
        if await self.db.is_up_to_date():
            return
        if not self.config.database.auto_upgrade:
            raise StartupError(
                "the database schema is not up to date: run `cercle db upgrade` first"
            )
        log.info("applying database migrations to %s", self.db.url)
        await self.db.upgrade()

    async def start(self) -> None:
        """Prepare storage, start cogs and the scheduler, then connect every adapter."""
        await self.prepare_storage()
        for cog in self.cogs:
            await cog.on_start()
        await self.scheduler.start()
        for platform in self._platforms.values():
            await platform.install_commands(self.specs)
            if isinstance(platform, OffersSuggestions):
                platform.bind_suggestions(self.router.suggest)
            await platform.start(self.router.handle)
            self._started.append(platform)
            log.info("adapter %s connected", platform.name)

    async def run(self) -> None:
        """Start, then run until an adapter closes by itself or :meth:`request_stop`."""
        await self.start()
        try:
            waiters: list[asyncio.Future[Any]] = [
                asyncio.ensure_future(p.wait_closed()) for p in self._started
            ]
            waiters.append(asyncio.ensure_future(self._stopping.wait()))
            done, pending = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
            for task in done:
                task.result()
        finally:
            await self.stop()

    def request_stop(self) -> None:
        """Ask :meth:`run` to stop (e.g. on a signal)."""
        self._stopping.set()

    async def stop(self) -> None:
        """Disconnect adapters, stop the scheduler and the cogs."""
        for platform in reversed(self._started):
            try:
                await platform.stop()
            except Exception:
                log.exception("adapter %s did not stop cleanly", platform.name)
        self._started.clear()
        await self.scheduler.stop()
        for cog in self.cogs:
            try:
                await cog.on_stop()
            except Exception:
                log.exception("cog %s did not stop cleanly", type(cog).__name__)

    def _job_ran(self, ok: bool) -> None:
        self.metrics.jobs.labels("ran" if ok else "failed").inc()

    async def emit(self, signal: object) -> None:
        """Tell every cog something happened (e.g. a member set their profession).

        Signals are plain dataclasses defined by the cog that emits them; a failing receiver is
        logged and the others still hear it.
        """
        for cog in self.cogs:
            try:
                await cog.on_signal(signal)
            except Exception:
                log.exception("%s.on_signal(%s) failed", type(cog).__name__, type(signal).__name__)

    async def judge(self, ctx: Context, text: str) -> Verdict:
        """What the courtesy rules say of text given through a command (see ``Router.judge``)."""
        return await self.router.judge(ctx, text)

    # ------------------------------------------------------------ lookups

    async def member_for(self, user: UserRef) -> int:
        """The member id behind a platform account (created on first sight)."""
        key = (user.platform, user.id)
        cached = self._accounts.get(key)
        if cached is not None and cached[1] == user.display_name:
            return cached[0]
        # One lookup per account at a time: a newcomer's burst of messages creates it once.
        pending = self._account_lookups.get(key)
        if pending is None:
            pending = asyncio.ensure_future(
                members.account_for(
                    self.db,
                    user.platform,
                    user.id,
                    user.display_name or user.id,
                    now=self.clock.now(),
                )
            )
            self._account_lookups[key] = pending
            pending.add_done_callback(lambda _: self._account_lookups.pop(key, None))
        account = await asyncio.shield(pending)
        self._accounts[key] = (account.member_id, user.display_name)
        return account.member_id

    def forget_member(self, member_id: int) -> None:
        """Drop a deleted member from the caches (their next message makes a new member)."""
        for key, (cached_id, _name) in list(self._accounts.items()):
            if cached_id == member_id:
                del self._accounts[key]

    async def circle_for(self, channel: ChannelRef) -> Circle | None:
        """The circle a channel hosts (created with the defaults on first use); none in DMs."""
        if channel.direct:
            return None
        key = (channel.platform, channel.id)
        circle = self._circles.get(key)
        if circle is None:
            circle = await members.get_or_create_circle(
                self.db,
                channel.platform,
                channel.id,
                name=channel.name,
                locale=self.config.bot.locale,
                timezone=self.config.bot.timezone,
                now=self.clock.now(),
            )
            self._circles[key] = circle
        return circle

    def circle_changed(self, circle: Circle) -> None:
        """Tell the bot a circle's settings changed (refreshes its cache)."""
        self._circles[(circle.platform, circle.space_id)] = circle

    async def context(
        self,
        platform: Platform,
        user: UserRef | None,
        channel: ChannelRef,
        thread: ThreadRef | None,
        kind: type[C],
        **extra: Any,
    ) -> C:
        """Build the context handlers receive: member, circle, role and language resolved."""
        circle = await self.circle_for(channel)
        member_id = await self.member_for(user) if user is not None else None
        role = await platform.role_of(user, channel) if user is not None else Role.MEMBER
        locale = circle.locale if circle is not None else self.config.bot.locale
        return kind(
            bot=self,
            platform=platform,
            messenger=self._messengers[platform.name],
            user=user or UserRef(platform.name, ""),
            member_id=member_id,
            channel=channel,
            thread=thread,
            circle=circle,
            role=role,
            t=translator(locale),
            **extra,
        )
