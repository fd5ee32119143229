"""Side effects at most once per event or job occurrence, across retries, replays and crashes.

The router handles each event inside a **scope** keyed by the event's identity, the scheduler
runs each job occurrence inside one keyed by the occurrence. A scope is cut into **steps** (each
listener of an event is one): a finished step is not run again by a retry of that scope.
Within a step, every side effect on a platform — a message sent, a member muted, a thread
started — goes through :meth:`Effects.once`, which records it with what it returned; run again
(the step failed later and is retried, or the process died and the event is replayed), the
effect is skipped and the recorded result returned. Cogs wrap their own non-idempotent writes
(a strike, an audit row, a question added) the same way.

Effects on a platform are recorded right after they happen: a crash in between
(milliseconds) can still repeat one. Platforms that dedupe requests on a key of ours (Matrix
transaction ids) close that window with :func:`idempotency_key`. Events handled side by side
would each have one effect in that window at once; inside :func:`one_at_a_time` (a backlog
caught up in batches) their effects take turns, so a crash still repeats at most one. Writes
to the bot's own database go through :meth:`Effects.stored` instead: the write and its record
commit together.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from bot.platform import Capabilities, EventSink, Platform
from bot.types import ChannelRef, Content, MessageRef, Role, ThreadRef, UserRef
from storage import ledger
from storage.writer import GroupReader

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.commands import CommandSpec
    from storage.database import Database

T = TypeVar("T")

__all__ = ["Effects", "OnceOnly", "event_key", "idempotency_key", "one_at_a_time"]


@dataclass
class _Scope:
    key: str
    #: What this scope already did (effect key -> recorded result), read at its first effect:
    #: most events perform none, and then cost no read.
    known: dict[str, str] | None = None
    #: The steps that finished (retries of this scope skip them).
    finished: set[str] = field(default_factory=set)
    step: str = ""
    rank: int = 0


_scope: ContextVar[_Scope | None] = ContextVar("cercle_effect_scope", default=None)
_performing: ContextVar[str | None] = ContextVar("cercle_effect_performing", default=None)
#: Held from a platform effect until its record is committed, inside :func:`one_at_a_time`.
_serial: ContextVar[asyncio.Lock | None] = ContextVar("cercle_effect_serial", default=None)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def event_key(*parts: str) -> str:
    """The ledger key of an event identified by ``parts`` (a hash: no member data in it)."""
    return _digest("event", *parts)


def idempotency_key() -> str | None:
    """The key of the side effect being performed now, if any.

    A platform that dedupes requests on a client-chosen key (Matrix transaction ids) uses it,
    so that an effect repeated after a crash is recognised by the server too.
    """
    return _performing.get()


@contextlib.contextmanager
def one_at_a_time() -> Iterator[None]:
    """Inside the body, and the tasks it starts, platform effects happen one at a time.

    Each is recorded before the next one starts, so events handled side by side (a backlog
    caught up in batches) leave at most one effect performed and not recorded when the
    process dies: a replay requests at most that one again, as one event at a time would.
    """
    token = _serial.set(asyncio.Lock())
    try:
        yield
    finally:
        _serial.reset(token)


def _none(_result: object) -> str:
    return ""


def _ignore(_raw: str) -> None:
    return None


class Effects:
    """The ledger of settled events and performed side effects, on the database."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        # Events handled side by side are looked up together.
        self._lookups: GroupReader[str, str] = GroupReader(functools.partial(ledger.statuses, db))
        # So are the effects their scopes already performed (none, unless one is a retry).
        self._performed: GroupReader[str, dict[str, str]] = GroupReader(
            functools.partial(ledger.effects_in, db)
        )

    # ------------------------------------------------------------ events

    async def settled(self, key: str) -> str | None:
        """``done`` or ``dead`` if the event ``key`` was settled, else ``None``.

        Events handled side by side (a batch, a busy gateway) are looked up together.
        """
        return await self._lookups.get(key)

    async def settle(
        self,
        key: str,
        *,
        platform: str,
        channel_id: str,
        kind: str,
        attempts: int,
        error: str | None = None,
    ) -> None:
        """Record the event ``key`` as handled, or as a dead letter when ``error`` is given."""
        await ledger.settle(
            self._db,
            ledger.HandledEvent(
                key=key,
                platform=platform,
                channel_id=channel_id[:255],
                kind=kind[:32],
                status=ledger.EVENT_DONE if error is None else ledger.EVENT_DEAD,
                attempts=attempts,
                error=error,
                handled_at=self._clock.now(),
            ),
        )

    # ------------------------------------------------------------ side effects

    @contextlib.asynccontextmanager
    async def scope(self, key: str) -> AsyncIterator[None]:
        """Run the body as the handling of ``key`` (an event or a job occurrence)."""
        token = _scope.set(_Scope(key))
        try:
            yield
        finally:
            _scope.reset(token)

    async def step(self, name: str, run: Callable[[], Awaitable[None]]) -> bool:
        """Run one step of the current scope unless it already finished; record it when it does.

        Returns:
            True if the step ran now, False if it had finished before (outside a scope it
            always runs).
        """
        scope = _scope.get()
        if scope is None:
            await run()
            return True
        done = _digest(scope.key, "step", name)
        if done in scope.finished:
            return False
        outer = (scope.step, scope.rank)
        scope.step, scope.rank = name, 0
        try:
            await run()
        finally:
            scope.step, scope.rank = outer
        # Kept in memory only (retries of this scope skip it): writing it would cost every
        # event one write per listener; after a crash a finished step runs again, but each
        # side effect it performed is recorded and not repeated.
        scope.finished.add(done)
        return True

    async def once(
        self,
        what: str,
        perform: Callable[[], Awaitable[T]],
        *,
        encode: Callable[[T], str] = _none,
        decode: Callable[[str], T] = _ignore,  # type: ignore[assignment]
    ) -> T:
        """Perform a side effect unless this rank of this step of this scope already did.

        Outside a scope (or inside another effect) it simply performs.
        """
        scope = _scope.get()
        if scope is None or _performing.get() is not None:
            return await perform()
        key, known = await self._key(scope, what)
        if key in known:
            return decode(known[key])
        serial = _serial.get()
        if serial is None:
            return await self._perform(scope, key, perform, encode)
        async with serial:
            return await self._perform(scope, key, perform, encode)

    async def _perform(
        self,
        scope: _Scope,
        key: str,
        perform: Callable[[], Awaitable[T]],
        encode: Callable[[T], str],
    ) -> T:
        token = _performing.set(key)
        try:
            result = await perform()
        finally:
            _performing.reset(token)
        await self._record(scope, key, encode(result))
        return result

    async def stored(
        self,
        what: str,
        perform: Callable[[], Awaitable[T]],
        *,
        encode: Callable[[T], str] = _none,
        decode: Callable[[str], T] = _ignore,  # type: ignore[assignment]
    ) -> T:
        """Like :meth:`once`, for a write to the bot's own database: atomic with its record.

        ``perform`` runs in one transaction with the record of its effect (the sessions it
        opens join it), so a crash leaves both or neither: a replay never writes it twice.
        """
        scope = _scope.get()
        if scope is None or _performing.get() is not None:
            return await perform()
        key, known = await self._key(scope, what)
        if key in known:
            return decode(known[key])
        token = _performing.set(key)
        try:
            async with self._db.transaction() as session:
                result = await perform()
                raw = encode(result)
                session.add(
                    ledger.Effect(
                        key=key, scope=scope.key, result=raw, created_at=self._clock.now()
                    )
                )
        finally:
            _performing.reset(token)
        known[key] = raw
        return result

    async def _key(self, scope: _Scope, what: str) -> tuple[str, dict[str, str]]:
        """The key of the next effect of the current step, and what the scope already did."""
        scope.rank += 1
        key = _digest(scope.key, scope.step, str(scope.rank), what)
        if scope.known is None:
            scope.known = dict(await self._performed.get(scope.key) or {})
        return key, scope.known

    async def _record(self, scope: _Scope, key: str, result: str) -> None:
        await ledger.record_effect(self._db, scope.key, key, result, now=self._clock.now())
        if scope.known is not None:
            scope.known[key] = result


