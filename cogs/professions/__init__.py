"""Professions: members say what they do, matched against a bilingual vocabulary (ISCO-08).

Other cogs use :func:`profession_of`, :func:`circle_professions`, :func:`tag_for_key` and
listen for :class:`ProfessionChanged`.
"""

from cogs.professions.cog import ProfessionsCog
from cogs.professions.tags import (
    ProfessionChanged,
    ProfessionTag,
    circle_professions,
    profession_of,
    tag_for_key,
)
from storage.professions import OTHER_KEY

__all__ = [
    "OTHER_KEY",
    "ProfessionChanged",
    "ProfessionTag",
    "ProfessionsCog",
    "circle_professions",
    "profession_of",
    "tag_for_key",
]
