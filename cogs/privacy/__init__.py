"""Members' data: ``/circle mydata`` and ``/circle forget``, and the bot's posts in a member's
name (kept so that forgetting the member deletes them on the platform too)."""

from cogs.privacy.cog import PrivacyCog
from cogs.privacy.posts import remember_posts

__all__ = ["PrivacyCog", "remember_posts"]
