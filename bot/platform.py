"""The contract every chat adapter fulfils, and what it tells the core it can do."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from bot.types import ChannelRef, Content, Event, MessageRef, Ping, Role, ThreadRef, UserRef

if TYPE_CHECKING:
    from bot.commands import Choice, CommandSpec


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a platform supports; the core falls back where something is missing."""

    #: Longest message text the platform accepts, in characters.
    max_message_length: int
    #: Commands arrive already parsed (Discord application commands).
    native_commands: bool
    #: A reply only the invoking member sees; otherwise the core sends a DM.
    ephemeral_replies: bool
    threads: bool
    reactions: bool
    #: Cards render natively (embeds); otherwise they are flattened into text.
    cards: bool = False
    #: Prefix of text commands when commands are not native (``!`` on Matrix, ``/`` on a console).
    command_prefix: str = "/"
    #: What hosts may have the bot ping: ``"role"`` (Discord), ``"room"`` (Matrix), ``""`` nothing.
    ping: str = ""
    #: Other people read the room, so a command typed there is seen (not so on a console,
    #: one person's terminal).
    shared_room: bool = True


DISCORD_LIKE = Capabilities(
    max_message_length=2000,
    native_commands=True,
    ephemeral_replies=True,
    threads=True,
    reactions=True,
    cards=True,
    ping="role",
)
"""The capability profile of Discord."""

MATRIX_LIKE = Capabilities(
    # Matrix caps a whole event at 64 KiB; leave room for the HTML twin and the envelope.
    max_message_length=16_000,
    native_commands=False,
    ephemeral_replies=False,
    threads=True,
    reactions=True,
    cards=False,
    command_prefix="!",
    ping="room",
)
"""The capability profile of Matrix."""


EventSink = Callable[[Event], Awaitable[None]]
"""Where an adapter hands the events it receives (the router).

When the sink returns, the event is durably settled: handled, or set aside as a dead letter.
It raises :class:`EventNotHandled` when it could do neither (the database is unreachable,
say): the adapter must then not move its read position past the event, and hand it again
later (with backoff); the core drops what it already handled.
"""


class EventNotHandled(Exception):
    """The sink could neither handle an event nor set it aside: keep it and try again later."""


class PlatformError(Exception):
    """A platform refused or failed an action; adapters raise this instead of their own errors."""


class NotSupported(PlatformError):
    """The platform cannot do this at all (check :class:`Capabilities` first)."""


@runtime_checkable
class Platform(Protocol):
    """A chat adapter: the only code that talks to a chat network."""

    name: str
    capabilities: Capabilities

    async def start(self, sink: EventSink) -> None:
        """Connect and start handing events to ``sink``; returns once connected."""

    async def stop(self) -> None:
        """Disconnect and release everything."""

    async def wait_closed(self) -> None:
        """Return when the adapter has stopped by itself (end of input, fatal error)."""

    async def install_commands(self, specs: Sequence[CommandSpec]) -> None:
        """Make the commands known to the platform (no-op for text commands)."""

    async def send(
        self, channel: ChannelRef, content: Content, *, thread: ThreadRef | None = None
    ) -> MessageRef:
        """Post ``content`` in a channel (or one of its threads)."""

    async def send_direct(self, user: UserRef, content: Content) -> MessageRef:
        """Send ``content`` privately to one member."""

    async def reply_ephemeral(
        self, invocation_token: object, user: UserRef, content: Content
    ) -> None:
        """Answer a command so only its author sees it (needs ``ephemeral_replies``)."""

    async def edit(self, message: MessageRef, content: Content) -> None:
        """Replace the content of a message the bot posted."""

    async def delete(self, message: MessageRef, *, reason: str = "") -> None:
        """Delete (or redact) a message."""

    async def react(self, message: MessageRef, emoji: str) -> None:
        """Add the bot's reaction to a message."""

    async def start_thread(self, message: MessageRef, name: str) -> ThreadRef:
        """Open a thread on a message the bot posted."""

    async def close_thread(self, thread: ThreadRef) -> None:
        """Close a thread to new messages (lock/archive); a no-op where threads can't close."""

    async def mute(self, user: UserRef, channel: ChannelRef, until: datetime) -> None:
        """Stop a member from posting where the channel is until ``until``."""

    async def unmute(self, user: UserRef, channel: ChannelRef) -> None:
        """Lift a mute early."""

    async def role_of(self, user: UserRef, channel: ChannelRef) -> Role:
        """The highest role the member holds where the channel is."""


@dataclass(frozen=True, slots=True)
class SuggestionRequest:
    """A member is typing into an option that offers suggestions (autocomplete)."""

    channel: ChannelRef
    user: UserRef
    path: tuple[str, ...]
    option: str
    partial: str
    thread: ThreadRef | None = None


Suggester = Callable[[SuggestionRequest], Awaitable["list[Choice]"]]
"""Where an adapter asks for suggestions (the router's :meth:`~bot.router.Router.suggest`)."""


@runtime_checkable
class OffersSuggestions(Protocol):
    """An adapter whose platform asks for suggestions as members type (Discord)."""

    def bind_suggestions(self, suggester: Suggester) -> None:
        """Remember where to ask for suggestions."""


@runtime_checkable
class HasHostsChannel(Protocol):
    """An adapter with a place where hosts review what needs a decision (Discord's review
    channel). Cogs post there like anywhere else, usually with :class:`~bot.types.Action`
    buttons that run a host command."""

    def hosts_channel(self, channel: ChannelRef) -> ChannelRef | None:
        """Where the hosts of ``channel``'s community review; ``None`` if none is configured."""

    def mention_channel(self, where: ChannelRef | ThreadRef) -> str:
        """How the bot's text points to a channel or thread there (Discord: ``<#id>``)."""


@runtime_checkable
class ChecksPing(Protocol):
    """An adapter that can tell whether the bot may make a mention in a channel (Matrix: the
    room's power levels decide who may notify the whole room)."""

    async def may_ping(self, channel: ChannelRef, ping: Ping) -> bool:
        """Whether a message of the bot in ``channel`` may carry ``ping``."""


@runtime_checkable
class RepostsAsAuthor(Protocol):
    """An adapter that can repost a member's words under their name and avatar (a webhook)."""

    async def repost_as(
        self, author: UserRef, text: str, channel: ChannelRef, *, thread: ThreadRef | None = None
    ) -> MessageRef | None:
        """Post ``text`` as ``author``; ``None`` when it cannot here (the core then attributes)."""
