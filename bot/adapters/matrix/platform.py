"""The Matrix adapter (matrix-nio, unencrypted rooms only).

- **Session**: logs in with the password once and keeps the access token and device id in
  storage, so restarts reuse the device; or starts from a configured access token.
- **Sync**: a filtered sync loop; the ``next_batch`` token is stored only after every event it
  covers was handled, so a crash replays at most what was not handled (the core drops
  duplicates). A restart resumes from the stored token with the full room state, and a gap
  (a "limited" timeline) is filled from ``/messages``. History from before the bot joined a
  room is never handled, and the very first sync only records where "now" is.
- **Invites** are accepted only from ``allowed_inviters`` (user ids or ``:server`` suffixes).
- **Output** is ``m.notice`` with a plain ``body`` and a sanitised HTML ``formatted_body``,
  ``m.mentions`` empty so nobody is pinged; attachments are uploaded as ``m.image``/``m.file``.
- **Resilience**: 429s are retried after the server's ``retry_after_ms`` (with a growing floor)
  a bounded number of times, then :class:`RateLimited` is raised; connection errors likewise;
  the sync loop reconnects with exponential backoff. Every nio error response becomes a
  :class:`~bot.platform.PlatformError` here, at the edge.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import aiohttp
from nio import (
    AsyncClient,
    AsyncClientConfig,
    ErrorResponse,
    LoginResponse,
    MessageDirection,
    RoomCreateResponse,
    RoomGetStateEventResponse,
    RoomMessagesResponse,
    RoomPreset,
    RoomSendResponse,
    SyncResponse,
    UploadResponse,
    WhoamiResponse,
)

from bot.adapters.matrix.events import (
    Reaction,
    is_own_join,
    privileged_creators,
    relation,
    translate,
)
from bot.adapters.matrix.render import to_html, to_plain
from bot.clock import Clock
from bot.logs import register_secret
from bot.platform import MATRIX_LIKE, Capabilities, EventSink, NotSupported, PlatformError
from bot.types import (
    Attachment,
    ChannelRef,
    Content,
    Event,
    MessageRef,
    Role,
    ThreadRef,
    UserRef,
)
from storage import state

if TYPE_CHECKING:
    from bot.commands import CommandSpec
    from bot.config import MatrixSettings
    from storage.database import Database

log = logging.getLogger(__name__)

_SESSION: Final = "session"
_NEXT_BATCH: Final = "next_batch"
_DM: Final = "dm:"
_MUTE: Final = "mute:"
_REACTION: Final = "reaction:"
_REMEMBERED: Final = 10_000


class RateLimited(PlatformError):
    """The homeserver kept answering 429 after every allowed retry."""


class MatrixPlatform:
    """A Matrix account driven through matrix-nio."""

    def __init__(
        self,
        settings: MatrixSettings,
        db: Database,
        clock: Clock,
        *,
        name: str = "matrix",
        device_name: str = "Cercle",
        timeline_limit: int = 50,
        sync_timeout_ms: int = 30_000,
        max_retries: int = 5,
        retry_floor: float = 0.5,
        retry_cap: float = 30.0,
        reconnect_cap: float = 60.0,
    ) -> None:
        if not settings.homeserver or not settings.user_id:
            raise PlatformError("matrix.homeserver and matrix.user_id are required")
        self.name = name
        self.capabilities: Capabilities = replace(
            MATRIX_LIKE, command_prefix=settings.command_prefix
        )
        self.settings = settings
        self.db = db
        self.clock = clock
        self.user_id: str = settings.user_id
        self.device_name = device_name
        self.timeline_limit = timeline_limit
        self.sync_timeout_ms = sync_timeout_ms
        self.max_retries = max_retries
        self.retry_floor = retry_floor
        self.retry_cap = retry_cap
        self.reconnect_cap = reconnect_cap
        #: How often the homeserver answered 429 (for logs and tests).
        self.rate_limited = 0
        #: Whether this run had to log in with the password (False: a stored session was reused).
        self.logged_in_with_password = False
        self.device_id: str | None = None
        self._client: AsyncClient | None = None
        self._sink: EventSink | None = None
        self._filter_id: str | None = None
        self._next_batch: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = asyncio.Event()
        self._stopping = asyncio.Event()
        self._failure: BaseException | None = None
        self._direct: dict[str, str] = {}  # user id -> direct room id
        self._direct_rooms: set[str] = set()
        self._direct_locks: dict[str, asyncio.Lock] = {}
        self._creators: dict[str, frozenset[str]] = {}  # room id -> creators with infinite power
        self._reactions: OrderedDict[str, Reaction] = OrderedDict()
        self._thread_tail: OrderedDict[str, str] = OrderedDict()
        self._handled: OrderedDict[str, None] = OrderedDict()
        self._handled_changed = asyncio.Condition()

    # ------------------------------------------------------------ lifecycle

    @property
    def client(self) -> AsyncClient:
        """The nio client (once started)."""
        if self._client is None:
            raise PlatformError(f"{self.name} is not started")
        return self._client

    async def start(self, sink: EventSink) -> None:
        """Log in, catch up from the stored sync token, then keep syncing in the background."""
        self._sink = sink
        self._closed.clear()
        self._stopping.clear()
        self._failure = None
        self._client = AsyncClient(
            self.settings.homeserver or "",
            self.user_id,
            config=AsyncClientConfig(
                encryption_enabled=False,
                store_sync_tokens=False,
                # nio retries 429s forever by default: return them to us at once instead, we
                # decide (bounded retries with backoff).
                max_limit_exceeded=0,
                max_timeouts=0,
                request_timeout=60,
            ),
        )
        try:
            await self._open_session()
            for key, room_id in (await state.states_with_prefix(self.db, self.name, _DM)).items():
                if room_id:
                    self._direct[key.removeprefix(_DM)] = room_id
                    self._direct_rooms.add(room_id)
            self._filter_id = await self._upload_filter()
            self._next_batch = await state.get_state(self.db, self.name, _NEXT_BATCH)
            # Catch up now (full state: rooms, members, power levels), before serving.
            await self._sync_once(timeout_ms=0, full_state=True)
        except BaseException:
            await self._client.close()
            self._client = None
            raise
        self._task = asyncio.create_task(self._loop(), name=f"{self.name}-sync")

    async def stop(self) -> None:
        """Stop syncing and close the connection (the session stays valid for a restart)."""
        self._stopping.set()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._client is not None:
            await self._client.close()
            self._client = None
        self._closed.set()

    async def wait_closed(self) -> None:
        """Return when the adapter stopped; raise what stopped it if it failed."""
        await self._closed.wait()
        if self._failure is not None:
            raise self._failure

    async def install_commands(self, specs: Sequence[CommandSpec]) -> None:
        """Nothing to install: commands are text parsed by the core."""

    # ------------------------------------------------------------ session

    async def _open_session(self) -> None:
        await self._open_session_once()
        # A token learnt at login or from storage is masked in every log line from now on.
        register_secret(self.client.access_token)

    async def _open_session_once(self) -> None:
        client = self.client
        token = self.settings.access_token
        stored = await self._stored_session()
        if token is not None:
            client.restore_login(self.user_id, "", token.get_secret_value())
            who = await self._call("whoami", client.whoami)
            assert isinstance(who, WhoamiResponse)
            client.device_id = self.device_id = who.device_id
            return
        if stored is not None:
            client.restore_login(self.user_id, stored["device_id"], stored["access_token"])
            try:
                await self._call("whoami", client.whoami)
            except PlatformError as error:
                log.warning("stored Matrix session refused (%s); logging in again", error)
            else:
                self.device_id = stored["device_id"]
                return
            client.access_token = ""
        password = self.settings.password
        if password is None:
            raise PlatformError("no Matrix access token and no password to log in with")
        # Reuse the device of an earlier login when known, so the account keeps one device.
        client.device_id = stored["device_id"] if stored else None
        response = await self._call(
            "login", client.login, password.get_secret_value(), device_name=self.device_name
        )
        assert isinstance(response, LoginResponse)
        self.device_id = response.device_id
        self.logged_in_with_password = True
        session = {
            "user_id": self.user_id,
            "device_id": response.device_id,
            "access_token": response.access_token,
        }
        await self._set(_SESSION, json.dumps(session))

    async def _stored_session(self) -> dict[str, str] | None:
        raw = await state.get_state(self.db, self.name, _SESSION)
        if not raw:
            return None
        try:
            session = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(session, dict) or session.get("user_id") != self.user_id:
            return None
        if not all(isinstance(session.get(k), str) for k in ("device_id", "access_token")):
            return None
        return {k: str(v) for k, v in session.items()}

    async def _upload_filter(self) -> str:
        nothing = {"not_types": ["*"]}
        sync_filter = {
            "presence": nothing,
            "account_data": nothing,
            "room": {
                "timeline": {"limit": self.timeline_limit},
                "ephemeral": nothing,
                "account_data": nothing,
            },
        }
        response = await self._call("upload filter", self.client.upload_filter, **sync_filter)
        filter_id: str = response.filter_id
        return filter_id

    # ------------------------------------------------------------ sync

    async def _loop(self) -> None:
        delay = 1.0
        try:
            while not self._stopping.is_set():
                try:
                    await self._sync_once(timeout_ms=self.sync_timeout_ms)
                    delay = 1.0
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    log.warning("Matrix sync failed (%s); retrying in %.0f s", error, delay)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), delay)
                    delay = min(delay * 2, self.reconnect_cap)
        finally:
            self._closed.set()

    async def _sync_once(self, *, timeout_ms: int, full_state: bool = False) -> None:
        since = self._next_batch
        response = await self._call(
            "sync",
            self.client.sync,
            timeout=timeout_ms,
            sync_filter=self._filter_id,
            since=since,
            full_state=full_state or None,
        )
        assert isinstance(response, SyncResponse)
        for room_id, invite in response.rooms.invite.items():
            await self._on_invite(room_id, [e.source for e in invite.invite_state])
        if since is None:
            # First start ever: whatever is already in the rooms is history, never handled.
            log.info(
                "first Matrix sync: %d rooms; history is not handled", len(response.rooms.join)
            )
        for room_id, info in response.rooms.join.items():
            for source in (
                *(e.source for e in info.state),
                *(e.source for e in info.timeline.events),
            ):
                if source.get("type") == "m.room.create":
                    self._creators[room_id] = privileged_creators(source)
        if since is not None:
            for room_id, info in response.rooms.join.items():
                events = [e.source for e in info.timeline.events]
                if info.timeline.limited and info.timeline.prev_batch:
                    events = await self._backfill(room_id, info.timeline.prev_batch, since) + events
                await self._handle_room(room_id, events)
        # Only now is everything this token covers handled: store it.
        self._next_batch = response.next_batch
        await self._set(_NEXT_BATCH, response.next_batch)

    async def _backfill(self, room_id: str, start: str, since: str) -> list[dict[str, Any]]:
        """Events between ``since`` and a limited timeline's start (oldest first)."""
        found: list[dict[str, Any]] = []
        token: str | None = start
        for _page in range(100):  # bounded: 100 pages of the filter's size
            response = await self._call(
                "backfill",
                self.client.room_messages,
                room_id,
                start=token,
                end=since,
                direction=MessageDirection.back,
                limit=max(self.timeline_limit, 50),
            )
            assert isinstance(response, RoomMessagesResponse)
            found.extend(e.source for e in response.chunk)
            if not response.chunk or not response.end or response.end == token:
                break
            token = response.end
        else:
            log.warning("room %s: gap larger than the backfill bound; some events skipped", room_id)
        found.reverse()
        if found:
            log.info("room %s: filled a sync gap with %d events", room_id, len(found))
        return found

    async def _handle_room(self, room_id: str, events: list[dict[str, Any]]) -> None:
        # Never handle what happened before the bot joined: cut at its (latest) own join.
        for index in range(len(events) - 1, -1, -1):
            if is_own_join(events[index], self.user_id):
                events = events[index + 1 :]
                break
        for source in events:
            await self._handle_event(room_id, source)

    async def _handle_event(self, room_id: str, source: dict[str, Any]) -> None:
        event_id = source.get("event_id")
        relates = relation(source)
        if relates.get("rel_type") == "m.thread" and isinstance(event_id, str):
            self._remember(self._thread_tail, str(relates.get("event_id")), event_id)
        if source.get("sender") == self.user_id:
            return  # the bot's own output (and its own redactions) are already known
        if source.get("type") == "m.reaction" and isinstance(event_id, str):
            key, target = relates.get("key"), relates.get("event_id")
            if isinstance(key, str) and isinstance(target, str):
                reaction = Reaction(room_id, target, str(source.get("sender")), key)
                self._remember(self._reactions, event_id, reaction)
                await self._set(
                    _REACTION + event_id, json.dumps([room_id, target, reaction.user, key])
                )
        redacted = (source.get("content") or {}).get("redacts") or source.get("redacts")
        stored_reaction = None
        if source.get("type") == "m.room.redaction" and isinstance(redacted, str):
            stored_reaction = self._reactions.get(redacted) or await self._stored_reaction(redacted)
        event = translate(
            source,
            self._channel(room_id),
            lambda uid: self._user(room_id, uid),
            lambda _id: stored_reaction,
        )
        if event is not None:
            await self._deliver(event)
        if isinstance(event_id, str):
            self._remember(self._handled, event_id, None)
            async with self._handled_changed:
                self._handled_changed.notify_all()

    async def _stored_reaction(self, event_id: str) -> Reaction | None:
        raw = await state.get_state(self.db, self.name, _REACTION + event_id)
        if not raw:
            return None
        room_id, target, user, key = json.loads(raw)
        return Reaction(room_id, target, user, key)

    async def _deliver(self, event: Event) -> None:
        if self._sink is not None:
            await self._sink(event)

    async def wait_handled(self, event_ids: Iterable[str], within: float = 30.0) -> None:
        """Wait until every event in ``event_ids`` went through the sink (for tests and tools)."""
        wanted = set(event_ids)

        async def all_seen() -> None:
            async with self._handled_changed:
                await self._handled_changed.wait_for(lambda: wanted <= self._handled.keys())

        await asyncio.wait_for(all_seen(), within)

    async def _on_invite(self, room_id: str, invite_state: list[dict[str, Any]]) -> None:
        own = next(
            (
                e
                for e in invite_state
                if e.get("type") == "m.room.member" and e.get("state_key") == self.user_id
            ),
            None,
        )
        inviter = str((own or {}).get("sender", ""))
        direct = bool(((own or {}).get("content") or {}).get("is_direct"))
        if not self._allowed_inviter(inviter):
            log.info("declining the invite to %s from %s (not allowed)", room_id, inviter or "?")
            try:
                await self._call("decline invite", self.client.room_leave, room_id)
            except PlatformError as error:
                log.warning("could not decline the invite to %s: %s", room_id, error)
            return
        log.info("joining %s, invited by %s", room_id, inviter)
        await self._call("join", self.client.join, room_id)
        if direct and inviter not in self._direct:
            await self._remember_direct(inviter, room_id)

    def _allowed_inviter(self, user_id: str) -> bool:
        for entry in self.settings.allowed_inviters:
            if user_id == entry or (entry.startswith(":") and user_id.endswith(entry)):
                return True
        return False

    # ------------------------------------------------------------ translation helpers

    def _channel(self, room_id: str) -> ChannelRef:
        room = self.client.rooms.get(room_id) if self._client is not None else None
        name = room.display_name if room is not None else ""
        return ChannelRef(self.name, room_id, name=name, direct=room_id in self._direct_rooms)

    def _user(self, room_id: str, user_id: str) -> UserRef:
        room = self.client.rooms.get(room_id) if self._client is not None else None
        shown = room.user_name(user_id) if room is not None else None
        return UserRef(self.name, user_id, shown or "")

    @staticmethod
    def _remember(store: OrderedDict[str, Any], key: str, value: Any) -> None:
        store[key] = value
        store.move_to_end(key)
        if len(store) > _REMEMBERED:
            store.popitem(last=False)

    # ------------------------------------------------------------ requests

    async def _call(
        self, what: str, func: Callable[..., Awaitable[Any]], *args: Any, **kw: Any
    ) -> Any:
        """Run one nio request: retry 429s and connection errors a bounded number of times."""
        attempt = 0
        while True:
            try:
                response = await func(*args, **kw)
            except (aiohttp.ClientError, TimeoutError) as error:
                if attempt >= self.max_retries or self._stopping.is_set():
                    raise PlatformError(
                        f"Matrix {what}: {error or type(error).__name__}"
                    ) from error
                delay = self._backoff(attempt)
                log.warning("Matrix %s: %s; retry %d in %.1f s", what, error, attempt + 1, delay)
            else:
                if isinstance(response, tuple):  # upload() answers (response, keys)
                    response = response[0]
                if not isinstance(response, ErrorResponse):
                    return response
                if response.status_code not in ("M_LIMIT_EXCEEDED", 429, "429"):
                    raise PlatformError(f"Matrix {what}: {response}")
                self.rate_limited += 1
                if attempt >= self.max_retries:
                    raise RateLimited(f"Matrix {what}: still rate limited after {attempt} retries")
                server = (response.retry_after_ms or 0) / 1000
                delay = min(max(server, self._backoff(attempt)), self.retry_cap)
                log.warning("Matrix %s rate limited; retry %d in %.1f s", what, attempt + 1, delay)
            attempt += 1
            await asyncio.sleep(delay)

    def _backoff(self, attempt: int) -> float:
        return float(min(self.retry_floor * 2**attempt, self.retry_cap))

    async def _set(self, key: str, value: str) -> None:
        await state.set_state(self.db, self.name, key, value, now=self.clock.now())

    # ------------------------------------------------------------ sending

    async def _send_event(self, room_id: str, kind: str, content: dict[str, Any]) -> str:
        txn = uuid.uuid4().hex  # one transaction id for every retry: the server dedupes
        response = await self._call(
            f"send {kind}", self.client.room_send, room_id, kind, content, tx_id=txn
        )
        assert isinstance(response, RoomSendResponse)
        event_id: str = response.event_id
        return event_id

    def _text_content(self, text: str, thread: ThreadRef | None) -> dict[str, Any]:
        content: dict[str, Any] = {
            "msgtype": "m.notice",
            "body": to_plain(text),
            "format": "org.matrix.custom.html",
            "formatted_body": to_html(text),
            "m.mentions": {},
        }
        return self._in_thread(content, thread)

    def _in_thread(self, content: dict[str, Any], thread: ThreadRef | None) -> dict[str, Any]:
        if thread is not None:
            content["m.relates_to"] = {
                "rel_type": "m.thread",
                "event_id": thread.id,
                "is_falling_back": True,
                "m.in_reply_to": {"event_id": self._thread_tail.get(thread.id, thread.id)},
            }
        return content

    async def send(
        self, channel: ChannelRef, content: Content, *, thread: ThreadRef | None = None
    ) -> MessageRef:
        """Post ``content`` as an ``m.notice`` (then its attachments) in a room or thread."""
        if len(content.text) > self.capabilities.max_message_length:
            raise PlatformError(
                f"message of {len(content.text)} characters over the platform limit"
            )
        first: str | None = None
        if content.text:
            first = await self._send_event(
                channel.id, "m.room.message", self._text_content(content.text, thread)
            )
            if thread is not None:
                self._remember(self._thread_tail, thread.id, first)
        for attachment in content.attachments:
            event_id = await self._send_attachment(channel.id, attachment, thread)
            first = first or event_id
        if first is None:
            raise PlatformError("nothing to send: no text and no attachment")
        return MessageRef(channel, first, thread)

    async def _send_attachment(
        self, room_id: str, attachment: Attachment, thread: ThreadRef | None
    ) -> str:
        data = attachment.data
        uploaded = await self._call(
            f"upload {attachment.filename}",
            self.client.upload,
            io.BytesIO(data),
            content_type=attachment.content_type,
            filename=attachment.filename,
            filesize=len(data),
        )
        assert isinstance(uploaded, UploadResponse)
        image = attachment.content_type.startswith("image/")
        info: dict[str, Any] = {"mimetype": attachment.content_type, "size": len(data)}
        size = _png_size(data) if image else None
        if size is not None:
            info["w"], info["h"] = size
        content: dict[str, Any] = {
            "msgtype": "m.image" if image else "m.file",
            "body": attachment.description or attachment.filename,
            "filename": attachment.filename,
            "url": uploaded.content_uri,
            "info": info,
            "m.mentions": {},
        }
        event_id = await self._send_event(
            room_id, "m.room.message", self._in_thread(content, thread)
        )
        if thread is not None:
            self._remember(self._thread_tail, thread.id, event_id)
        return event_id

    async def send_direct(self, user: UserRef, content: Content) -> MessageRef:
        """Send in the direct room with ``user`` (created once, then reused)."""
        room_id = await self._direct_room(user.id)
        channel = ChannelRef(self.name, room_id, name=user.label, direct=True)
        return await self.send(channel, content)

    async def _direct_room(self, user_id: str) -> str:
        lock = self._direct_locks.setdefault(user_id, asyncio.Lock())
        async with lock:
            room_id = self._direct.get(user_id)
            if room_id is not None and self._still_direct(room_id, user_id):
                return room_id
            response = await self._call(
                "create direct room",
                self.client.room_create,
                is_direct=True,
                preset=RoomPreset.private_chat,
                invite=[user_id],
            )
            assert isinstance(response, RoomCreateResponse)
            await self._remember_direct(user_id, response.room_id)
            return str(response.room_id)

    def _still_direct(self, room_id: str, user_id: str) -> bool:
        room = self.client.rooms.get(room_id)
        if room is None:
            return True  # not synced yet (just created): trust storage
        return user_id in room.users or user_id in room.invited_users

    async def _remember_direct(self, user_id: str, room_id: str) -> None:
        self._direct[user_id] = room_id
        self._direct_rooms.add(room_id)
        await self._set(_DM + user_id, room_id)

    async def reply_ephemeral(
        self, invocation_token: object, user: UserRef, content: Content
    ) -> None:
        """Matrix has no ephemeral replies (the core sends a direct message instead)."""
        raise NotSupported("ephemeral replies")

    async def edit(self, message: MessageRef, content: Content) -> None:
        """Replace a bot message (``m.replace``)."""
        new = self._text_content(content.text, None)
        body = dict(new)
        body["body"] = "* " + new["body"]
        body["formatted_body"] = "* " + new["formatted_body"]
        body["m.new_content"] = new
        body["m.relates_to"] = {"rel_type": "m.replace", "event_id": message.id}
        await self._send_event(message.channel.id, "m.room.message", body)

    async def delete(self, message: MessageRef, *, reason: str = "") -> None:
        """Redact a message, with the reason shown to the room."""
        await self._call(
            "redact",
            self.client.room_redact,
            message.channel.id,
            message.id,
            reason=reason or None,
            tx_id=uuid.uuid4().hex,
        )

    async def react(self, message: MessageRef, emoji: str) -> None:
        """Annotate a message with ``emoji``."""
        relates = {"rel_type": "m.annotation", "event_id": message.id, "key": emoji}
        await self._send_event(message.channel.id, "m.reaction", {"m.relates_to": relates})

    async def start_thread(self, message: MessageRef, name: str) -> ThreadRef:
        """A Matrix thread is rooted at a message: the root's event id is the thread id."""
        return ThreadRef(message.channel, message.id, name)

    async def close_thread(self, thread: ThreadRef) -> None:
        """Matrix cannot lock a thread; the rounds cog already says it is closed."""

    # ------------------------------------------------------------ moderation

    async def _power_levels(self, room_id: str) -> dict[str, Any]:
        response = await self._call(
            "read power levels",
            self.client.room_get_state_event,
            room_id,
            "m.room.power_levels",
        )
        assert isinstance(response, RoomGetStateEventResponse)
        return dict(response.content)

    async def mute(self, user: UserRef, channel: ChannelRef, until: datetime) -> None:
        """Lower the member's power level below ``events_default`` (remembering the old one)."""
        levels = await self._power_levels(channel.id)
        users = dict(levels.get("users") or {})
        key = f"{_MUTE}{channel.id}:{user.id}"
        if not await state.get_state(self.db, self.name, key):
            await self._set(key, json.dumps({"level": users.get(user.id)}))
        users[user.id] = int(levels.get("events_default", 0)) - 1
        await self._call(
            "mute",
            self.client.room_put_state,
            channel.id,
            "m.room.power_levels",
            {**levels, "users": users},
        )

    async def unmute(self, user: UserRef, channel: ChannelRef) -> None:
        """Give the member back the power level they had before the mute."""
        key = f"{_MUTE}{channel.id}:{user.id}"
        raw = await state.get_state(self.db, self.name, key)
        if not raw:
            return
        previous = json.loads(raw).get("level")
        levels = await self._power_levels(channel.id)
        users = dict(levels.get("users") or {})
        if previous is None:
            users.pop(user.id, None)
        else:
            users[user.id] = previous
        await self._call(
            "unmute",
            self.client.room_put_state,
            channel.id,
            "m.room.power_levels",
            {**levels, "users": users},
        )
        await self._set(key, "")

    async def role_of(self, user: UserRef, channel: ChannelRef) -> Role:
        """Host when the member's power level in the room reaches ``host_power_level``."""
        if channel.direct:
            return Role.MEMBER
        if user.id in self._creators.get(channel.id, ()):
            return Role.HOST  # room versions 12+: creators outrank every power level
        room = self.client.rooms.get(channel.id)
        if room is not None:
            level = room.power_levels.get_user_level(user.id)
        else:
            levels = await self._power_levels(channel.id)
            level = int((levels.get("users") or {}).get(user.id, levels.get("users_default", 0)))
        return Role.HOST if level >= self.settings.host_power_level else Role.MEMBER


def _png_size(data: bytes) -> tuple[int, int] | None:
    if data[:8] != b"\x89PNG\r\n\x1a\n" or len(data) < 24:
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
