"""Rendering: the core's content as what discord.py's ``send``/``edit`` take.

Texts are clipped to Discord's limits; a card becomes an embed whose fields are dropped
last-first when the whole would be too long. A content's actions become buttons whose custom
ids carry everything needed to run their command (:func:`action_custom_id`), so a click works
after a restart and no view is kept in memory.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode

import discord

from bot.adapters.discord.base import log
from bot.adapters.discord.permissions import NO_MENTIONS
from bot.commands import NAME_RE
from bot.types import Action, ActionStyle, Card, Content

_EMBED_TITLE: Final = 256
_EMBED_DESCRIPTION: Final = 4096
_EMBED_FIELDS: Final = 25
_EMBED_FIELD_NAME: Final = 256
_EMBED_FIELD_VALUE: Final = 1024
_EMBED_FOOTER: Final = 2048
_EMBED_TOTAL: Final = 6000
_MAX_FILES: Final = 10
#: Discord's limits on buttons: per row, per message, a label, a custom id.
_BUTTONS_PER_ROW: Final = 5
_MAX_BUTTONS: Final = 25
_BUTTON_LABEL: Final = 80
MAX_CUSTOM_ID: Final = 100

#: ``cercle:run:<channel>:<path words joined by '.'>:<urlencoded options>[:?<option to ask>]``;
#: an empty channel means the channel the message is in.
_RUN_ID: Final = re.compile(
    r"cercle:run:(\d*):([a-z0-9_-]{1,32}(?:\.[a-z0-9_-]{1,32})*):([^:]*)(?::\?([a-z0-9_-]{1,32}))?"
)
_STYLES: Final = {
    ActionStyle.PRIMARY: discord.ButtonStyle.primary,
    ActionStyle.SUCCESS: discord.ButtonStyle.success,
    ActionStyle.DANGER: discord.ButtonStyle.danger,
}


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


@dataclass(frozen=True, slots=True)
class ActionId:
    """What a button's custom id asks for: a command, where, with which options."""

    #: The channel the command runs in; ``None``: the channel the message is in.
    channel_id: int | None
    path: tuple[str, ...]
    options: dict[str, str]
    #: The option to ask the member for before running, if any.
    ask: str | None = None


def action_custom_id(action: Action, channel_id: int | str | None = None) -> str:
    """The persistent custom id of an action's button (also its modal's, when it asks).

    The channel is the action's, else ``channel_id``, else none (the channel the message is
    in, known when it is clicked).

    Raises:
        ValueError: the action cannot be expressed in Discord's 100 characters.
    """
    where = action.channel.id if action.channel is not None else channel_id
    channel = "" if where is None else str(where)
    if not channel.isdigit() and channel:
        raise ValueError(f"not a Discord channel id: {channel!r}")
    if not action.path or not all(NAME_RE.fullmatch(word) for word in action.path):
        raise ValueError(f"not a command path: {action.path!r}")
    if action.ask is not None and not NAME_RE.fullmatch(action.ask):
        raise ValueError(f"not an option name: {action.ask!r}")
    options = urlencode([(name, str(value)) for name, value in action.options])
    custom_id = f"cercle:run:{channel}:{'.'.join(action.path)}:{options}"
    if action.ask is not None:
        custom_id += f":?{action.ask}"
    if len(custom_id) > MAX_CUSTOM_ID:
        raise ValueError(f"{len(custom_id)} characters, at most {MAX_CUSTOM_ID}")
    return custom_id


def read_action_id(custom_id: str) -> ActionId | None:
    """The command a button's (or its modal's) custom id runs; ``None`` if not one of ours."""
    match = _RUN_ID.fullmatch(custom_id)
    if match is None:
        return None
    return ActionId(
        channel_id=int(match[1]) if match[1] else None,
        path=tuple(match[2].split(".")),
        options=dict(parse_qsl(match[3], keep_blank_values=True)),
        ask=match[4],
    )


class _Buttons(discord.ui.View):
    """Buttons sent once: their ids carry everything, so discord.py need not remember them."""

    def is_finished(self) -> bool:
        """Always: discord.py stores no view it considers finished (none to leak)."""
        return True


def action_view(actions: Sequence[Action]) -> discord.ui.View | None:
    """The buttons of ``actions``, 5 a row, at most 25; ``None`` when there are none.

    An action whose id does not fit, or that repeats another, is left out (with a warning);
    the others are still shown.
    """
    view = _Buttons(timeout=None)
    seen: set[str] = set()
    for action in actions:
        if len(view.children) >= _MAX_BUTTONS:
            log.warning("discord: more than %d actions, the rest left out", _MAX_BUTTONS)
            break
        try:
            custom_id = action_custom_id(action)
        except ValueError as error:
            log.warning("discord: action %r left out: %s", action.label, error)
            continue
        if custom_id in seen:  # Discord refuses a message whose buttons share an id
            log.warning("discord: action %r left out: the same as another", action.label)
            continue
        seen.add(custom_id)
        view.add_item(
            discord.ui.Button(
                style=_STYLES[action.style],
                label=_clip(action.label, _BUTTON_LABEL) or "…",
                custom_id=custom_id,
                row=len(view.children) // _BUTTONS_PER_ROW,
            )
        )
    return view if view.children else None


def message_kwargs(content: Content) -> dict[str, Any]:
    """What ``send``/``edit`` take for ``content``: text, an embed, files, buttons, no mentions
    (but the role of ``content.ping``)."""
    kwargs: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
    if content.text:
        kwargs["content"] = content.text
    if content.ping is not None and content.ping.role is not None:
        # The hosts' opt-in role mention, and it alone: the text's own syntax stays defused.
        role = int(content.ping.role)
        kwargs["content"] = f"<@&{role}> " + content.text
        kwargs["allowed_mentions"] = discord.AllowedMentions(
            everyone=False, users=False, roles=[discord.Object(role)], replied_user=False
        )
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
    view = action_view(content.actions)
    if view is not None:
        kwargs["view"] = view
    return kwargs
