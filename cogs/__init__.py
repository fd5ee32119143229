"""Features of Cercle. Each cog plugs into the core through :class:`bot.cog.Cog`."""

from __future__ import annotations

from bot.cog import Cog


def default_cogs() -> list[type[Cog]]:
    """Every cog the bot runs, in order."""
    from cogs.core import CoreCog
    from cogs.courtesy import CourtesyCog
    from cogs.digest.cog import DigestCog
    from cogs.privacy import PrivacyCog
    from cogs.professions import ProfessionsCog
    from cogs.rounds import RoundsCog

    return [CoreCog, CourtesyCog, ProfessionsCog, RoundsCog, DigestCog, PrivacyCog]
