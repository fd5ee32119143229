"""Circle rounds: weekly cross-profession prompts, answers tagged by profession."""

from cogs.rounds.cog import RoundsCog
from cogs.rounds.signals import RoundClosed, RoundOpened

__all__ = ["RoundClosed", "RoundOpened", "RoundsCog"]