# ---------------------------------------------------------------- platform ids as JSON


def _channel_json(channel: ChannelRef) -> list[Any]:
    # Names are never kept, nor a direct channel's id (it may be made of the member's id):
    # forgetting a member must leave nothing of them in the ledger.
    return [channel.platform, "" if channel.direct else channel.id, "", channel.direct]


def _channel(raw: list[Any]) -> ChannelRef:
    return ChannelRef(str(raw[0]), str(raw[1]), name=str(raw[2]), direct=bool(raw[3]))


def _thread_json(thread: ThreadRef | None) -> list[Any] | None:
    if thread is None:
        return None
    return [_channel_json(thread.channel), thread.id, thread.name]


def _thread(raw: list[Any] | None) -> ThreadRef | None:
    if raw is None:
        return None
    return ThreadRef(_channel(raw[0]), str(raw[1]), str(raw[2]))


def _encode_message(ref: MessageRef | None) -> str:
    if ref is None:
        return "null"
    return json.dumps([_channel_json(ref.channel), ref.id, _thread_json(ref.thread)])


def _decode_message(raw: str) -> MessageRef | None:
    data = json.loads(raw)
    if data is None:
        return None
    return MessageRef(_channel(data[0]), str(data[1]), _thread(data[2]))


def _encode_thread(thread: ThreadRef) -> str:
    return json.dumps(_thread_json(thread))


