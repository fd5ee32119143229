"""What Cercle asks Discord for: the invite's permissions and scopes, the gateway intents.

Every send denies all mentions at the API level (:data:`NO_MENTIONS`).
"""

from __future__ import annotations

from typing import Final

import discord

#: What the bot does, and nothing more: the invite asks for exactly these.
PERMISSIONS: Final = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    manage_threads=True,  # lock a round's thread when it closes
    read_message_history=True,  # catch up on a thread after a restart
    add_reactions=True,
    embed_links=True,
    attach_files=True,
    manage_messages=True,  # moderation: delete a message that breaks the charter
    moderate_members=True,  # moderation: time a member out (mute)
    manage_webhooks=True,  # repost a redacted or approved message under its author's name
)
SCOPES: Final = ("bot", "applications.commands")
NO_MENTIONS: Final = discord.AllowedMentions.none()


def intents(*, message_content: bool = True) -> discord.Intents:
    """The gateway intents Cercle asks for (only Message Content is privileged)."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_messages = True
    wanted.dm_messages = True
    wanted.guild_reactions = True
    wanted.message_content = message_content
    return wanted


def invite_url(application_id: int) -> str:
    """The link that adds the bot to a server with exactly :data:`PERMISSIONS`."""
    return discord.utils.oauth_url(application_id, permissions=PERMISSIONS, scopes=SCOPES)
