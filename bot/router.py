"""From an adapter's event to the cog that handles it, with permissions and an error boundary.

A failing handler never stops the bot: the member gets a short, friendly message in their
language with an incident code, and the log gets the traceback under the same code.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from datetime import datetime, timedelta
from functools import cache, partial
from typing import TYPE_CHECKING, Any, Final, Protocol

from bot.cog import Cog
from bot.commands import (
    Choice,
    CommandSpec,
    Scope,
    UsageError,
    coerce_options,
    parse_arguments,
    split_path,
)
from bot.context import CircleContext, CommandContext, Context, EventContext, ListenedEvent
from bot.effects import event_key
from bot.i18n import translator
from bot.platform import EventNotHandled, Platform, SuggestionRequest
from bot.registry import CommandOwner, CommandRegistry, Handler
from bot.types import (
    ChannelRef,
    CommandInvoked,
    Event,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    ReactionAdded,
    ReactionRemoved,
    Role,
    ThreadRef,
    UserRef,
)
from storage.database import DatabaseUnavailable

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.effects import Effects
    from bot.metrics import Metrics
    from bot.services import Directory, Platforms, Verdicts

log = logging.getLogger(__name__)

#: How many recent event ids are remembered to drop duplicate deliveries.
_SEEN_LIMIT: Final = 10_000
#: Members whose recent commands are remembered for the throttle (the least recent are
#: forgotten: they had not run a command for a long while).
_THROTTLED_MEMBERS: Final = 10_000
#: A member may run this many commands per window before being asked to slow down.
THROTTLE_LIMIT: Final = 8
THROTTLE_WINDOW: Final = timedelta(seconds=10)
#: How long to wait before each new attempt at an event whose handling failed.
RETRY_DELAYS: Final = (0.5, 2.0)


class Listener(Protocol):
    """What hears members' messages, edits, deletions and reactions (every cog)."""

    async def on_message(self, ctx: EventContext) -> None: ...
    async def on_edit(self, ctx: EventContext) -> None: ...
    async def on_delete(self, ctx: EventContext) -> None: ...
    async def on_reaction(self, ctx: EventContext) -> None: ...


