"""The in-memory test kit: any cog, on a Discord-like or Matrix-like profile, no network, no sleeps.

Example::

    async with Harness(profile="matrix", cogs=[MyCog], hosts=["hana"]) as h:
        await h.command("ana", "/help")
        assert "Commands" in h.last().text
        await h.advance("3d")   # fires every job due meanwhile, in order

A :class:`Harness` is a :class:`~bot.simulation.Simulation` (the bot built by the composition
root on the memory platform, a fake clock, SQLite) with the assertions tests need.
"""

from __future__ import annotations

from bot.adapters.memory import Sent
from bot.simulation import DEFAULT_START, PROFILES, Simulation

__all__ = ["DEFAULT_START", "PROFILES", "Harness", "Sent"]


class Harness(Simulation):
    """A running bot for tests: everything of :class:`Simulation`, plus what tests look at."""

    def last(self) -> Sent:
        """The latest message the bot sent."""
        if not self.platform.sent:
            raise AssertionError("the bot has sent nothing")
        return self.platform.sent[-1]
