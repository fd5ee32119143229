"""Neutral, frozen types shared by the core, the adapters and the cogs.

No platform payload crosses into a cog: adapters translate what they receive into these
values at the edge, and translate these values back when they send.

The edge is also where text is made storable: every text and name of a ref or an event is
passed through :func:`clean_text` when the value is built (NUL and lone surrogates become
U+FFFD), so no adapter can hand the core a text that PostgreSQL or UTF-8 would refuse.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Final

# How a message may be shown is a storage rule (the stored values and which are public):
# re-exported here so verdicts and cogs keep saying ``bot.types.Visibility``.
from storage.types import Visibility as Visibility

if TYPE_CHECKING:
    from storage.models import Circle


REPLACEMENT: Final = "\ufffd"
_UNSTORABLE: Final = re.compile("[\x00\ud800-\udfff]")
_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """``text`` with NUL and lone surrogates replaced by U+FFFD; everything else intact.

    PostgreSQL refuses NUL in text, and a lone surrogate cannot be encoded as UTF-8 (for the
    database or a platform's API). A surrogate pair left split in two code points is joined
    into the character it stands for. Clean text is returned as is (the same object).
    """
    if text.isascii():
        return text.replace("\x00", REPLACEMENT) if "\x00" in text else text
    if _UNSTORABLE.search(text) is None:
        return text
    if _SURROGATE.search(text) is not None:
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text.replace("\x00", REPLACEMENT)


def _cleaned(value: Any) -> Any:
    """``value`` with its texts cleaned: a string, or the strings in a tuple or a mapping."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, tuple):
        items = tuple(_cleaned(item) for item in value)
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if isinstance(value, Mapping):
        pairs = [(_cleaned(k), _cleaned(v)) for k, v in value.items()]
        if all(a is k and b is v for (a, b), (k, v) in zip(pairs, value.items(), strict=True)):
            return value
        return MappingProxyType(dict(pairs))
    return value


class _CleanText:
    """Cleans the texts named by ``_texts`` as the (frozen) value is built."""

    __slots__ = ()
    _texts: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        for name in self._texts:
            value = getattr(self, name)
            cleaned = _cleaned(value)
            if cleaned is not value:
                object.__setattr__(self, name, cleaned)


class Role(enum.IntEnum):
    """What a member may do in a circle; higher includes lower."""

    MEMBER = 0
    HOST = 1


@dataclass(frozen=True, slots=True)
class UserRef(_CleanText):
    """A person's account on one platform."""

    _texts: ClassVar[tuple[str, ...]] = ("platform", "id", "display_name")

    platform: str
    id: str
    display_name: str = ""

    @property
    def label(self) -> str:
        """The name to show, falling back to the id."""
        return self.display_name or self.id


@dataclass(frozen=True, slots=True)
class ChannelRef(_CleanText):
    """A place where messages are posted: a Discord channel, a Matrix room, a DM."""

    _texts: ClassVar[tuple[str, ...]] = ("platform", "id", "name")

    platform: str
    id: str
    name: str = ""
    direct: bool = False


@dataclass(frozen=True, slots=True)
class ThreadRef(_CleanText):
    """A thread inside a channel (a Discord thread, a Matrix `m.thread` root)."""

    _texts: ClassVar[tuple[str, ...]] = ("id", "name")

    channel: ChannelRef
    id: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class MessageRef(_CleanText):
    """A posted message, with the channel and, when it has one, the thread it lives in."""

    _texts: ClassVar[tuple[str, ...]] = ("id",)

    channel: ChannelRef
    id: str
    thread: ThreadRef | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with a message (for example a chart)."""

    filename: str
    data: bytes
    content_type: str = "application/octet-stream"
    description: str = ""


@dataclass(frozen=True, slots=True)
class Card:
    """Rich output: rendered as an embed on Discord and as HTML on Matrix."""

    title: str
    body: str
    fields: tuple[tuple[str, str], ...] = ()
    footer: str = ""


class ActionStyle(enum.Enum):
    """How an action's button looks where buttons exist."""

    PRIMARY = "primary"
    SUCCESS = "success"
    DANGER = "danger"


@dataclass(frozen=True, slots=True)
class Action:
    """A button under a message: pressing it runs a command, as the member who pressed it.

    The command runs through the core like a typed one (permissions, usage, throttling), as
    if invoked in ``channel``. Everything needed to run it is in the action itself, so a
    button still works after a restart. Platforms without buttons leave actions out; the
    text of the message should say which command does the same.
    """

    #: The button's text, already in the reader's language.
    label: str
    #: The command to run, e.g. ``("mod", "approve")``.
    path: tuple[str, ...]
    #: Fixed option values, e.g. ``(("id", 3),)``.
    options: tuple[tuple[str, str | int], ...] = ()
    #: Where the command runs (its permission check is made there).
    channel: ChannelRef | None = None
    style: ActionStyle = ActionStyle.PRIMARY
    #: Before running, ask the member for this option's value (e.g. a reason); the command's
    #: spec describes it.
    ask: str | None = None


@dataclass(frozen=True, slots=True)
class Ping:
    """A mention hosts opted into: a role (Discord) or, without one, the whole room (Matrix).

    It travels beside the text, never in it: the text's mention syntax is always defused, and
    adapters allow this mention alone at the API level.
    """

    role: str | None = None


@dataclass(frozen=True, slots=True)
class Content:
    """What the bot says: Markdown text, an optional card, attachments and actions.

    Text written by the bot is trusted Markdown; text echoed from members must go
    through :func:`bot.messenger.escape` first (the messenger's helpers do it).
    """

    text: str = ""
    card: Card | None = None
    attachments: tuple[Attachment, ...] = ()
    actions: tuple[Action, ...] = ()
    #: The one mention this message makes, opted into by the circle's hosts (none by default).
    ping: Ping | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the courtesy rules decided about a message (the most restrictive cog wins)."""

    visibility: Visibility
    #: The text as it may be shown and stored (masked when redacted).
    text: str
    rule: str | None = None
    category: str = "ok"
    #: The cog that gave this opinion (its ``name``); set by the router.
    decided_by: str = ""
    #: An opinion that changes nothing (observe mode): listeners hear it, it never wins.
    advisory: bool = False
    #: Whatever the deciding cog needs to act on its decision later (opaque to the core).
    detail: Any = field(default=None, compare=False)

    @property
    def public(self) -> bool:
        """The message (or its masked twin) may be seen and counted."""
        return self.visibility.public


# ---------------------------------------------------------------- signals


@dataclass(frozen=True, slots=True)
class CircleChanged:
    """A circle was created (first seen) or its settings changed; ``circle`` is the new row.

    Emitted by the core when a channel becomes a circle and by the cog that edits a circle's
    settings; cogs that keep per-circle state (schedules, caches) refresh it here.
    """

    circle: Circle
    created: bool = False


# ---------------------------------------------------------------- events
#
# The closed set of things an adapter may report. Each carries the platform's own id for
# the event so handling can be made idempotent.


@dataclass(frozen=True, slots=True)
class MessagePosted(_CleanText):
    """A member posted a message (in a channel, a thread or a DM)."""

    _texts: ClassVar[tuple[str, ...]] = ("text",)

    message: MessageRef
    author: UserRef
    text: str
    at: datetime
    reply_to: MessageRef | None = None


@dataclass(frozen=True, slots=True)
class MessageEdited(_CleanText):
    """A member edited one of their messages."""

    _texts: ClassVar[tuple[str, ...]] = ("text",)

    message: MessageRef
    author: UserRef
    text: str
    at: datetime


@dataclass(frozen=True, slots=True)
class MessageDeleted:
    """A message was deleted (by its author or a moderator)."""

    message: MessageRef
    at: datetime


@dataclass(frozen=True, slots=True)
class ReactionAdded(_CleanText):
    """A member reacted to a message."""

    _texts: ClassVar[tuple[str, ...]] = ("emoji",)

    message: MessageRef
    user: UserRef
    emoji: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ReactionRemoved(_CleanText):
    """A member took a reaction back."""

    _texts: ClassVar[tuple[str, ...]] = ("emoji",)

    message: MessageRef
    user: UserRef
    emoji: str
    at: datetime


def _frozen_options() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class CommandInvoked(_CleanText):
    """A member ran a command.

    Platforms with native commands (Discord) fill ``path`` and ``options``; text platforms
    leave the parsing to the core by giving the raw ``text`` after the prefix instead.
    """

    _texts: ClassVar[tuple[str, ...]] = ("id", "path", "options", "text")

    channel: ChannelRef
    user: UserRef
    at: datetime
    id: str
    path: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=_frozen_options)
    text: str | None = None
    thread: ThreadRef | None = None
    #: Platform handle used to answer this very invocation (e.g. a Discord interaction).
    reply_token: Any = None


Event = (
    MessagePosted
    | MessageEdited
    | MessageDeleted
    | ReactionAdded
    | ReactionRemoved
    | CommandInvoked
)
"""Every event an adapter may hand to the core."""

EVENT_TYPES: tuple[type, ...] = (
    MessagePosted,
    MessageEdited,
    MessageDeleted,
    ReactionAdded,
    ReactionRemoved,
    CommandInvoked,
)
