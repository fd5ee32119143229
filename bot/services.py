"""The narrow services a cog is given: each does one thing, none hands out the whole bot.

- :class:`Platforms`: the adapters of this process and the messenger of each;
- :class:`Signals`: tell every cog something happened;
- :class:`Directory`: members and circles behind platform accounts and channels;
- :class:`Verdicts`: what the cogs' ``inspect`` say of a text (the courtesy rules);
- :class:`MemberData`: every cog's data hooks, for export and erasure.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Final, Protocol

from bot.cache import LRU
from bot.context import Context, EventContext
from bot.effects import Effects, OnceOnly
from bot.messenger import Messenger
from bot.platform import Platform
from bot.types import (
    ChannelRef,
    CircleChanged,
    MessagePosted,
    MessageRef,
    UserRef,
    Verdict,
    Visibility,
)
from storage import members
from storage.writer import GroupReader

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.config import Config
    from bot.metrics import Metrics
    from bot.registry import CommandRegistry
    from bot.scheduler import Scheduler
    from bot.supervisor import Supervisor
    from storage.database import Database
    from storage.models import Account, Circle

log = logging.getLogger("cercle")
#: Platform accounts whose member id is kept in memory (the most recently seen).
ACCOUNTS_CACHED: Final = 10_000


class SignalReceiver(Protocol):
    """Anything that hears signals (every cog)."""

    async def on_signal(self, signal: object) -> None:
        """React to ``signal``; ignore unknown ones."""


class Inspector(Protocol):
    """Anything that judges posts before listeners see them (every cog)."""

    @property
    def name(self) -> str:
        """Whose opinion it is."""

    async def inspect(self, ctx: EventContext) -> Verdict | None:
        """An opinion on the post or edit in ``ctx``; ``None``: no opinion."""


class DataHolder(Protocol):
    """Anything that stores data about members (every cog)."""

    @property
    def name(self) -> str:
        """Whose data it is."""

    async def export_member_data(self, member_id: int) -> dict[str, Any]:
        """Everything stored about the member."""

    async def erase_member_data(self, member_id: int) -> None:
        """Erase everything stored about the member."""


class Platforms:
    """The adapters this process runs, by name, each with its messenger."""

    def __init__(self, platforms: Sequence[Platform], effects: Effects | None = None) -> None:
        # With an effects ledger, every side effect on a platform happens once per event or
        # job occurrence, whatever retries and replays follow.
        self._platforms: dict[str, Platform] = {
            platform.name: platform if effects is None else OnceOnly(platform, effects)
            for platform in platforms
        }
        self._messengers = {name: Messenger(p) for name, p in self._platforms.items()}

    def __iter__(self) -> Iterator[Platform]:
        return iter(self._platforms.values())

    def __len__(self) -> int:
        return len(self._platforms)

    def __contains__(self, name: object) -> bool:
        return name in self._platforms

    @property
    def names(self) -> set[str]:
        """The names of the adapters."""
        return set(self._platforms)

    def get(self, name: str) -> Platform:
        """The adapter called ``name``."""
        return self._platforms[name]

    def messenger(self, name: str) -> Messenger:
        """The messenger that speaks through the adapter called ``name``."""
        return self._messengers[name]

    def serves(self, circle: Circle) -> bool:
        """This process runs the adapter of ``circle``'s platform (jobs for others are skipped)."""
        return circle.platform in self._platforms

    def prefix(self, name: str) -> str:
        """How commands are written on the adapter called ``name``."""
        caps = self._platforms[name].capabilities
        return "/" if caps.native_commands else caps.command_prefix


class Signals:
    """Tells every cog something happened (e.g. a member set their profession).

    Signals are plain frozen dataclasses defined by whoever emits them; a failing receiver is
    logged and the others still hear it.
    """

    def __init__(self) -> None:
        self._receivers: list[SignalReceiver] = []

    def connect(self, receivers: Sequence[SignalReceiver]) -> None:
        """Deliver signals to ``receivers``, in order, from now on."""
        self._receivers.extend(receivers)

    async def emit(self, signal: object) -> None:
        """Deliver ``signal`` to every receiver."""
        for receiver in self._receivers:
            try:
                await receiver.on_signal(signal)
            except Exception:
                log.exception(
                    "%s.on_signal(%s) failed", type(receiver).__name__, type(signal).__name__
                )


