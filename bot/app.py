"""The bot: the kernel's parts wired around the cogs it is given, and its lifecycle.

What to run (clock, scheduler, adapters, cogs) is chosen by the composition root,
:mod:`bot.compose`; :class:`Bot` only connects the parts it receives.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Sequence
from datetime import timedelta
from typing import Any, Final

from bot.cog import Cog
from bot.commands import CommandSpec, validate_spec
from bot.config import Config
from bot.effects import Effects
from bot.metrics import Metrics
from bot.platform import OffersSuggestions, Platform
from bot.registry import CommandRegistry
from bot.router import RETRY_DELAYS, Router
from bot.scheduler import JobRun, Scheduler, cron
from bot.services import Directory, MemberData, Platforms, Services, Signals, Verdicts
from bot.supervisor import Supervisor
from storage import ledger
from storage.database import Database

log = logging.getLogger("cercle")

#: How long a stop waits for the adapters, the scheduler and the cogs (seconds, each phase);
#: ``cercle run`` ends the process a little after their sum whatever still runs.
STOP_ADAPTERS: Final = 1.5
STOP_SCHEDULER: Final = 0.5
STOP_COGS: Final = 1.5

#: The daily job forgetting old entries of the events-and-effects ledger.
PRUNE_JOB: Final = "cercle:ledger-prune"
#: How long settled events and performed effects are kept. A replay never reaches further
#: back: Discord's catch-up and Matrix's sync resume from positions a few minutes to days
#: old, and a replayed answer is unique per message anyway. Dead letters are kept until
#: a host has seen them in ``/circle health`` (they are counted there).
LEDGER_DAYS: Final = 14


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
        retry_delays: Sequence[float] = RETRY_DELAYS,
        supervisor: Supervisor | None = None,
    ) -> None:
        self.config = config
        self.db = db
        self.scheduler = scheduler
        self.clock = scheduler.clock
        self.metrics = Metrics()
        #: The background tasks of this process (the adapters' readers), for health reports.
        self.supervisor = supervisor if supervisor is not None else Supervisor(self.clock)
        self.effects = Effects(db, self.clock)
        self.platforms = Platforms(platforms, self.effects)
        self.signals = Signals()
        self.directory = Directory(db, self.clock, config, self.signals)
        self.verdicts = Verdicts(self.metrics, self.clock)
        self.member_data = MemberData()
        self.commands = CommandRegistry()
        services = Services(
            db=db,
            clock=self.clock,
            scheduler=scheduler,
            config=config,
            log=log,
            platforms=self.platforms,
            signals=self.signals,
            directory=self.directory,
            verdicts=self.verdicts,
            commands=self.commands,
            member_data=self.member_data,
            metrics=self.metrics,
            effects=self.effects,
            supervisor=self.supervisor,
        )
        self.cogs = [cog_type(services) for cog_type in cogs]
        for cog in self.cogs:
            self.commands.add(cog)
        problems = [p for spec in self.commands.specs for p in validate_spec(spec)]
        if problems:
            raise ValueError("invalid command specs:\n" + "\n".join(problems))
        self.signals.connect(self.cogs)
        self.verdicts.connect(self.cogs)
        self.member_data.connect(self.cogs)
        scheduler.on_run = self._job_ran
        scheduler.effects = self.effects
        scheduler.add(PRUNE_JOB, cron("23 4 * * *", "UTC"), self._prune_ledger)
        self.router = Router(
            commands=self.commands,
            listeners=self.cogs,
            directory=self.directory,
            platforms=self.platforms,
            verdicts=self.verdicts,
            metrics=self.metrics,
            clock=self.clock,
            effects=self.effects,
            retry_delays=retry_delays,
        )
        self._stopping = asyncio.Event()
        self._started: list[Platform] = []

    @property
    def specs(self) -> list[CommandSpec]:
        """Every command spec."""
        return self.commands.specs

    # ------------------------------------------------------------ lifecycle

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
        for platform in self.platforms:
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
        """Disconnect adapters, stop the scheduler, then the cogs, each in a bounded time.

        The adapters stop side by side, then the scheduler, then the cogs side by side. A part
        that fails is logged; one still running when its phase's time is up is logged and
        abandoned (cancelled, not waited for): a stuck part never holds the process up.
        """
        adapters = [(f"adapter {p.name}", p.stop()) for p in reversed(self._started)]
        self._started.clear()
        await _bounded(adapters, STOP_ADAPTERS)
        await _bounded([("the scheduler", self.scheduler.stop())], STOP_SCHEDULER)
        await _bounded([(f"cog {type(c).__name__}", c.on_stop()) for c in self.cogs], STOP_COGS)

    async def _prune_ledger(self, run: JobRun) -> None:
        removed = await ledger.prune(
            self.db, before=run.scheduled_for - timedelta(days=LEDGER_DAYS)
        )
        log.info("ledger: forgot %d entries older than %d days", removed, LEDGER_DAYS)

    def _job_ran(self, ok: bool) -> None:
        self.metrics.jobs.labels("ran" if ok else "failed").inc()


async def _bounded(parts: Sequence[tuple[str, Coroutine[Any, Any, None]]], seconds: float) -> None:
    """Run ``parts`` side by side for at most ``seconds``; log failures, abandon stragglers."""
    if not parts:
        return
    tasks = {asyncio.ensure_future(part): name for name, part in parts}
    try:
        await asyncio.wait(tasks, timeout=seconds)
    finally:
        for task, name in tasks.items():
            if not task.done():
                task.cancel()
                log.error("%s did not stop within %.1f s: abandoned", name, seconds)
            elif not task.cancelled() and task.exception() is not None:
                log.error("%s did not stop cleanly", name, exc_info=task.exception())
