"""The courtesy cog: keeps the charter with the rules engine, and puts hosts in control.

Every post and edit in a circle is judged before other cogs see it; the decision is carried
out once the verdict is known (:mod:`~cogs.courtesy.enforcement`). Held and reported messages
wait in the hosts' queue (:mod:`~cogs.courtesy.review`); hosts show and tune the charter and
the rules (:mod:`~cogs.courtesy.tuning`). Every decision is audited. The parts share their
state through :class:`~cogs.courtesy.base.CourtesyBase`; this module assembles them and keeps
what is stored about members.
"""

from __future__ import annotations

from typing import Any

from bot.platform import PlatformError
from bot.types import ChannelRef, UserRef
from cogs.courtesy.base import decayed
from cogs.courtesy.enforcement import MUTE_MEMORY, Enforcement, verdict_for
from cogs.courtesy.review import Review
from cogs.courtesy.semantic_controls import SemanticControls
from cogs.courtesy.tuning import DEFAULT_CHARTER, Tuning
from storage import courtesy as store
from storage import members

__all__ = ["DEFAULT_CHARTER", "MUTE_MEMORY", "CourtesyCog", "decayed", "verdict_for"]


class CourtesyCog(Enforcement, Review, Tuning, SemanticControls):
    """Courtesy rules, the charter, the hosts' moderation tools and member reports."""

    # ------------------------------------------------------------ member data

    async def export_member_data(self, member_id: int) -> dict[str, Any]:
        """Decisions about the member, their strikes, mutes, queued messages, reports, and the
        messages of theirs hosts approved as examples."""
        return await store.export_member(self.services.db, member_id)

    async def erase_member_data(self, member_id: int) -> None:
        """Forget the member (their reports and host decisions stay, without their name).

        A running mute is lifted first: its record goes, so nothing would end it later.
        """
        await self._lift_mutes_of(member_id)
        learnt = await store.example_circles(self.services.db, member_id)
        await store.erase_member(self.services.db, member_id)
        for circle_id in learnt:
            await self._relearn(circle_id)
        self._first_seen.pop(member_id)
        for state in self._states.values():
            state.activity.forget(str(member_id))
        for key in [k for k, r in self._recent.items() if r.member_id == member_id]:
            self._recent.pop(key)

    async def _relearn(self, circle_id: int) -> None:
        """Rebuild a circle's engine from the examples left (activity kept)."""
        old = self._states.pop(circle_id, None)
        circle = await self.services.directory.circle_by_id(circle_id)
        if old is not None and circle is not None:
            (await self._state(circle)).activity = old.activity

    async def _lift_mutes_of(self, member_id: int) -> None:
        db = self.services.db
        running = await store.running_mutes(db, now=self.services.clock.now())
        for mute in [m for m in running if m.member_id == member_id]:
            circle = await self.services.directory.circle_by_id(mute.circle_id)
            if circle is None or not self.services.platforms.serves(circle):
                continue
            account = await members.account_of(db, member_id, circle.platform)
            if account is None:
                continue
            user = UserRef(circle.platform, account.platform_user_id, account.display_name)
            try:
                await self.services.platforms.get(circle.platform).unmute(
                    user, ChannelRef(circle.platform, circle.space_id)
                )
            except PlatformError:
                self.log.warning("could not lift the mute of %s", user.id, exc_info=True)
