"""What a handler receives: who did something, where, in which language, and how to answer.

Contexts are built by the router (:class:`ContextFactory`) and hold no reference to the bot:
a cog reaches the rest of the system only through the services it was given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, TypeVar

from bot.commands import CommandSpec
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
    from storage.models import Circle

ListenedEvent = MessagePosted | MessageEdited | MessageDeleted | ReactionAdded | ReactionRemoved
"""The events listeners hear (commands go to their handler instead)."""

C = TypeVar("C", bound="Context")


@dataclass(slots=True)
class Context:
    """Who did something, where, and how to answer them."""

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

    def base(self) -> dict[str, Any]:
        """The fields every context shares, to build a more specific one from this one."""
        return {f.name: getattr(self, f.name) for f in fields(Context)}


@dataclass(slots=True)
class CommandContext(Context):
    """A command invocation, its parsed options and how to answer it."""

    #: A command always has a member behind it.
    member_id: int
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
class CircleContext(CommandContext):
    """A command whose spec has ``Scope.CIRCLE``: it runs in a circle, always."""

    circle: Circle

    @property
    def circle_id(self) -> int:
        """The circle's id (a stored circle always has one)."""
        assert self.circle.id is not None
        return self.circle.id


@dataclass(slots=True)
class EventContext(Context):
    """A message, edit, deletion or reaction seen in a channel the bot is in."""

    event: ListenedEvent = field(kw_only=True)
    #: For posts and edits: what the courtesy rules decided (every cog's ``inspect``, the most
    #: restrictive wins) before any ``on_message``/``on_edit`` listener runs.
    verdict: Verdict | None = field(default=None, kw_only=True)
    #: Every opinion given by a cog's ``inspect``, by cog name, the advisory ones included
    #: (observe mode): the cog that judged finds its own decision here when it acts.
    opinions: Mapping[str, Verdict] = field(default_factory=dict, kw_only=True)
    #: The text came from a command (``/answer``): no platform message exists to delete or
    #: repost; ``inspect`` should only judge it.
    synthetic: bool = field(default=False, kw_only=True)
