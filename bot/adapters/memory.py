"""An in-process chat platform: for tests, demos and the console.

Members' actions are injected with :meth:`MemoryPlatform.post`, :meth:`~MemoryPlatform.command`,
:meth:`~MemoryPlatform.press` (a button) and friends; everything the bot does is recorded in
:attr:`MemoryPlatform.sent`. Its
capabilities are a parameter, so the same cog can be exercised as on Discord or on Matrix.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from bot.clock import Clock
from bot.commands import Choice, CommandSpec, UsageError, split_arguments, split_path
from bot.platform import (
    DISCORD_LIKE,
    Capabilities,
    EventSink,
    NotSupported,
    PlatformError,
    Suggester,
    SuggestionRequest,
)
from bot.types import (
    Action,
    ChannelRef,
    CommandInvoked,
    Content,
    Event,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    MessageRef,
    ReactionAdded,
    ReactionRemoved,
    Role,
    ThreadRef,
    UserRef,
)

Where = Literal["channel", "thread", "direct", "ephemeral"]


@dataclass(slots=True)
class Sent:
    """Something the bot posted."""

    ref: MessageRef
    content: Content
    where: Where
    #: The member a direct or ephemeral message went to.
    to: UserRef | None = None
    edits: list[Content] = field(default_factory=list)
    deleted: bool = False
    reactions: list[str] = field(default_factory=list)
    #: The buttons under the message now (the content's actions, replaced by an edit's).
    actions: tuple[Action, ...] = ()

    @property
    def text(self) -> str:
        """The current text (after edits)."""
        return (self.edits[-1] if self.edits else self.content).text


@dataclass(slots=True)
class Posted:
    """A message a member posted through this platform."""

    ref: MessageRef
    author: UserRef
    text: str
    deleted: bool = False


class MemoryPlatform:
    """A platform that lives in memory."""

    def __init__(
        self,
        clock: Clock,
        *,
        name: str = "memory",
        capabilities: Capabilities = DISCORD_LIKE,
        channel: str = "circle",
        hosts: Sequence[str] = (),
    ) -> None:
        self.name = name
        self.capabilities = capabilities
        self.clock = clock
        self.channel = ChannelRef(name, channel, name=channel)
        self.hosts = {h.lower() for h in hosts}
        self.sent: list[Sent] = []
        self.posted: dict[str, Posted] = {}
        self.installed: list[CommandSpec] = []
        self.threads: dict[str, ThreadRef] = {}
        self.closed_threads: set[str] = set()
        self.mutes: dict[str, datetime] = {}
        self._sink: EventSink | None = None
        self._suggester: Suggester | None = None
        self._ids = itertools.count(1)
        # Ids stay unique across restarts of a process that shares a database (inbox runs).
        self._run = secrets.token_hex(2)
        self._closed = asyncio.Event()
        self.connected = False

    # ------------------------------------------------------------ Platform

    async def start(self, sink: EventSink) -> None:
        """Start delivering injected events to ``sink``."""
        self._sink = sink
        self._closed.clear()
        self.connected = True

    async def stop(self) -> None:
        """Stop delivering events."""
        self.connected = False
        self._closed.set()

    async def wait_closed(self) -> None:
        """Return once stopped."""
        await self._closed.wait()

    async def install_commands(self, specs: Sequence[CommandSpec]) -> None:
        """Remember the commands (a real platform would register them)."""
        self.installed = list(specs)

    def bind_suggestions(self, suggester: Suggester) -> None:
        """Remember where suggestions come from (see :meth:`suggest`)."""
        self._suggester = suggester

    async def send(
        self, channel: ChannelRef, content: Content, *, thread: ThreadRef | None = None
    ) -> MessageRef:
        """Record a post in a channel or thread."""
        self._check(content)
        ref = MessageRef(channel, self._next_id("bot"), thread)
        self.sent.append(
            Sent(ref, content, "thread" if thread else "channel", actions=content.actions)
        )
        return ref

    async def send_direct(self, user: UserRef, content: Content) -> MessageRef:
        """Record a direct message."""
        self._check(content)
        channel = ChannelRef(self.name, f"dm-{user.id}", name=user.label, direct=True)
        ref = MessageRef(channel, self._next_id("dm"))
        self.sent.append(Sent(ref, content, "direct", to=user, actions=content.actions))
        return ref

    async def reply_ephemeral(
        self, invocation_token: object, user: UserRef, content: Content
    ) -> None:
        """Record a reply only ``user`` sees."""
        if not self.capabilities.ephemeral_replies:
            raise NotSupported("ephemeral replies")
        self._check(content)
        channel = invocation_token if isinstance(invocation_token, ChannelRef) else self.channel
        ref = MessageRef(channel, self._next_id("eph"))
        self.sent.append(Sent(ref, content, "ephemeral", to=user, actions=content.actions))

    async def edit(self, message: MessageRef, content: Content) -> None:
        """Record an edit of a bot message."""
        self._check(content)
        sent = self._sent(message)
        sent.edits.append(content)
        sent.actions = content.actions

    async def delete(self, message: MessageRef, *, reason: str = "") -> None:
        """Delete a bot message or a member's message."""
        if message.id in self.posted:
            self.posted[message.id].deleted = True
            return
        self._sent(message).deleted = True

    async def react(self, message: MessageRef, emoji: str) -> None:
        """Record the bot's reaction."""
        self._sent(message).reactions.append(emoji)

    async def start_thread(self, message: MessageRef, name: str) -> ThreadRef:
        """Open a thread on a bot message."""
        if not self.capabilities.threads:
            raise NotSupported("threads")
        thread = ThreadRef(message.channel, self._next_id("thread"), name)
        self.threads[thread.id] = thread
        return thread

    async def close_thread(self, thread: ThreadRef) -> None:
        """Mark a thread closed to new messages."""
        self.closed_threads.add(thread.id)

    async def mute(self, user: UserRef, channel: ChannelRef, until: datetime) -> None:
        """Record a mute until ``until``."""
        self.mutes[user.id] = until

    async def unmute(self, user: UserRef, channel: ChannelRef) -> None:
        """Lift a mute."""
        self.mutes.pop(user.id, None)

    def is_muted(self, user: str | UserRef) -> bool:
        """Whether the member is muted right now."""
        until = self.mutes.get(self._user(user).id)
        return until is not None and until > self.clock.now()

    async def role_of(self, user: UserRef, channel: ChannelRef) -> Role:
        """Hosts are the configured names."""
        return Role.HOST if user.id.lower() in self.hosts else Role.MEMBER

    # ------------------------------------------------------------ members' side

    def user(self, name: str) -> UserRef:
        """The member called ``name`` on this platform."""
        return UserRef(self.name, name.lower(), name)

    async def post(
        self,
        author: str | UserRef,
        text: str,
        *,
        thread: ThreadRef | None = None,
        reply_to: MessageRef | None = None,
        channel: ChannelRef | None = None,
    ) -> MessageRef:
        """A member posts ``text`` (in the circle's channel unless told otherwise)."""
        user = self._user(author)
        ref = MessageRef(channel or self.channel, self._next_id("msg"), thread)
        self.posted[ref.id] = Posted(ref, user, text)
        await self.deliver(MessagePosted(ref, user, text, self.clock.now(), reply_to))
        return ref

    async def edit_post(self, ref: MessageRef, text: str) -> None:
        """A member edits one of their messages."""
        posted = self.posted[ref.id]
        posted.text = text
        await self.deliver(MessageEdited(ref, posted.author, text, self.clock.now()))

    async def delete_post(self, ref: MessageRef) -> None:
        """A member deletes one of their messages."""
        self.posted[ref.id].deleted = True
        await self.deliver(MessageDeleted(ref, self.clock.now()))

    async def add_reaction(self, author: str | UserRef, ref: MessageRef, emoji: str) -> None:
        """A member reacts to a message."""
        await self.deliver(ReactionAdded(ref, self._user(author), emoji, self.clock.now()))

    async def remove_reaction(self, author: str | UserRef, ref: MessageRef, emoji: str) -> None:
        """A member takes a reaction back."""
        await self.deliver(ReactionRemoved(ref, self._user(author), emoji, self.clock.now()))

    async def command(
        self,
        author: str | UserRef,
        text: str,
        *,
        options: Mapping[str, Any] | None = None,
        thread: ThreadRef | None = None,
        channel: ChannelRef | None = None,
    ) -> None:
        """A member runs a command, written ``/group sub option:value free text``.

        On a platform with native commands the text is split into a path and structured
        options here, as Discord would deliver them (``options`` overrides the parsed ones);
        otherwise it is posted as a text message with the platform's prefix.
        """
        user = self._user(author)
        body = text.lstrip("/!")
        if not self.capabilities.native_commands:
            await self.post(
                user, self.capabilities.command_prefix + body, thread=thread, channel=channel
            )
            return
        found = split_path(body, self.installed)
        if found is None:
            path = tuple(body.split()[:1])
            parsed: dict[str, Any] = {}
        else:
            spec, arguments = found
            path = spec.path
            try:
                raw = split_arguments(spec, arguments) if options is None else dict(options)
            except UsageError:
                # Discord's client never sends unparseable input; hand over nothing and let
                # the core's validation name what is missing.
                raw = {}
            parsed = {k: v for k, v in raw.items() if v is not None}
        where = channel or self.channel
        await self.deliver(
            CommandInvoked(
                channel=where,
                user=user,
                at=self.clock.now(),
                id=self._next_id("cmd"),
                path=path,
                options=parsed,
                thread=thread,
                reply_token=where,
            )
        )

    async def press(
        self,
        author: str | UserRef,
        sent: Sent,
        index: int = 0,
        *,
        answer: str | None = None,
    ) -> None:
        """A member presses the ``index``-th button under ``sent``: its command runs as them.

        As on Discord, the command is invoked in the action's channel (else where the message
        is) with the action's fixed options; an action that asks for an option gets
        ``answer`` there, as if the member had typed it when asked (none: left out).
        """
        action = sent.actions[index]
        options: dict[str, Any] = dict(action.options)
        if action.ask is not None and answer is not None:
            options[action.ask] = answer
        if action.channel is not None:
            where, thread = action.channel, None
        else:
            where, thread = sent.ref.channel, sent.ref.thread
        await self.deliver(
            CommandInvoked(
                channel=where,
                user=self._user(author),
                at=self.clock.now(),
                id=self._next_id("cmd"),
                path=action.path,
                options=options,
                thread=thread,
                reply_token=where,
            )
        )

    async def suggest(
        self, author: str | UserRef, path: str, option: str, partial: str
    ) -> list[Choice]:
        """What a member typing ``partial`` into ``option`` of command ``path`` is offered."""
        if self._suggester is None:
            raise PlatformError(f"{self.name} has no suggestions bound")
        request = SuggestionRequest(
            self.channel, self._user(author), tuple(path.lstrip("/!").split()), option, partial
        )
        return await self._suggester(request)

    async def deliver(self, event: Event) -> None:
        """Hand an event to the bot and wait until it is handled."""
        if self._sink is None or not self.connected:
            raise PlatformError(f"{self.name} is not started")
        await self._sink(event)

    # ------------------------------------------------------------ helpers

    def _user(self, author: str | UserRef) -> UserRef:
        return author if isinstance(author, UserRef) else self.user(author)

    def _next_id(self, kind: str) -> str:
        return f"{kind}-{self._run}-{next(self._ids)}"

    def _sent(self, message: MessageRef) -> Sent:
        for sent in self.sent:
            if sent.ref.id == message.id:
                return sent
        raise PlatformError(f"unknown message {message.id}")

    def _check(self, content: Content) -> None:
        if len(content.text) > self.capabilities.max_message_length:
            raise PlatformError(
                f"message of {len(content.text)} characters over the platform limit "
                f"of {self.capabilities.max_message_length}"
            )
