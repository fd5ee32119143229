"""An in-process chat platform: for tests, demos and the console.

Members' actions are injected with :meth:`MemoryPlatform.post`, :meth:`~MemoryPlatform.command`,
:meth:`~MemoryPlatform.press` (a button) and friends; everything the bot does is recorded in
:attr:`MemoryPlatform.sent`. Its
capabilities are a parameter, so the same cog can be exercised as on Discord or on Matrix.

With an ``outbox`` (:mod:`bot.adapters.outbox`) every side effect is also appended to a file,
and the platform behaves like a server that outlives the bot: a restarted process finds what
the previous one sent (its ids are not handed out again, its messages can be edited), and a
request repeated with the same :func:`~bot.effects.idempotency_key` is not performed twice.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from bot.adapters.outbox import Outbox
from bot.clock import Clock
from bot.commands import Choice, CommandSpec, UsageError, split_arguments, split_path
from bot.effects import idempotency_key
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
    """A platform that lives in memory (and in ``outbox``, a file, when one is given)."""

    def __init__(
        self,
        clock: Clock,
        *,
        name: str = "memory",
        capabilities: Capabilities = DISCORD_LIKE,
        channel: str = "circle",
        hosts: Sequence[str] = (),
        outbox: Path | None = None,
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
        self.outbox = Outbox(outbox) if outbox is not None else None
        if self.outbox is not None:
            self._ids = itertools.count(self.outbox.last_counter + 1)
            for line in self.outbox.delivered:
                self._replay(line)

    # ------------------------------------------------------------ Platform

    async def start(self, sink: EventSink) -> None:
        """Start delivering injected events to ``sink``."""
        self._sink = sink
        self._closed.clear()
        self.connected = True

    async def stop(self) -> None:
        """Stop delivering events."""
        self.connected = False
        if self.outbox is not None:
            self.outbox.close()
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
        line = _line("send", channel=channel.id, thread=thread, text=content.text)
        if self._repeated(line):
            return MessageRef(channel, str(line["ref"]), thread)
        ref = MessageRef(channel, self._next_id("bot"), thread)
        self.sent.append(
            Sent(ref, content, "thread" if thread else "channel", actions=content.actions)
        )
        self._delivered(line, ref.id)
        return ref

    async def send_direct(self, user: UserRef, content: Content) -> MessageRef:
        """Record a direct message."""
        self._check(content)
        channel = ChannelRef(self.name, f"dm-{user.id}", name=user.label, direct=True)
        line = _line("send_direct", channel=channel.id, to=user.id, text=content.text)
        if self._repeated(line):
            return MessageRef(channel, str(line["ref"]))
        ref = MessageRef(channel, self._next_id("dm"))
        self.sent.append(Sent(ref, content, "direct", to=user, actions=content.actions))
        self._delivered(line, ref.id)
        return ref

    async def reply_ephemeral(
        self, invocation_token: object, user: UserRef, content: Content
    ) -> None:
        """Record a reply only ``user`` sees."""
        if not self.capabilities.ephemeral_replies:
            raise NotSupported("ephemeral replies")
        self._check(content)
        channel = invocation_token if isinstance(invocation_token, ChannelRef) else self.channel
        line = _line("reply_ephemeral", channel=channel.id, to=user.id, text=content.text)
        if self._repeated(line):
            return
        ref = MessageRef(channel, self._next_id("eph"))
        self.sent.append(Sent(ref, content, "ephemeral", to=user, actions=content.actions))
        self._delivered(line, ref.id)

    async def edit(self, message: MessageRef, content: Content) -> None:
        """Record an edit of a bot message."""
        self._check(content)
        line = _line("edit", channel=message.channel.id, thread=message.thread, text=content.text)
        if self._repeated(line):
            return
        sent = self._sent(message)
        sent.edits.append(content)
        sent.actions = content.actions
        self._delivered(line, message.id)

    async def delete(self, message: MessageRef, *, reason: str = "") -> None:
        """Delete a bot message or a member's message.

        With an outbox, a message this process does not know is a member's message it was
        handed (an inbox line): the platform knows it, and the deletion is recorded.
        """
        line = _line("delete", channel=message.channel.id, thread=message.thread, text=reason)
        if self._repeated(line):
            return
        if message.id in self.posted:
            self.posted[message.id].deleted = True
        elif self.outbox is None or self._known(message):
            self._sent(message).deleted = True
        self._delivered(line, message.id)

    async def react(self, message: MessageRef, emoji: str) -> None:
        """Record the bot's reaction."""
        line = _line("react", channel=message.channel.id, thread=message.thread, text=emoji)
        if self._repeated(line):
            return
        self._sent(message).reactions.append(emoji)
        self._delivered(line, message.id)

    async def start_thread(self, message: MessageRef, name: str) -> ThreadRef:
        """Open a thread on a bot message."""
        if not self.capabilities.threads:
            raise NotSupported("threads")
        line = _line("start_thread", channel=message.channel.id, text=name, message=message.id)
        if self._repeated(line):
            return ThreadRef(message.channel, str(line["ref"]), name)
        thread = ThreadRef(message.channel, self._next_id("thread"), name)
        self.threads[thread.id] = thread
        self._delivered(line, thread.id)
        return thread

    async def close_thread(self, thread: ThreadRef) -> None:
        """Mark a thread closed to new messages."""
        line = _line("close_thread", channel=thread.channel.id, thread=thread)
        if self._repeated(line):
            return
        self.closed_threads.add(thread.id)
        self._delivered(line, thread.id)

    async def mute(self, user: UserRef, channel: ChannelRef, until: datetime) -> None:
        """Record a mute until ``until``."""
        line = _line("mute", channel=channel.id, to=user.id, until=until.isoformat())
        if self._repeated(line):
            return
        self.mutes[user.id] = until
        self._delivered(line, None)

    async def unmute(self, user: UserRef, channel: ChannelRef) -> None:
        """Lift a mute."""
        line = _line("unmute", channel=channel.id, to=user.id)
        if self._repeated(line):
            return
        self.mutes.pop(user.id, None)
        self._delivered(line, None)

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

    def _known(self, message: MessageRef) -> bool:
        return any(sent.ref.id == message.id for sent in self.sent)

    # ------------------------------------------------------------ outbox

    def _repeated(self, line: dict[str, Any]) -> bool:
        """Whether this request was delivered before (then ``line`` gets its ``ref``, written
        as a repeat): the effect is not performed again, as a server deduping on it would."""
        if self.outbox is None or not self.outbox.seen(line["key"]):
            return False
        line["ref"] = self.outbox.ref_of(line["key"])
        line["repeat"] = True
        self.outbox.write(line)
        return True

    def _delivered(self, line: dict[str, Any], ref: str | None) -> None:
        if self.outbox is not None:
            line["ref"] = ref
            self.outbox.write(line)

    def _replay(self, line: dict[str, Any]) -> None:
        """Take back what an earlier process did, as read from the outbox."""
        effect, ref, text = line["effect"], str(line.get("ref") or ""), str(line.get("text") or "")
        direct = effect in ("send_direct",)
        channel = ChannelRef(self.name, str(line.get("channel") or ""), direct=direct)
        thread = ThreadRef(channel, str(line["thread"])) if line.get("thread") else None
        to = self.user(str(line["to"])) if line.get("to") else None
        message = MessageRef(channel, ref, thread)
        if effect in _WHERE:
            where = "thread" if effect == "send" and thread else _WHERE[effect]
            self.sent.append(Sent(message, Content(text), where, to=to))
        elif effect == "start_thread":
            self.threads[ref] = ThreadRef(channel, ref, text)
        elif effect == "close_thread":
            self.closed_threads.add(ref)
        elif effect == "mute" and to is not None:
            self.mutes[to.id] = datetime.fromisoformat(str(line["until"]))
        elif effect == "unmute" and to is not None:
            self.mutes.pop(to.id, None)
        elif effect in ("edit", "delete", "react") and self._known(message):
            sent = self._sent(message)
            if effect == "edit":
                sent.edits.append(Content(text))
            elif effect == "delete":
                sent.deleted = True
            else:
                sent.reactions.append(text)

    def _check(self, content: Content) -> None:
        if len(content.text) > self.capabilities.max_message_length:
            raise PlatformError(
                f"message of {len(content.text)} characters over the platform limit "
                f"of {self.capabilities.max_message_length}"
            )


_WHERE: dict[str, Where] = {
    "send": "channel",
    "send_direct": "direct",
    "reply_ephemeral": "ephemeral",
}


def _line(
    effect: str,
    *,
    channel: str,
    thread: ThreadRef | None = None,
    to: str | None = None,
    text: str = "",
    **more: str,
) -> dict[str, Any]:
    """An outbox line for the effect being performed (its ``ref`` is set once it is done)."""
    return {
        "effect": effect,
        "key": idempotency_key(),
        "channel": channel,
        "thread": thread.id if thread is not None else None,
        "to": to,
        "text": text,
        **more,
        "ref": None,
    }
