"""Raw Matrix room events (the JSON of ``event.source``) translated into the core's events.

Relations are read from ``content["m.relates_to"]``: ``m.thread`` gives the thread,
``m.in_reply_to`` the replied message (unless it is a thread's fallback), ``m.replace`` an edit,
``m.annotation`` a reaction. Redactions become deletions, or a reaction taken back when the
redacted event was a reaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from bot.types import (
    ChannelRef,
    Event,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    MessageRef,
    ReactionAdded,
    ReactionRemoved,
    ThreadRef,
    UserRef,
)

#: Message types members post; ``m.notice`` is what bots send and is never handled.
MEMBER_MSGTYPES: Final = frozenset(
    {"m.text", "m.emote", "m.image", "m.file", "m.audio", "m.video", "m.location"}
)


@dataclass(frozen=True, slots=True)
class Reaction:
    """What a reaction event said, kept to translate its later redaction."""

    room_id: str
    target: str
    user: str
    key: str


def event_time(source: Mapping[str, Any]) -> datetime:
    """The event's server timestamp as an aware UTC datetime."""
    return datetime.fromtimestamp(int(source.get("origin_server_ts", 0)) / 1000, tz=UTC)


def relation(source: Mapping[str, Any]) -> dict[str, Any]:
    """``content["m.relates_to"]`` (empty when absent or malformed)."""
    content = source.get("content")
    relates = content.get("m.relates_to") if isinstance(content, dict) else None
    return relates if isinstance(relates, dict) else {}


def is_own_join(source: Mapping[str, Any], user_id: str) -> bool:
    """The event is ``user_id`` joining the room (not a profile change while joined)."""
    if source.get("type") != "m.room.member" or source.get("state_key") != user_id:
        return False
    content = source.get("content") or {}
    unsigned = source.get("unsigned") or {}
    previous = unsigned.get("prev_content") or source.get("prev_content") or {}
    return bool(content.get("membership") == "join" and previous.get("membership") != "join")


def privileged_creators(create: Mapping[str, Any]) -> frozenset[str]:
    """Who created the room with unlimited power (room versions 12 and later), from its
    ``m.room.create`` event; empty for older room versions, where power levels say it all."""
    content = create.get("content") or {}
    version = str(content.get("room_version") or "1")
    if not (version.isdigit() and int(version) >= 12) and version != "org.matrix.hydra.11":
        return frozenset()
    extra = content.get("additional_creators")
    others = [u for u in extra if isinstance(u, str)] if isinstance(extra, list) else []
    sender = create.get("sender")
    return frozenset([*others, *([sender] if isinstance(sender, str) else [])])


def strip_reply_fallback(body: str) -> str:
    """Remove the ``> <@user> quoted`` block older clients prepend to replies."""
    if not body.startswith("> <"):
        return body
    lines = body.split("\n")
    index = 0
    while index < len(lines) and lines[index].startswith(">"):
        index += 1
    return "\n".join(lines[index:]).lstrip("\n")


def translate(
    source: Mapping[str, Any],
    channel: ChannelRef,
    user: Callable[[str], UserRef],
    reaction_of: Callable[[str], Reaction | None],
) -> Event | None:
    """The core event for one room event, or ``None`` when it means nothing to the bot."""
    kind = source.get("type")
    event_id = source.get("event_id")
    sender = source.get("sender")
    content = source.get("content")
    if not isinstance(event_id, str) or not isinstance(sender, str):
        return None
    if not isinstance(content, dict):
        content = {}
    at = event_time(source)
    relates = relation(source)
    rel_type = relates.get("rel_type")
    target = relates.get("event_id")
    if kind == "m.room.message":
        if content.get("msgtype") not in MEMBER_MSGTYPES:
            return None
        if rel_type == "m.replace" and isinstance(target, str):
            new = content.get("m.new_content")
            text = new.get("body") if isinstance(new, dict) else None
            if not isinstance(text, str):
                return None
            return MessageEdited(MessageRef(channel, target), user(sender), text, at)
        body = content.get("body")
        if not isinstance(body, str):
            return None
        thread = (
            ThreadRef(channel, target)
            if rel_type == "m.thread" and isinstance(target, str)
            else None
        )
        in_reply = relates.get("m.in_reply_to")
        replied = in_reply.get("event_id") if isinstance(in_reply, dict) else None
        fallback = thread is not None and bool(relates.get("is_falling_back"))
        reply_to = (
            MessageRef(channel, replied, thread)
            if isinstance(replied, str) and not fallback
            else None
        )
        if reply_to is not None:
            body = strip_reply_fallback(body)
        return MessagePosted(
            MessageRef(channel, event_id, thread), user(sender), body, at, reply_to
        )
    if kind == "m.reaction":
        key = relates.get("key")
        if rel_type != "m.annotation" or not isinstance(target, str) or not isinstance(key, str):
            return None
        return ReactionAdded(MessageRef(channel, target), user(sender), key, at)
    if kind == "m.room.redaction":
        redacts = content.get("redacts") or source.get("redacts")
        if not isinstance(redacts, str):
            return None
        reaction = reaction_of(redacts)
        if reaction is not None:
            return ReactionRemoved(
                MessageRef(channel, reaction.target), user(reaction.user), reaction.key, at
            )
        return MessageDeleted(MessageRef(channel, redacts), at)
    return None
