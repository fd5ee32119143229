"""Sending: ``m.notice`` messages, attachments, direct rooms, edits, redactions, reactions.

Output has a plain ``body`` and a sanitised HTML ``formatted_body``, with ``m.mentions`` empty so
nobody is pinged; attachments are uploaded as ``m.image``/``m.file``.

Every event is sent under a transaction id that Synapse dedupes per device (for a day, in its
database, so across a restart of either side): inside a side effect of the ledger
(:func:`bot.effects.idempotency_key`) it is derived from the effect's key, so the same effect
sent again after a crash gives the event already sent instead of a second one. The session keeps
one device across restarts (:mod:`~bot.adapters.matrix.session`), which that dedupe needs.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import uuid
from typing import Any

from nio import RoomCreateResponse, RoomPreset, RoomSendResponse, UploadResponse

from bot.adapters.matrix.base import DM, MatrixBase
from bot.adapters.matrix.render import to_html, to_plain
from bot.effects import idempotency_key
from bot.platform import NotSupported, PlatformError
from bot.types import Attachment, ChannelRef, Content, MessageRef, Ping, ThreadRef, UserRef


class Sending(MatrixBase):
    """Everything the bot posts."""

    async def _send_event(
        self, room_id: str, kind: str, content: dict[str, Any], *, part: str = ""
    ) -> str:
        """Send one event; ``part`` tells apart the events of one effect (text, attachments)."""
        # One transaction id for every retry, and for a replay of the same effect: the server
        # dedupes.
        txn = transaction_id(part)
        response = await self._call(
            f"send {kind}", self.client.room_send, room_id, kind, content, tx_id=txn
        )
        assert isinstance(response, RoomSendResponse)
        event_id: str = response.event_id
        return event_id

    def _text_content(
        self, text: str, thread: ThreadRef | None, ping: Ping | None = None
    ) -> dict[str, Any]:
        content: dict[str, Any] = {
            "msgtype": "m.notice",
            "body": to_plain(text),
            "format": "org.matrix.custom.html",
            "formatted_body": to_html(text),
            "m.mentions": {},
        }
        if ping is not None and ping.role is None:
            # The hosts' opt-in @room, and it alone: the text's own mentions stay defused.
            content["body"] = "@room " + content["body"]
            content["formatted_body"] = "@room " + content["formatted_body"]
            content["m.mentions"] = {"room": True}
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
                channel.id, "m.room.message", self._text_content(content.text, thread, content.ping)
            )
            if thread is not None:
                self._remember(self._thread_tail, thread.id, first)
        for index, attachment in enumerate(content.attachments):
            event_id = await self._send_attachment(channel.id, attachment, thread, index)
            first = first or event_id
        if first is None:
            raise PlatformError("nothing to send: no text and no attachment")
        return MessageRef(channel, first, thread)

    async def _send_attachment(
        self, room_id: str, attachment: Attachment, thread: ThreadRef | None, index: int
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
            room_id, "m.room.message", self._in_thread(content, thread), part=f"file{index}"
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
            if room_id is not None and await self._still_direct(room_id, user_id):
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

    async def _still_direct(self, room_id: str, user_id: str) -> bool:
        room = await self._room_state(room_id)
        if room is None:
            return True  # not synced yet (just created): trust storage
        return user_id in room.users or user_id in room.invited_users

    async def _remember_direct(self, user_id: str, room_id: str) -> None:
        self._direct[user_id] = room_id
        self._direct_rooms.add(room_id)
        await self._set(DM + user_id, room_id)

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
            tx_id=transaction_id("redact"),
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


def transaction_id(part: str = "") -> str:
    """The transaction id of an event: from the current side effect's key, else random.

    ``part`` tells apart the events one effect sends (a message and its attachments). Hex
    digits after a fixed prefix: URL-safe, and 128 bits of the key keep effects apart.
    """
    key = idempotency_key()
    if key is None:
        return uuid.uuid4().hex
    return "cercle-" + hashlib.sha256(f"{key}\x1f{part}".encode()).hexdigest()[:32]


def _png_size(data: bytes) -> tuple[int, int] | None:
    if data[:8] != b"\x89PNG\r\n\x1a\n" or len(data) < 24:
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
