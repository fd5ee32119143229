"""The ``[discord]`` section of the configuration."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from bot.settings import Int, Secret, Section


class DiscordSettings(Section):
    """The ``[discord]`` section."""

    token: Secret = Field(
        default=None, description="Bot token; environment only (CERCLE_DISCORD__TOKEN)."
    )
    application_id: Int | None = Field(
        default=None, gt=0, description="Application id from the Discord developer portal."
    )
    guild_ids: list[Annotated[Int, Field(gt=0)]] = Field(
        default_factory=list,
        description="Guilds where commands are synced instantly; empty means global sync.",
    )
    host_role_ids: list[Annotated[Int, Field(gt=0)]] = Field(
        default_factory=list,
        description="Role ids that make a member a host (besides Manage Server/Messages).",
    )
    review_channel_id: Int | None = Field(
        default=None,
        gt=0,
        description="Channel where held messages wait for hosts, with Approve / Reject buttons.",
    )
