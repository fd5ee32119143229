"""Members' data: ``/circle mydata`` and ``/circle forget``."""

from cogs.privacy.cog import PrivacyCog

__all__ = ["PrivacyCog"]
