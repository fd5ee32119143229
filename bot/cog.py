"""What a feature (a cog) is: commands declared as data, event listeners, jobs, a data hook.

A cog receives its services in the constructor and never imports a platform library or
reads the wall clock. Handlers get a context that knows the circle, the member, their role
and a translator in the right language, and that answers through the messenger.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from bot.commands import Choice, CommandSpec, OptionSpec, Scope
from bot.i18n import Translator
from bot.messenger import Messenger
from bot.platform import Platform
from bot.types import (
    ChannelRef,
    CommandInvoked,
    Content,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    MessageRef,
    ReactionAdded,
    ReactionRemoved,
    Role,
    ThreadRef,
    UserRef,
    Verdict,
)

if TYPE_CHECKING:
    from bot.app import Bot
    from bot.clock import Clock
    from bot.config import Config
    from bot.scheduler import Scheduler
    from storage.database import Database
    from storage.models import Circle

Handler = Callable[["CommandContext"], Awaitable[None]]
F = TypeVar("F", bound=Callable[..., Awaitable[None]])

_SPEC_ATTR = "__cercle_command__"


def command(
    *path: str,
    description: str,
    options: Sequence[OptionSpec] = (),
    role: Role = Role.MEMBER,
    scope: Scope = Scope.ANYWHERE,
    private: bool = False,
    slow: bool = False,
    examples: Sequence[str] = (),
) -> Callable[[F], F]:
    """Declare a cog method as the handler of a command.

    ``description`` and option descriptions are English message ids, marked with ``N_``.
    """
    spec = CommandSpec(
        path=tuple(path),
        description=description,
        options=tuple(options),
        role=role,
        scope=scope,
        private=private,
        slow=slow,
        examples=tuple(examples),
    )

    def decorate(func: F) -> F:
        setattr(func, _SPEC_ATTR, spec)
        return func

    return decorate


@dataclass(frozen=True, slots=True)
class Services:
    """What the composition root hands every cog."""

    bot: Bot
    db: Database
    clock: Clock
    scheduler: Scheduler
    config: Config
    log: logging.Logger


@dataclass(slots=True)
class Context:
    """Who did something, where, and how to answer them."""

    bot: Bot
    platform: Platform
    messenger: Messenger
    user: UserRef
    #: The member's id in storage; ``None`` when no member is involved (a deletion).
    member_id: int | None
    channel: ChannelRef
    thread: ThreadRef | None
    circle: Circle | None
    role: Role
    t: Translator

    @property
    def prefix(self) -> str:
        """How commands are written here: ``/`` for native commands, else the text prefix."""
        caps = self.platform.capabilities
        return "/" if caps.native_commands else caps.command_prefix

    @property
    def is_host(self) -> bool:
        """The member has the host role here."""
        return self.role >= Role.HOST

    async def send(self, content: Content | str) -> list[MessageRef]:
        """Post where the event happened (the thread when there is one)."""
        return await self.messenger.send(self.channel, content, thread=self.thread)

    async def send_private(self, content: Content | str) -> None:
        """Tell the member privately (a direct message)."""
        await self.messenger.send_direct(self.user, content)


@dataclass(slots=True)
class CommandContext(Context):
    """A command invocation, its parsed options and how to answer it."""

    spec: CommandSpec = field(kw_only=True)
    options: dict[str, Any] = field(kw_only=True)
    invocation: CommandInvoked = field(kw_only=True)

    async def reply(self, content: Content | str, *, private: bool | None = None) -> None:
        """Answer the command: privately when the spec (or ``private``) says so."""
        if self.spec.private if private is None else private:
            await self.messenger.reply_private(
                self.user, content, token=self.invocation.reply_token
            )
        else:
            await self.send(content)


@dataclass(slots=True)
class EventContext(Context):
    """A message, edit, deletion or reaction seen in a channel the bot is in."""

    event: MessagePosted | MessageEdited | MessageDeleted | ReactionAdded | ReactionRemoved = field(
        kw_only=True
    )
    #: For posts and edits: what the courtesy rules decided (every cog's ``inspect``, the most
    #: restrictive wins) before any ``on_message``/``on_edit`` listener runs.
    verdict: Verdict | None = field(default=None, kw_only=True)
    #: The text came from a command (``/answer``): no platform message exists to delete or
    #: repost; ``inspect`` should only judge it.
    synthetic: bool = field(default=False, kw_only=True)


class Cog:
    """Base class of features. Override what you need; declare commands with :func:`command`."""

    #: Unique, stable name (used in logs and job keys).
    name: ClassVar[str] = ""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.log = services.log.getChild(self.name or type(self).__name__)

    def commands(self) -> list[tuple[CommandSpec, Handler]]:
        """The commands this cog declares, with their bound handlers."""
        found: list[tuple[CommandSpec, Handler]] = []
        for attr in dir(type(self)):
            spec = getattr(getattr(type(self), attr), _SPEC_ATTR, None)
            if isinstance(spec, CommandSpec):
                found.append((spec, getattr(self, attr)))
        return found

    async def on_start(self) -> None:
        """Called once storage is ready, before adapters connect: register jobs here."""

    async def on_stop(self) -> None:
        """Called at shutdown."""

    async def inspect(self, ctx: EventContext) -> Verdict | None:
        """Judge a post or edit before listeners see it (courtesy rules); ``None``: no opinion."""
        return None

    async def on_message(self, ctx: EventContext) -> None:
        """A member posted a (non-command) message; ``ctx.verdict`` says how it may be shown."""

    async def on_edit(self, ctx: EventContext) -> None:
        """A member edited a message."""

    async def on_delete(self, ctx: EventContext) -> None:
        """A message was deleted."""

    async def on_reaction(self, ctx: EventContext) -> None:
        """A reaction was added or removed (see ``ctx.event``)."""

    async def on_signal(self, signal: object) -> None:
        """Another cog announced something (:meth:`bot.app.Bot.emit`); ignore unknown signals."""

    async def suggest(
        self, spec: CommandSpec, option: OptionSpec, partial: str, ctx: Context
    ) -> list[Choice]:
        """Suggestions for an option with ``autocomplete`` as the member types."""
        return []

    # Member data: every cog says what it stores about a member and can erase it.

    async def export_member_data(self, member_id: int) -> dict[str, Any]:
        """Everything this cog stores about the member, as JSON-ready data."""
        raise NotImplementedError(f"{type(self).__name__} must implement export_member_data")

    async def erase_member_data(self, member_id: int) -> None:
        """Erase everything this cog stores about the member."""
        raise NotImplementedError(f"{type(self).__name__} must implement erase_member_data")
