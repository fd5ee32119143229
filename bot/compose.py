"""The composition root: the only place that picks the clock, the scheduler, the adapters and
the cogs, and wires them into a :class:`~bot.app.Bot`.

Every way of running Cercle builds through here: ``cercle run``, ``cercle demo``,
``cercle dev-matrix``, ``cercle discord …`` and the test kit's ``Harness`` (through
:class:`bot.simulation.Simulation`). Adding a cog is one folder under ``cogs/`` plus one
line in :func:`default_cogs`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from bot.app import Bot
from bot.clock import FakeClock, SystemClock
from bot.cog import Cog
from bot.commands import CommandSpec
from bot.config import Config
from bot.platform import Platform
from bot.router import RETRY_DELAYS
from bot.scheduler import LiveScheduler, ManualScheduler, Scheduler
from bot.supervisor import Supervisor
from storage.database import Database


def default_cogs() -> list[type[Cog]]:
    """Every cog the bot runs, in order (listeners hear events in this order)."""
    from cogs.circle import CircleCog
    from cogs.core import CoreCog
    from cogs.courtesy import CourtesyCog
    from cogs.digest.cog import DigestCog
    from cogs.privacy import PrivacyCog
    from cogs.professions import ProfessionsCog
    from cogs.rounds import RoundsCog
    from cogs.votes import VotesCog

    return [
        CoreCog,
        CircleCog,
        CourtesyCog,
        ProfessionsCog,
        RoundsCog,
        DigestCog,
        VotesCog,
        PrivacyCog,
    ]


def grace(config: Config) -> timedelta:
    """How late a missed job may still run after a downtime."""
    return timedelta(minutes=config.scheduler.grace_minutes)


def live_scheduler(config: Config, db: Database, *, instance: str | None = None) -> LiveScheduler:
    """The real clock, with APScheduler waking the scheduler at each fire time."""
    return LiveScheduler(
        db, SystemClock(), instance=instance or config.bot.instance, grace=grace(config)
    )


def manual_scheduler(
    config: Config, db: Database, *, start: datetime | None = None, instance: str | None = None
) -> ManualScheduler:
    """A simulated clock that moves only when advanced (``--clock fake``, the demo, tests)."""
    return ManualScheduler(
        db, FakeClock(start), instance=instance or config.bot.instance, grace=grace(config)
    )


def outbox(config: Config) -> Path | None:
    """Where the memory platform keeps what it did (``[memory] outbox``), if anywhere."""
    return Path(config.memory.outbox) if config.memory.outbox else None


def platforms(
    config: Config,
    db: Database,
    scheduler: Scheduler,
    *,
    hosts: Sequence[str] = (),
    supervisor: Supervisor | None = None,
) -> list[Platform]:
    """The adapters named in ``bot.adapters``, each with its own settings.

    ``hosts`` adds console (or memory) members with the host role; ``supervisor`` runs their
    background readers (give the bot the same one: ``/circle health`` shows its tasks).
    """
    found: list[Platform] = []
    hosts = [*config.console.hosts, *hosts]
    for name in config.bot.adapters:
        if name == "console":
            from bot.adapters.console import ConsolePlatform

            # `:advance` moves simulated time only; on the real clock the console says so.
            step = scheduler.advance if isinstance(scheduler, ManualScheduler) else None
            found.append(
                ConsolePlatform(
                    scheduler.clock,
                    channel=config.console.channel,
                    hosts=hosts,
                    bot_name=config.bot.name,
                    advance=step,
                    supervisor=supervisor,
                    locale=config.bot.locale,
                )
            )
        elif name == "memory" and config.memory.inbox:
            from bot.adapters.inbox import InboxPlatform

            found.append(
                InboxPlatform(
                    scheduler.clock,
                    db,
                    Path(config.memory.inbox),
                    hosts=hosts,
                    supervisor=supervisor,
                    outbox=outbox(config),
                )
            )
        elif name == "memory":
            from bot.adapters.memory import MemoryPlatform

            found.append(MemoryPlatform(scheduler.clock, hosts=hosts, outbox=outbox(config)))
        elif name == "matrix":
            from bot.adapters.matrix import MatrixPlatform

            found.append(MatrixPlatform(config.matrix, db, scheduler.clock))
        elif name == "discord":
            from bot.adapters.discord import DiscordPlatform

            found.append(
                DiscordPlatform(
                    config.discord,
                    db=db,
                    clock=scheduler.clock,
                    locale=config.bot.locale,
                    supervisor=supervisor,
                )
            )
    return found


def build(
    config: Config,
    db: Database,
    scheduler: Scheduler,
    adapters: Sequence[Platform],
    *,
    cogs: Sequence[type[Cog]] | None = None,
    retry_delays: Sequence[float] = RETRY_DELAYS,
    supervisor: Supervisor | None = None,
) -> Bot:
    """The bot over these parts, running ``cogs`` (every default cog unless given).

    ``supervisor`` is the one the adapters' background tasks run under (see :func:`platforms`).
    """
    return Bot(
        config=config,
        db=db,
        scheduler=scheduler,
        platforms=adapters,
        cogs=list(cogs) if cogs is not None else default_cogs(),
        retry_delays=retry_delays,
        supervisor=supervisor,
    )


async def command_specs(config: Config | None = None) -> list[CommandSpec]:
    """Every command spec of the default cogs, without a database or an adapter."""
    config = config or Config()
    db = Database("sqlite+aiosqlite:///:memory:")
    try:
        scheduler = ManualScheduler(db, FakeClock(), instance="specs", grace=timedelta(0))
        return build(config, db, scheduler, []).specs
    finally:
        await db.dispose()
