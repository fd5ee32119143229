"""Circle rounds: a weekly cross-profession prompt, answers and comments in its thread.

Each circle has a schedule (cron, in its timezone). At each slot the bot posts the next prompt
of the circle's bank, opens a thread, reminds once before the close, then closes the thread.
A member's top-level message in the thread is an answer, a reply to an answer is a comment;
both are tagged with the profession the author had at that moment.

The cog is assembled from one mixin per concern, over the state declared in
:mod:`~cogs.rounds.base`:

- :mod:`~cogs.rounds.lifecycle`: schedules, opening, reminder and close;
- :mod:`~cogs.rounds.intake`: answers, comments, reactions, their moderation, ``/answer``;
- :mod:`~cogs.rounds.prompts`: the question bank and suggestions (``/prompt …``).

The circle's own commands (``/circle setup``, ``/circle status``) live in :mod:`cogs.circle`;
this cog follows a circle's settings through :class:`~bot.types.CircleChanged`.
"""

from __future__ import annotations

from typing import Any

from bot.types import CircleChanged
from cogs.rounds.base import ASKED
from cogs.rounds.intake import IntakeMixin
from cogs.rounds.prompts import PromptsMixin
from storage import rounds as store
from storage import state


class RoundsCog(IntakeMixin, PromptsMixin):
    """Schedules, posts, collects and closes the weekly rounds of every circle."""

    async def on_signal(self, signal: object) -> None:
        """Follow circles (first seen, settings changed), moderation and professions."""
        if isinstance(signal, CircleChanged):
            await self._circle_changed(signal)
        else:
            await self._follow(signal)

    # ------------------------------------------------------------ member data

    async def export_member_data(self, member_id: int) -> dict[str, Any]:
        """Answers (with earlier versions), comments, reactions and suggested questions."""
        data: dict[str, Any] = await store.member_data(self.services.db, member_id)
        for answer in data["answers"]:
            answer["earlier_versions"] = [
                r.text for r in await store.revisions(self.services.db, int(answer["id"]))
            ]
        return data

    async def erase_member_data(self, member_id: int) -> None:
        """Forget the member's answers, comments, reactions and suggested questions."""
        await store.erase_member(self.services.db, member_id)
        self._professions.pop(member_id, None)
        self._asked.pop(member_id)
        await state.delete_state(self.services.db, self.name, f"{ASKED}:{member_id}")
