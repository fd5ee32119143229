"""What every part of the rounds cog shares: its name, its caches and a few small helpers.

:class:`~cogs.rounds.cog.RoundsCog` is assembled from one mixin per concern, each in its own
module (:mod:`~cogs.rounds.lifecycle`, :mod:`~cogs.rounds.intake`,
:mod:`~cogs.rounds.prompts`); the state they share is declared once, here.
"""

from __future__ import annotations

from typing import Final

from bot.cache import LRU
from bot.cog import CircleContext, Cog, Services
from bot.types import ChannelRef, ThreadRef
from cogs.professions import ProfessionTag, tag_for_key
from cogs.rounds.shared import next_question
from storage import professions as professions_store
from storage import state
from storage.models import Circle
from storage.rounds import CircleSettings, Round
from storage.writer import GroupReader

#: State key prefix of the members already asked for their profession.
ASKED: Final = "asked-profession"
#: Members whose profession is kept in memory (the most recently active; others read again).
PROFESSIONS_CACHED: Final = 10_000
#: Members known to have been asked for their profession, kept in memory (others read again).
ASKED_CACHED: Final = 10_000


class RoundsBase(Cog):
    """The rounds cog's name and shared state."""

    name = "rounds"

    def __init__(self, services: Services) -> None:
        super().__init__(services)
        self._settings: dict[int, CircleSettings] = {}
        # Hot-path caches (every answer needs its round and its author's profession).
        self._threads: dict[tuple[str, str], Round] = {}
        self._professions: LRU[int, ProfessionTag | None] = LRU(PROFESSIONS_CACHED)
        # Authors first seen side by side (a round announced, a backlog) are read together.
        self._profession_reader: GroupReader[int, ProfessionTag] = GroupReader(self._professions_of)
        self._asked: LRU[int, bool] = LRU(ASKED_CACHED)
        self._asked_reader: GroupReader[int, bool] = GroupReader(self._were_asked)

    async def _professions_of(self, member_ids: list[int]) -> dict[int, ProfessionTag]:
        """The current profession of those of these members who set one."""
        found = await professions_store.member_professions(self.services.db, member_ids)
        return {member: tag_for_key(p.key, p.wording) for member, p in found.items()}

    async def _were_asked(self, member_ids: list[int]) -> dict[int, bool]:
        """Which of these members were already asked for their profession (it is stored)."""
        keys = {f"{ASKED}:{member}": member for member in member_ids}
        found = await state.states_of(self.services.db, self.name, list(keys))
        return {keys[key]: True for key, value in found.items() if value}

    async def _next_text(self, ctx: CircleContext) -> str:
        """Which question comes next in the circle of ``ctx``, and when."""
        return await next_question(self.services.db, self.services.scheduler, ctx)

    @staticmethod
    def _channel(circle: Circle) -> ChannelRef:
        return ChannelRef(circle.platform, circle.space_id, name=circle.name)

    @staticmethod
    def _thread_of(round_: Round) -> ThreadRef | None:
        if round_.thread_id is None:
            return None
        return ThreadRef(ChannelRef(round_.platform, round_.channel_id), round_.thread_id)
