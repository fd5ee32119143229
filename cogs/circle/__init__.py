"""The circle: its settings and the bot's health, for hosts."""

from cogs.circle.cog import CircleCog

__all__ = ["CircleCog"]