class Router:
    """Turns events into handler calls.

    It takes only what it uses: the command registry, the listeners (the cogs), the
    directory of members and circles, the platforms, the verdicts, the metrics, the clock
    and the ledger of effects.
    """

    def __init__(
        self,
        *,
        commands: CommandRegistry,
        listeners: Sequence[Listener],
        directory: Directory,
        platforms: Platforms,
        verdicts: Verdicts,
        metrics: Metrics,
        clock: Clock,
        effects: Effects,
        retry_delays: Sequence[float] = RETRY_DELAYS,
    ) -> None:
        self._commands = commands
        self._listeners = list(listeners)
        self._directory = directory
        self._platforms = platforms
        self._verdicts = verdicts
        self._metrics = metrics
        self._clock = clock
        self._effects = effects
        self._retry_delays = tuple(retry_delays)
        self._seen: OrderedDict[tuple[str, str, str], None] = OrderedDict()
        # Per member who ran commands lately; bounded (LRU) so memory stays flat.
        self._recent: OrderedDict[tuple[str, str], deque[datetime]] = OrderedDict()
        self._warned: dict[tuple[str, str], datetime] = {}

    async def context(
        self,
        platform: Platform,
        user: UserRef | None,
        channel: ChannelRef,
        thread: ThreadRef | None,
    ) -> Context:
        """The context of someone acting here: member, circle, role and language resolved.

        Command and event contexts are built from it with their own fields.
        """
        circle = await self._directory.circle_for(channel)
        member_id = await self._directory.member_for(user) if user is not None else None
        role = await platform.role_of(user, channel) if user is not None else Role.MEMBER
        locale = circle.locale if circle is not None else self._directory.default_locale
        return Context(
            platform=platform,
            messenger=self._platforms.messenger(platform.name),
            user=user or UserRef(platform.name, ""),
            member_id=member_id,
            channel=channel,
            thread=thread,
            circle=circle,
            role=role,
            t=translator(locale),
        )

    async def handle(self, event: Event) -> None:
        """Handle one event completely, at most once, and settle it in the ledger.

        A failing step (a listener, the command) is retried with backoff, bounded; the steps
        that succeeded are not run again, nor is any side effect already performed. What
        still fails is set aside as a dead letter (logged, counted in ``/circle health``) and
        the member who sent it is told, once, with an incident code.

        Raises:
            EventNotHandled: The event could be neither handled nor set aside (the database
                is unreachable): the adapter keeps it and hands it again later.
        """
        platform_name, kind, ident = _identity(event)
        seen = (platform_name, kind, ident)
        if seen in self._seen:
            log.debug("dropping duplicate %s", kind)
            return
        self._seen[seen] = None
        if len(self._seen) > _SEEN_LIMIT:
            self._seen.popitem(last=False)
        key = event_key(platform_name, kind, ident)
        try:
            if await self._effects.settled(key) is not None:
                log.debug("dropping %s handled before (a replay)", kind)
                return
            self._metrics.handled(platform_name, type(event).__name__)
            await self._settle(event, key)
        except Exception as error:
            self._seen.pop(seen, None)
            log.warning("%s not handled, kept for later: %s", type(event).__name__, _why(error))
            raise EventNotHandled(f"{type(event).__name__}: {_why(error)}") from error

    async def _settle(self, event: Event, key: str) -> None:
        attempts = len(self._retry_delays) + 1
        channel = event.channel if isinstance(event, CommandInvoked) else event.message.channel
        settle = partial(
            self._effects.settle,
            key,
            platform=channel.platform,
            channel_id=channel.id,
            kind=type(event).__name__,
        )
        failure: BaseException | None = None
        # One scope for every attempt: a step that finished is not run again on a retry.
        async with self._effects.scope(key):
            for attempt in range(1, attempts + 1):
                last = _LAST_ATTEMPT.set(attempt == attempts)
                try:
                    await self._dispatch(event)
                except Exception as error:
                    failure = error.__cause__ if isinstance(error, _StepFailed) else error
                    if _transient(failure):
                        raise  # the database is away: keep the event, never dead-letter it
                    if attempt < attempts:
                        delay = self._retry_delays[attempt - 1]
                        log.warning(
                            "%s failed (%s); attempt %d of %d in %.1f s",
                            type(event).__name__,
                            _why(failure),
                            attempt + 1,
                            attempts,
                            delay,
                        )
                        await asyncio.sleep(delay)
                        continue
                else:
                    await settle(attempts=attempt)
                    return
                finally:
                    _LAST_ATTEMPT.reset(last)
            # The first line only: a database error's next lines quote the statement's
            # parameters (a member's text), and a dead letter is not about members.
            await settle(attempts=attempts, error=_why(failure).partition("\n")[0][:500])
            self._metrics.dead_letters.inc()
            log.error(
                "%s set aside as a dead letter after %d attempts: %s",
                type(event).__name__,
                attempts,
                _why(failure),
            )

    async def _dispatch(self, event: Event) -> None:
        if isinstance(event, CommandInvoked):
            await self._command(event)
        elif isinstance(event, MessagePosted):
            caps = self._platforms.get(event.message.channel.platform).capabilities
            if not caps.native_commands and event.text.startswith(caps.command_prefix):
                await self._command(
                    CommandInvoked(
                        channel=event.message.channel,
                        thread=event.message.thread,
                        user=event.author,
                        at=event.at,
                        id=event.message.id,
                        text=event.text[len(caps.command_prefix) :],
                    )
                )
            else:
                await self._listen(event, "on_message")
        elif isinstance(event, MessageEdited):
            await self._listen(event, "on_edit")
        elif isinstance(event, MessageDeleted):
            await self._listen(event, "on_delete")
        elif isinstance(event, ReactionAdded | ReactionRemoved):
            await self._listen(event, "on_reaction")
        else:  # pragma: no cover - the union is closed; adapters may still misbehave
            log.warning("ignoring unknown event %r", type(event).__name__)

    async def _command(self, event: CommandInvoked) -> None:
        platform = self._platforms.get(event.channel.platform)
        base = await self.context(platform, event.user, event.channel, event.thread)
        prefix = base.prefix
        if await self._throttled(base, event):
            return
        entry = self._resolve(event)
        if entry is None:
            name = (event.text or " ".join(event.path)).split(None, 1)
            await base.messenger.reply_private(
                base.user,
                base.t._(
                    "Unknown command {name}. Type {help} to see what I can do.",
                    name=f"`{prefix}{name[0] if name else ''}`",
                    help=f"`{prefix}help`",
                ),
                token=event.reply_token,
            )
            return
        spec, handler, _owner = entry
        circle_scoped = spec.scope is Scope.CIRCLE and base.circle is not None
        kind = CircleContext if circle_scoped else CommandContext
        ctx = kind(**base.base(), spec=spec, options={}, invocation=event)
        if ctx.role < spec.role:
            await ctx.reply(
                ctx.t._(
                    "Sorry, {usage} is for hosts only.", usage=f"`{prefix}{spec.qualified_name}`"
                ),
                private=True,
            )
            return
        if spec.scope is Scope.CIRCLE and ctx.circle is None:
            await ctx.reply(ctx.t._("Use this command in the circle's channel."), private=True)
            return
        try:
            if event.text is not None:
                _spec, arguments = split_path(event.text, [spec]) or (spec, "")
                ctx.options = parse_arguments(spec, arguments)
            else:
                ctx.options = coerce_options(spec, event.options)
        except UsageError as error:
            await ctx.reply(error.render(ctx.t, prefix), private=True)
            return
        what = f"command {spec.qualified_name}"
        run = partial(self._guarded, ctx, partial(handler, ctx), what)
        await self._effects.step("command", run)

    async def _throttled(self, ctx: Context, event: CommandInvoked) -> bool:
        """A member sending commands too fast is told once, politely, then ignored a moment.

        Speed is measured on the injected clock. A command at the very instant of the member's
        previous one says nothing about speed: only simulated time stands still (a console
        script, a test between two advances), and there it must never lock anyone out, so such
        a command passes and is not counted. A real clock always moves between two commands.
        """
        key = (event.channel.platform, event.user.id)
        now = self._clock.now()
        recent = self._recent.setdefault(key, deque())
        self._recent.move_to_end(key)
        while len(self._recent) > _THROTTLED_MEMBERS:
            gone, _ = self._recent.popitem(last=False)
            self._warned.pop(gone, None)
        if (recent and recent[-1] == now) or self._warned.get(key) == now:
            return False
        while recent and now - recent[0] >= THROTTLE_WINDOW:
            recent.popleft()
        if len(recent) < THROTTLE_LIMIT:
            recent.append(now)
            self._warned.pop(key, None)
            return False
        self._metrics.throttled.inc()
        told = key in self._warned
        # The latest refused instant: a command at that same instant passes (time stood still).
        self._warned[key] = now
        if not told:
            wait = THROTTLE_WINDOW - (now - recent[0])
            await ctx.messenger.reply_private(
                ctx.user,
                ctx.t._(
                    "You are sending commands faster than I can follow: please wait {seconds} "
                    "seconds.",
                    seconds=max(1, round(wait.total_seconds())),
                ),
                token=event.reply_token,
            )
        return True

    async def suggest(self, request: SuggestionRequest) -> list[Choice]:
        """Suggestions for an option as a member types, from the cog owning the command.

        Never raises: a failing cog is logged and the member simply gets no suggestions.
        """
        entry = self._commands.get(tuple(request.path))
        if entry is None:
            return []
        spec, _handler, owner = entry
        option = spec.option(request.option)
        if option is None or not option.autocomplete:
            return []
        try:
            platform = self._platforms.get(request.channel.platform)
            ctx = await self.context(platform, request.user, request.channel, request.thread)
            if ctx.role < spec.role:
                return []
            return (await owner.suggest(spec, option, request.partial, ctx))[:25]
        except Exception:
            log.exception("suggestions for %s failed", spec.qualified_name)
            return []

    def _resolve(self, event: CommandInvoked) -> tuple[CommandSpec, Handler, CommandOwner] | None:
        if event.text is not None:
            found = split_path(event.text, self._commands.specs)
            return self._commands.get(found[0].path) if found else None
        return self._commands.get(tuple(event.path))

    async def _listen(self, event: ListenedEvent, method: str) -> None:
        platform = self._platforms.get(event.message.channel.platform)
        user: UserRef | None
        if isinstance(event, MessagePosted | MessageEdited):
            user = event.author
        elif isinstance(event, ReactionAdded | ReactionRemoved):
            user = event.user
        else:
            user = None
        base = await self.context(platform, user, event.message.channel, event.message.thread)
        ctx = EventContext(**base.base(), event=event)
        if isinstance(event, MessagePosted | MessageEdited):
            ctx.verdict, ctx.opinions = await self._verdicts.decide(ctx, event.text)
        failed: _StepFailed | None = None
        unheard = _unheard(method)
        for listener in self._listeners:
            call: Callable[[EventContext], Awaitable[None]] = getattr(listener, method)
            if getattr(call, "__func__", None) is unheard:
                # The cog keeps the base class's empty method: no step, nothing to record.
                # Six of the eight cogs hear no messages (#17).
                continue
            what = f"{type(listener).__name__}.{method}"
            try:
                run = partial(self._guarded, ctx, partial(call, ctx), what)
                await self._effects.step(what, run)
            except _StepFailed as error:
                failed = failed or error  # the other listeners still hear the event
        if failed is not None:
            raise failed

    async def _guarded(self, ctx: Context, call: Callable[[], Awaitable[Any]], what: str) -> None:
        """Run ``call``; on its last attempt, log a failure's traceback and tell the member.

        Raises:
            _StepFailed: The call failed (its error is the cause), so the step is retried.
        """
        try:
            await call()
        except Exception as error:
            if not _LAST_ATTEMPT.get() or _transient(error):
                raise _StepFailed(what) from error
            incident = secrets.token_hex(3)
            log.exception("%s failed (incident %s)", what, incident)
            if ctx.user.id:
                try:
                    await ctx.messenger.reply_private(
                        ctx.user,
                        ctx.t._(
                            "Sorry, something went wrong on my side (incident {code}). "
                            "The hosts can find it in the log.",
                            code=incident,
                        ),
                        token=getattr(getattr(ctx, "invocation", None), "reply_token", None),
                    )
                except Exception:
                    log.exception("could not tell the member about incident %s", incident)
            raise _StepFailed(what) from error


