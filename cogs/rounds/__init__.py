"""Circle rounds: weekly cross-profession prompts, answers tagged by profession."""

from cogs.rounds.cog import RoundsCog
from cogs.rounds.signals import AnswerStored, RoundClosed, RoundOpened

__all__ = ["AnswerStored", "RoundClosed", "RoundOpened", "RoundsCog"]
