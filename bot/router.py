"""From an adapter's event to the cog that handles it, with permissions and an error boundary.

A failing handler never stops the bot: the member gets a short, friendly message in their
language with an incident code, and the log gets the traceback under the same code.
"""

from __future__ import annotations

import logging
import secrets
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from bot.cog import Cog, CommandContext, Context, EventContext, Handler
from bot.commands import (
    Choice,
    CommandSpec,
    Scope,
    UsageError,
    coerce_options,
    parse_arguments,
    split_path,
)
from bot.platform import SuggestionRequest
from bot.types import (
    CommandInvoked,
    Event,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    MessageRef,
    ReactionAdded,
    ReactionRemoved,
    Verdict,
    Visibility,
)

if TYPE_CHECKING:
    from bot.app import Bot

log = logging.getLogger(__name__)

#: How many recent event ids are remembered to drop duplicate deliveries.
_SEEN_LIMIT: Final = 10_000
#: A member may run this many commands per window before being asked to slow down.
THROTTLE_LIMIT: Final = 8
THROTTLE_WINDOW: Final = timedelta(seconds=10)


class CommandRegistry:
    """Every command of every cog, by path; names are unique across cogs."""

    def __init__(self) -> None:
        self._by_path: dict[tuple[str, ...], tuple[CommandSpec, Handler, Cog]] = {}

    def add_cog(self, cog: Cog) -> None:
        """Register the cog's commands; a path declared twice is a programming error."""
        for spec, handler in cog.commands():
            if spec.path in self._by_path:
                other = self._by_path[spec.path][2]
                raise ValueError(
                    f"command {spec.qualified_name!r} declared by both "
                    f"{type(other).__name__} and {type(cog).__name__}"
                )
            self._by_path[spec.path] = (spec, handler, cog)

    @property
    def specs(self) -> list[CommandSpec]:
        """All command specs, sorted by path."""
        return [self._by_path[path][0] for path in sorted(self._by_path)]

    def get(self, path: tuple[str, ...]) -> tuple[CommandSpec, Handler, Cog] | None:
        """The command at ``path``."""
        return self._by_path.get(path)

    def find(self, name: str) -> list[CommandSpec]:
        """Commands whose path starts with ``name`` (``prompt`` or ``prompt add``)."""
        words = tuple(name.lower().lstrip("/!").split())
        return [spec for spec in self.specs if spec.path[: len(words)] == words]


