"""The Discord adapter (discord.py): application commands, threads, moderation, no lost answers."""

from bot.adapters.discord.commands import check_limits, payload_hash, render_commands
from bot.adapters.discord.platform import (
    PERMISSIONS,
    Connector,
    DiscordPlatform,
    intents,
    invite_url,
)

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
