"""Votes: short statements of a round that members vote on privately, consensus by profession.

The digest reads :func:`standing` (where professions agree and differ) and shows it with
:func:`sections`.
"""

from cogs.votes.cog import VotesCog
from cogs.votes.standing import Standing, sections, standing

__all__ = ["Standing", "VotesCog", "sections", "standing"]
