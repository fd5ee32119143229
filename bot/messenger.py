"""How the core and the cogs speak: split to the platform's limit, escape, never mass-mention.

Every outgoing message goes through :class:`Messenger`. It splits long content at paragraph,
then line, then sentence, then word boundaries; neutralises ``@everyone``/``@here``/``@room``
and role or user mention syntax wherever it appears (adapters also deny mentions at the API
level: two locks are better than one); and falls back from an ephemeral reply to a direct
message where the platform has no ephemeral replies.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Final

from bot.platform import Platform
from bot.types import Card, ChannelRef, Content, MessageRef, ThreadRef, UserRef

_ZWSP: Final = "\u200b"
_MASS_MENTION_RE: Final = re.compile(r"@(everyone|here|room|channel)\b", re.IGNORECASE)
# Discord mention syntax: <@123>, <@!123> (users), <@&123> (roles), <#123> (channels).
_ID_MENTION_RE: Final = re.compile(r"<(@[!&]?|#)(\d+)>")
_ROLE_MENTION_RE: Final = re.compile(r"<(@&)(\d+)>")
_MARKDOWN_SPECIAL_RE: Final = re.compile(r"([\\`*_~|>#\[\]()<])")
_SENTENCE_END_RE: Final = re.compile(r"(?<=[.!?…])\s+")
#: Characters kept free in a message that carries the hosts' mention, for what the adapter
#: writes before its text (``<@&`` and up to 20 digits of a Discord role, or ``@room``).
_PING_ROOM: Final = 32


def escape(text: str) -> str:
    """Make member text safe to echo inside bot Markdown: no formatting, no mentions at all."""
    text = _ID_MENTION_RE.sub(lambda m: "<" + m.group(1) + _ZWSP + m.group(2) + ">", text)
    return defuse_mentions(_MARKDOWN_SPECIAL_RE.sub(r"\\\1", text))


def defuse_mentions(text: str) -> str:
    """Break mass mentions (everyone, here, room, roles) so no platform turns them into pings."""
    text = _MASS_MENTION_RE.sub(lambda m: "@" + _ZWSP + m.group(1), text)
    return _ROLE_MENTION_RE.sub(lambda m: "<" + m.group(1) + _ZWSP + m.group(2) + ">", text)


def quote(text: str) -> str:
    """Member text as an escaped Markdown block quote."""
    return "\n".join("> " + line for line in escape(text).splitlines() or [""])


def split_text(text: str, limit: int) -> list[str]:
    """Split ``text`` into chunks of at most ``limit`` characters, at the gentlest boundary.

    Paragraphs are kept whole when they fit, then lines, then sentences, then words; only a
    single word longer than ``limit`` is cut.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    if len(text) <= limit:
        return [text] if text else []
    chunks: list[str] = []
    for piece in _pieces(text, limit, 0):
        if chunks and len(chunks[-1]) + len(piece.sep) + len(piece.text) <= limit:
            chunks[-1] += piece.sep + piece.text
        else:
            chunks.append(piece.text)
    return [c for c in (chunk.strip("\n") for chunk in chunks) if c.strip()]


class _Piece:
    __slots__ = ("sep", "text")

    def __init__(self, text: str, sep: str) -> None:
        self.text = text
        self.sep = sep


_WORD_GAP_RE: Final = re.compile(r"[ \t\r\f\v]+")
_SEPARATORS: Final = ("\n\n", "\n", _SENTENCE_END_RE, _WORD_GAP_RE)


def _pieces(text: str, limit: int, level: int) -> list[_Piece]:
    """Break ``text`` into pieces no longer than ``limit``, remembering what joined them."""
    if len(text) <= limit:
        return [_Piece(text, "")]
    if level >= len(_SEPARATORS):
        return [_Piece(text[i : i + limit], "") for i in range(0, len(text), limit)]
    separator = _SEPARATORS[level]
    if isinstance(separator, str):
        parts = text.split(separator)
        sep = separator
    else:
        parts = separator.split(text)
        sep = " "
    out: list[_Piece] = []
    for index, part in enumerate(parts):
        sub = _pieces(part, limit, level + 1)
        if index and sub:
            sub[0] = _Piece(sub[0].text, sep)
        out.extend(sub)
    return out


def card_as_text(card: Card) -> str:
    """Flatten a card into Markdown for platforms without embeds."""
    lines = [f"**{card.title}**", card.body]
    lines.extend(f"**{name}**\n{value}" for name, value in card.fields)
    if card.footer:
        lines.append(f"_{card.footer}_")
    return "\n\n".join(line for line in lines if line)


class Messenger:
    """Sends content through one platform within its limits."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def prepare(self, content: Content) -> list[Content]:
        """The messages that will carry ``content``, each within the platform's limits.

        Attachments, the card and the actions ride on the last message, after all the text.
        """
        caps = self.platform.capabilities
        text = content.text
        card = content.card
        if card is not None and not caps.cards:
            text = "\n\n".join(part for part in (text, card_as_text(card)) if part)
            card = None
        limit = caps.max_message_length - (_PING_ROOM if content.ping is not None else 0)
        chunks = split_text(defuse_mentions(text), limit)
        if not chunks:
            return [replace(content, text="", card=card)]
        messages = [Content(text=chunk) for chunk in chunks]
        # The hosts' one mention rides on the first message: it is what members see first.
        messages[0] = replace(messages[0], ping=content.ping)
        messages[-1] = replace(
            messages[-1], card=card, attachments=content.attachments, actions=content.actions
        )
        return messages

    async def send(
        self, channel: ChannelRef, content: Content | str, *, thread: ThreadRef | None = None
    ) -> list[MessageRef]:
        """Post in a channel or thread; returns every message posted, in order."""
        refs = []
        for part in self.prepare(_content(content)):
            refs.append(await self.platform.send(channel, part, thread=thread))
        return refs

    async def send_direct(self, user: UserRef, content: Content | str) -> list[MessageRef]:
        """Send privately to one member."""
        refs = []
        for part in self.prepare(_content(content)):
            refs.append(await self.platform.send_direct(user, part))
        return refs

    async def reply_private(
        self, user: UserRef, content: Content | str, *, token: object = None
    ) -> None:
        """Answer only ``user``: ephemerally where possible, else by direct message."""
        if self.platform.capabilities.ephemeral_replies and token is not None:
            for part in self.prepare(_content(content)):
                await self.platform.reply_ephemeral(token, user, part)
        else:
            await self.send_direct(user, content)


def _content(content: Content | str) -> Content:
    return Content(text=content) if isinstance(content, str) else content
