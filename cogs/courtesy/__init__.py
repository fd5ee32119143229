"""Courtesy moderation: a charter kept by rules, hosts in control, nothing lost.

:mod:`~cogs.courtesy.engine` decides (pure, fast, rules as data); :class:`CourtesyCog` acts on
the platform and gives hosts their tools; :mod:`~cogs.courtesy.signals` is what other cogs hear.
"""

from cogs.courtesy.cog import CourtesyCog
from cogs.courtesy.signals import MessageApproved, MessageRejected

__all__ = ["CourtesyCog", "MessageApproved", "MessageRejected"]