class _StepFailed(Exception):
    """A step of an event's handling failed; its ``__cause__`` says why."""


#: Whether the current attempt at an event is its last (a failure is then told and kept).
_LAST_ATTEMPT: ContextVar[bool] = ContextVar("cercle_last_attempt", default=True)

#: Errors that say the database is away for now, not that the event is bad.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (DatabaseUnavailable,)


@cache
def _unheard(method: str) -> object:
    """The base :class:`~bot.cog.Cog`'s empty ``method`` (a cog that keeps it hears nothing)."""
    return getattr(Cog, method)


def _identity(event: Event) -> tuple[str, str, str]:
    """What identifies an event across deliveries: platform, kind and a stable id.

    A message is posted once: its id is enough (a replay may be delivered at another time).
    Edits and reactions happen several times to one message: their time counts.
    """
    if isinstance(event, CommandInvoked):
        return event.channel.platform, "command", event.id
    platform = event.message.channel.platform
    kind = type(event).__name__
    if isinstance(event, MessagePosted):
        return platform, kind, event.message.id
    if isinstance(event, ReactionAdded | ReactionRemoved):
        # A reaction has no id of its own everywhere: the message, who and what identify it.
        ident = f"{event.message.id}/{event.user.id}/{event.emoji}/{event.at.isoformat()}"
        return platform, kind, ident
    return platform, kind, f"{event.message.id}/{event.at.isoformat()}"


def _transient(error: BaseException | None) -> bool:
    """Whether ``error`` (or what caused it) says the database is away for now."""
    seen = 0
    while error is not None and seen < 20:
        if isinstance(error, TRANSIENT_ERRORS):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False


def _why(error: BaseException | None) -> str:
    if error is None:
        return "unknown error"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