def _decode_thread(raw: str) -> ThreadRef:
    thread = _thread(json.loads(raw))
    assert thread is not None
    return thread


def _decode_sent(raw: str) -> MessageRef:
    ref = _decode_message(raw)
    assert ref is not None
    return ref


class OnceOnly:
    """A platform whose side effects go through :meth:`Effects.once`.

    Everything else (its name, capabilities, roles, optional abilities such as a hosts
    channel) is the adapter's own, looked up on it.
    """

    def __init__(self, platform: Platform, effects: Effects) -> None:
        self.adapter = platform
        self._effects = effects

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.adapter, name)
        if name == "repost_as":
            return self._repost_as
        return value

    @property
    def name(self) -> str:
        """The adapter's name."""
        return self.adapter.name

    @name.setter
    def name(self, value: str) -> None:
        self.adapter.name = value

    @property
    def capabilities(self) -> Capabilities:
        """The adapter's capabilities (read on the adapter: they may change once it runs)."""
        return self.adapter.capabilities

    @capabilities.setter
    def capabilities(self, value: Capabilities) -> None:
        self.adapter.capabilities = value

    async def start(self, sink: EventSink) -> None:
        """Start the adapter."""
        await self.adapter.start(sink)

    async def stop(self) -> None:
        """Stop the adapter."""
        await self.adapter.stop()

    async def wait_closed(self) -> None:
        """Wait for the adapter to close."""
        await self.adapter.wait_closed()

    async def install_commands(self, specs: Sequence[CommandSpec]) -> None:
        """Install the commands on the adapter."""
        await self.adapter.install_commands(specs)

    async def role_of(self, user: UserRef, channel: ChannelRef) -> Role:
        """The member's role, from the adapter."""
        return await self.adapter.role_of(user, channel)

    async def send(
        self, channel: ChannelRef, content: Content, *, thread: ThreadRef | None = None
    ) -> MessageRef:
        """Post once."""
        return await self._effects.once(
            "send",
            lambda: self.adapter.send(channel, content, thread=thread),
            encode=_encode_message,
            decode=_decode_sent,
        )

    async def send_direct(self, user: UserRef, content: Content) -> MessageRef:
        """Send a direct message once."""
        return await self._effects.once(
            "send_direct",
            lambda: self.adapter.send_direct(user, content),
            encode=_encode_message,
            decode=_decode_sent,
        )

    async def reply_ephemeral(
        self, invocation_token: object, user: UserRef, content: Content
    ) -> None:
        """Reply ephemerally once."""
        await self._effects.once(
            "reply_ephemeral", lambda: self.adapter.reply_ephemeral(invocation_token, user, content)
        )

    async def edit(self, message: MessageRef, content: Content) -> None:
        """Edit once."""
        await self._effects.once("edit", lambda: self.adapter.edit(message, content))

    async def delete(self, message: MessageRef, *, reason: str = "") -> None:
        """Delete once."""
        await self._effects.once("delete", lambda: self.adapter.delete(message, reason=reason))

    async def react(self, message: MessageRef, emoji: str) -> None:
        """React once."""
        await self._effects.once("react", lambda: self.adapter.react(message, emoji))

    async def start_thread(self, message: MessageRef, name: str) -> ThreadRef:
        """Start a thread once."""
        return await self._effects.once(
            "start_thread",
            lambda: self.adapter.start_thread(message, name),
            encode=_encode_thread,
            decode=_decode_thread,
        )

    async def close_thread(self, thread: ThreadRef) -> None:
        """Close a thread once."""
        await self._effects.once("close_thread", lambda: self.adapter.close_thread(thread))

    async def mute(self, user: UserRef, channel: ChannelRef, until: datetime) -> None:
        """Mute once."""
        await self._effects.once("mute", lambda: self.adapter.mute(user, channel, until))

    async def unmute(self, user: UserRef, channel: ChannelRef) -> None:
        """Unmute once."""
        await self._effects.once("unmute", lambda: self.adapter.unmute(user, channel))

    async def _repost_as(
        self, author: UserRef, text: str, channel: ChannelRef, *, thread: ThreadRef | None = None
    ) -> MessageRef | None:
        repost: Callable[..., Awaitable[MessageRef | None]] = self.adapter.repost_as  # type: ignore[attr-defined]
        return await self._effects.once(
            "repost_as",
            lambda: repost(author, text, channel, thread=thread),
            encode=_encode_message,
            decode=_decode_message,
        )