class Directory:
    """Members behind platform accounts and circles behind channels, cached per process.

    The first time this process sees a circle it emits :class:`~bot.types.CircleChanged`
    (``created=True``), so cogs give it what they keep per circle (schedule, question bank).
    """

    def __init__(self, db: Database, clock: Clock, config: Config, signals: Signals) -> None:
        self._db = db
        self._clock = clock
        self._locale = config.bot.locale
        self._timezone = config.bot.timezone
        self._schedule = config.bot.schedule
        self._signals = signals
        # Bounded: past 100,000 members memory stays flat (the least recently seen are
        # looked up again if they come back).
        self._accounts: LRU[tuple[str, str], tuple[int, str]] = LRU(ACCOUNTS_CACHED)
        self._account_lookups: dict[tuple[str, str], asyncio.Future[Account]] = {}
        # Members first seen side by side (a backlog after a restart) are found together.
        self._known_accounts: GroupReader[tuple[str, str], Account] = GroupReader(
            functools.partial(members.accounts_of, db)
        )
        self._circles: dict[tuple[str, str], Circle] = {}
        self._circle_lookups: dict[tuple[str, str], asyncio.Future[Circle]] = {}

    @property
    def default_locale(self) -> str:
        """The language of places that are not circles (direct messages)."""
        return self._locale

    async def member_for(self, user: UserRef) -> int:
        """The member id behind a platform account (created on first sight)."""
        key = (user.platform, user.id)
        cached = self._accounts.get(key)
        if cached is not None and cached[1] == user.display_name:
            return cached[0]
        # One lookup per account at a time: a newcomer's burst of messages creates it once.
        pending = self._account_lookups.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._account(user))
            self._account_lookups[key] = pending
            pending.add_done_callback(lambda _: self._account_lookups.pop(key, None))
        account = await asyncio.shield(pending)
        self._accounts[key] = (account.member_id, user.display_name)
        return account.member_id

    async def _account(self, user: UserRef) -> Account:
        name = user.display_name or user.id
        found = await self._known_accounts.get((user.platform, user.id))
        if found is not None and found.display_name == name:
            return found
        # New, or renamed: created or updated (with its member's name) one by one.
        return await members.account_for(
            self._db, user.platform, user.id, name, now=self._clock.now(), absent=found is None
        )

    def forget_member(self, member_id: int) -> None:
        """Drop a deleted member from the caches (their next message makes a new member)."""
        for key, (cached_id, _name) in self._accounts.items():
            if cached_id == member_id:
                self._accounts.pop(key)

    async def circle_for(self, channel: ChannelRef) -> Circle | None:
        """The circle a channel hosts (created with the defaults on first use); none in DMs."""
        if channel.direct:
            return None
        key = (channel.platform, channel.id)
        circle = self._circles.get(key)
        if circle is not None:
            return circle
        # One lookup per channel at a time: a backlog's first events, handled side by side,
        # find the circle once and announce it once.
        pending = self._circle_lookups.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._circle(channel))
            self._circle_lookups[key] = pending
            pending.add_done_callback(lambda _: self._circle_lookups.pop(key, None))
        return await asyncio.shield(pending)

    async def _circle(self, channel: ChannelRef) -> Circle:
        circle = await members.get_or_create_circle(
            self._db,
            channel.platform,
            channel.id,
            name=channel.name,
            locale=self._locale,
            timezone=self._timezone,
            now=self._clock.now(),
            schedule=self._schedule,
        )
        self._circles[(channel.platform, channel.id)] = circle
        await self._signals.emit(CircleChanged(circle, created=True))
        return circle

    async def circle_by_id(self, circle_id: int) -> Circle | None:
        """The circle with this id, if it exists."""
        for circle in self._circles.values():
            if circle.id == circle_id:
                return circle
        return await members.circle_by_id(self._db, circle_id)

    async def changed(self, circle: Circle) -> None:
        """A circle's settings changed: refresh the cache and tell every cog."""
        self._circles[(circle.platform, circle.space_id)] = circle
        await self._signals.emit(CircleChanged(circle))


