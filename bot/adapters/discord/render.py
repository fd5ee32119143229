"""Rendering: the core's content as what discord.py's ``send``/``edit`` take.

Texts are clipped to Discord's limits; a card becomes an embed whose fields are dropped
last-first when the whole would be too long.
"""

from __future__ import annotations

import io
from typing import Any, Final

import discord

from bot.adapters.discord.permissions import NO_MENTIONS
from bot.types import Card, Content

_EMBED_TITLE: Final = 256
_EMBED_DESCRIPTION: Final = 4096
_EMBED_FIELDS: Final = 25
_EMBED_FIELD_NAME: Final = 256
_EMBED_FIELD_VALUE: Final = 1024
_EMBED_FOOTER: Final = 2048
_EMBED_TOTAL: Final = 6000
_MAX_FILES: Final = 10


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def embed_for(card: Card) -> discord.Embed:
    """A card as an embed within Discord's limits (fields dropped last-first if needed)."""
    embed = discord.Embed(
        title=_clip(card.title, _EMBED_TITLE) or None,
        description=_clip(card.body, _EMBED_DESCRIPTION) or None,
    )
    for name, value in card.fields[:_EMBED_FIELDS]:
        embed.add_field(
            name=_clip(name, _EMBED_FIELD_NAME) or "\u200b",
            value=_clip(value, _EMBED_FIELD_VALUE) or "\u200b",
            inline=False,
        )
    if card.footer:
        embed.set_footer(text=_clip(card.footer, _EMBED_FOOTER))
    while len(embed) > _EMBED_TOTAL and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
    if len(embed) > _EMBED_TOTAL and embed.description:
        embed.description = _clip(embed.description, len(embed.description) - len(embed) + 6000)
    return embed


def message_kwargs(content: Content) -> dict[str, Any]:
    """What ``send``/``edit`` take for ``content``: text, an embed, files, no mentions."""
    kwargs: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
    if content.text:
        kwargs["content"] = content.text
    files = [
        discord.File(io.BytesIO(a.data), filename=a.filename, description=a.description or None)
        for a in content.attachments[:_MAX_FILES]
    ]
    if content.card is not None:
        embed = embed_for(content.card)
        image = next((a for a in content.attachments if a.content_type.startswith("image/")), None)
        if image is not None:
            embed.set_image(url=f"attachment://{image.filename}")
        kwargs["embeds"] = [embed]
    if files:
        kwargs["files"] = files
    return kwargs