class Router:
    """Turns events into handler calls."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self._seen: OrderedDict[tuple[str, str, str], None] = OrderedDict()
        self._recent: dict[tuple[str, str], deque[datetime]] = {}
        self._warned: dict[tuple[str, str], datetime] = {}

    async def handle(self, event: Event) -> None:
        """Handle one event completely; never raises."""
        try:
            if self._duplicate(event):
                log.debug("dropping duplicate %s", type(event).__name__)
                return
            platform_name = (
                event.channel.platform
                if isinstance(event, CommandInvoked)
                else event.message.channel.platform
            )
            self.bot.metrics.messages.labels(platform_name, type(event).__name__).inc()
            if isinstance(event, CommandInvoked):
                await self._command(event)
            elif isinstance(event, MessagePosted):
                caps = self.bot.platform(event.message.channel.platform).capabilities
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
                    await self._listeners(event, "on_message")
            elif isinstance(event, MessageEdited):
                await self._listeners(event, "on_edit")
            elif isinstance(event, MessageDeleted):
                await self._listeners(event, "on_delete")
            elif isinstance(event, ReactionAdded | ReactionRemoved):
                await self._listeners(event, "on_reaction")
            else:  # pragma: no cover - the union is closed; adapters may still misbehave
                log.warning("ignoring unknown event %r", type(event).__name__)
        except Exception:
            log.exception("error while handling %s", type(event).__name__)

    def _duplicate(self, event: Event) -> bool:
        if isinstance(event, CommandInvoked):
            key = (event.channel.platform, "command", event.id)
        elif isinstance(event, ReactionAdded | ReactionRemoved):
            # A reaction has no id of its own everywhere: the message, who and what identify it.
            ident = f"{event.message.id}/{event.user.id}/{event.emoji}/{event.at.isoformat()}"
            key = (event.message.channel.platform, type(event).__name__, ident)
        else:
            ident = f"{event.message.id}/{event.at.isoformat()}"
            key = (event.message.channel.platform, type(event).__name__, ident)
        if key in self._seen:
            return True
        self._seen[key] = None
        if len(self._seen) > _SEEN_LIMIT:
            self._seen.popitem(last=False)
        return False

    async def _command(self, event: CommandInvoked) -> None:
        platform = self.bot.platform(event.channel.platform)
        ctx = await self.bot.context(
            platform,
            event.user,
            event.channel,
            event.thread,
            CommandContext,
            spec=None,
            options={},
            invocation=event,
        )
        prefix = ctx.prefix
        if await self._throttled(ctx, event):
            return
        entry = self._resolve(event)
        if entry is None:
            name = (event.text or " ".join(event.path)).split(None, 1)
            await ctx.messenger.reply_private(
                ctx.user,
                ctx.t._(
                    "Unknown command {name}. Type {help} to see what I can do.",
                    name=f"`{prefix}{name[0] if name else ''}`",
                    help=f"`{prefix}help`",
                ),
                token=event.reply_token,
            )
            return
        spec, handler, _cog = entry
        ctx.spec = spec
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
        await self._guarded(ctx, handler(ctx), f"command {spec.qualified_name}")

    async def _throttled(self, ctx: CommandContext, event: CommandInvoked) -> bool:
        """A member sending commands too fast is told once, politely, then ignored a moment."""
        key = (event.channel.platform, event.user.id)
        now = self.bot.clock.now()
        recent = self._recent.setdefault(key, deque())
        while recent and now - recent[0] >= THROTTLE_WINDOW:
            recent.popleft()
        if len(recent) < THROTTLE_LIMIT:
            recent.append(now)
            self._warned.pop(key, None)
            return False
        self.bot.metrics.throttled.inc()
        if key not in self._warned:
            self._warned[key] = now
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
        entry = self.bot.commands.get(tuple(request.path))
        if entry is None:
            return []
        spec, _handler, cog = entry
        option = spec.option(request.option)
        if option is None or not option.autocomplete:
            return []
        try:
            platform = self.bot.platform(request.channel.platform)
            ctx = await self.bot.context(
                platform, request.user, request.channel, request.thread, Context
            )
            if ctx.role < spec.role:
                return []
            return (await cog.suggest(spec, option, request.partial, ctx))[:25]
        except Exception:
            log.exception("suggestions for %s failed", spec.qualified_name)
            return []

    def _resolve(self, event: CommandInvoked) -> tuple[CommandSpec, Handler, Cog] | None:
        if event.text is not None:
            found = split_path(event.text, self.bot.commands.specs)
            return self.bot.commands.get(found[0].path) if found else None
        return self.bot.commands.get(tuple(event.path))

    async def _listeners(
        self,
        event: MessagePosted | MessageEdited | MessageDeleted | ReactionAdded | ReactionRemoved,
        method: str,
    ) -> None:
        platform = self.bot.platform(event.message.channel.platform)
        if isinstance(event, MessagePosted | MessageEdited):
            user = event.author
        elif isinstance(event, ReactionAdded | ReactionRemoved):
            user = event.user
        else:
            user = None
        ctx = await self.bot.context(
            platform,
            user,
            event.message.channel,
            event.message.thread,
            EventContext,
            event=event,
        )
        if isinstance(event, MessagePosted | MessageEdited):
            ctx.verdict = await self._verdict(ctx, event.text)
        for cog in self.bot.cogs:
            listener: Callable[[EventContext], Awaitable[None]] = getattr(cog, method)
            await self._guarded(ctx, listener(ctx), f"{type(cog).__name__}.{method}")

    async def judge(self, ctx: Context, text: str) -> Verdict:
        """The courtesy verdict on text a member gave through a command (e.g. ``/answer``).

        The cogs' ``inspect`` sees it as a post with ``ctx.synthetic`` set: there is no platform
        message to delete, only a decision to make.
        """
        invocation = getattr(ctx, "invocation", None)
        ident = f"command:{getattr(invocation, 'id', '')}"
        event = MessagePosted(
            MessageRef(ctx.channel, ident, ctx.thread), ctx.user, text, self.bot.clock.now()
        )
        probe = EventContext(
            bot=ctx.bot,
            platform=ctx.platform,
            messenger=ctx.messenger,
            user=ctx.user,
            member_id=ctx.member_id,
            channel=ctx.channel,
            thread=ctx.thread,
            circle=ctx.circle,
            role=ctx.role,
            t=ctx.t,
            event=event,
            synthetic=True,
        )
        return await self._verdict(probe, text)

    async def _verdict(self, ctx: EventContext, text: str) -> Verdict:
        verdict = Verdict(Visibility.VISIBLE, text)
        for cog in self.bot.cogs:
            try:
                opinion = await cog.inspect(ctx)
            except Exception:
                # A broken rule must not silence the circle: log it and let the message through.
                log.exception("%s.inspect failed", type(cog).__name__)
                continue
            if opinion is not None and opinion.visibility >= verdict.visibility:
                verdict = opinion
        if verdict.rule is not None or verdict.visibility is not Visibility.VISIBLE:
            self.bot.metrics.moderation.labels(
                verdict.category, verdict.visibility.name.lower()
            ).inc()
        return verdict

    async def _guarded(self, ctx: Context, call: Awaitable[Any], what: str) -> None:
        """Run ``call``; on failure log the traceback and tell the member, briefly."""
        try:
            await call
        except Exception:
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
