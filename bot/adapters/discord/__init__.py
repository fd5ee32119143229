"""The Discord adapter (discord.py): application commands, threads, moderation, no lost answers.

The names below load on first use, so reading the configuration (which imports
:mod:`bot.adapters.discord.settings`) does not import discord.py.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.adapters.discord.commands import check_limits, payload_hash, render_commands
    from bot.adapters.discord.platform import (
        PERMISSIONS,
        Connector,
        DiscordPlatform,
        intents,
        invite_url,
    )

_WHERE = {
    "check_limits": "commands",
    "payload_hash": "commands",
    "render_commands": "commands",
    "PERMISSIONS": "platform",
    "Connector": "platform",
    "DiscordPlatform": "platform",
    "intents": "platform",
    "invite_url": "platform",
}

__all__ = [
    "PERMISSIONS",
    "Connector",
    "DiscordPlatform",
    "check_limits",
    "intents",
    "invite_url",
    "payload_hash",
    "render_commands",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