class Verdicts:
    """What the cogs' ``inspect`` say of a post: every opinion, and the one that wins."""

    def __init__(self, metrics: Metrics, clock: Clock) -> None:
        self._inspectors: list[Inspector] = []
        self._metrics = metrics
        self._clock = clock

    def connect(self, inspectors: Sequence[Inspector]) -> None:
        """Ask ``inspectors``, in order, from now on."""
        self._inspectors.extend(inspectors)

    async def decide(self, ctx: EventContext, text: str) -> tuple[Verdict, Mapping[str, Verdict]]:
        """The most restrictive opinion (advisory ones never win) and every opinion by cog."""
        verdict = Verdict(Visibility.VISIBLE, text)
        opinions: dict[str, Verdict] = {}
        for inspector in self._inspectors:
            try:
                opinion = await inspector.inspect(ctx)
            except Exception:
                # A broken rule must not silence the circle: log it and let the message through.
                log.exception("%s.inspect failed", type(inspector).__name__)
                continue
            if opinion is None:
                continue
            if not opinion.decided_by:
                opinion = replace(opinion, decided_by=inspector.name)
            opinions[inspector.name] = opinion
            if not opinion.advisory and opinion.visibility >= verdict.visibility:
                verdict = opinion
        if verdict.rule is not None or verdict.visibility is not Visibility.VISIBLE:
            self._metrics.moderated(verdict.category, verdict.visibility.name.lower())
        return verdict, opinions

    async def judge(self, ctx: Context, text: str, *, ident: str = "") -> Verdict:
        """The verdict on text a member gave through a command (e.g. ``/answer``).

        The cogs' ``inspect`` see it as a post with ``synthetic`` set: there is no platform
        message to delete, only a decision to make.
        """
        event = MessagePosted(
            MessageRef(ctx.channel, f"command:{ident}", ctx.thread),
            ctx.user,
            text,
            self._clock.now(),
        )
        probe = EventContext(**ctx.base(), event=event, synthetic=True)
        verdict, _opinions = await self.decide(probe, text)
        return verdict


class MemberData:
    """Every cog's data hooks: what is stored about a member, and its erasure."""

    def __init__(self) -> None:
        self._holders: list[DataHolder] = []

    def connect(self, holders: Sequence[DataHolder]) -> None:
        """Include ``holders`` from now on."""
        self._holders.extend(holders)

    async def export(self, member_id: int) -> dict[str, Any]:
        """Each holder's data about the member, by holder name."""
        return {h.name: await h.export_member_data(member_id) for h in self._holders}

    async def erase(self, member_id: int) -> list[str]:
        """Erase the member everywhere; returns the names of holders that failed."""
        failed = []
        for holder in self._holders:
            try:
                await holder.erase_member_data(member_id)
            except Exception:
                log.exception("erasing member %s in %s failed", member_id, holder.name)
                failed.append(holder.name)
        return failed


@dataclass(frozen=True, slots=True)
class Services:
    """What the composition root hands every cog."""

    db: Database
    clock: Clock
    scheduler: Scheduler
    config: Config
    log: logging.Logger
    platforms: Platforms
    signals: Signals
    directory: Directory
    verdicts: Verdicts
    commands: CommandRegistry
    member_data: MemberData
    metrics: Metrics
    #: Side effects once per event or job occurrence (cogs wrap their non-idempotent writes).
    effects: Effects
    #: The process's supervised background tasks (what ``/circle health`` shows of them).
    supervisor: Supervisor
