"""What the parts of the courtesy cog share: the state they keep, the words they use.

:class:`CourtesyCog` is assembled from three parts, one per module, each a subclass of
:class:`CourtesyBase`: :mod:`~cogs.courtesy.enforcement` judges posts and carries out the
decisions, :mod:`~cogs.courtesy.review` is the hosts' queue, :mod:`~cogs.courtesy.tuning`
the charter and the hosts' tools to tune the rules. The state is declared here, once; so are
the few methods one part offers the others.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Final
from zoneinfo import ZoneInfo

from bot.cog import Cog, Context, Services
from bot.i18n import N_, Translator
from bot.types import ChannelRef, MessageRef, UserRef
from cogs.courtesy.activity import Activity
from cogs.courtesy.engine import Engine
from cogs.courtesy.rules import Category, SettingsError, build_settings
from storage import courtesy as store
from storage import members
from storage.models import Circle

if TYPE_CHECKING:
    from bot.cog import EventContext
    from bot.platform import Platform
    from bot.types import MessageEdited, MessagePosted, ThreadRef
    from cogs.courtesy.engine import Decision

_EXCERPT: Final = 160

WHY: Final[dict[Category, str]] = {
    Category.OK: N_("nothing"),
    Category.RUDE: N_("a dismissive tone"),
    Category.INSULT: N_("an insult"),
    Category.PROFANITY: N_("swearing"),
    Category.THREAT: N_("a threat"),
    Category.HATE: N_("hatred against a group"),
    Category.PII: N_("personal contact details"),
    Category.SPAM: N_("links from a newcomer"),
    Category.FLOOD: N_("too many messages at once"),
    Category.MENTIONS: N_("mass mentions"),
}
"""What a category is, in the words members and hosts read."""


@dataclass(slots=True)
class CircleState:
    """A circle's stored settings and the engine and activity built from them."""

    settings: store.CourtesySettings | None
    engine: Engine
    activity: Activity

    @property
    def mode(self) -> str:
        return self.settings.mode if self.settings is not None else store.MODE_ENFORCE


@dataclass(frozen=True, slots=True)
class Recent:
    """A message seen lately, so a member can report it by id or link."""

    ref: MessageRef
    author: UserRef
    member_id: int
    text: str


def clip(text: str, limit: int = _EXCERPT) -> str:
    """``text`` on one line, cut to ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def decayed(strikes: list[store.Strike], now: datetime, half_life_hours: float) -> float:
    """The weight of strikes today: each halves every ``half_life_hours``."""
    total = 0.0
    for strike in strikes:
        age = max(0.0, (now - strike.created_at).total_seconds() / 3600)
        total += strike.weight * math.pow(0.5, age / half_life_hours) if half_life_hours else 0.0
    return total


class CourtesyBase(Cog):
    """The courtesy cog's state and the helpers every part uses."""

    name = "courtesy"

    def __init__(self, services: Services) -> None:
        super().__init__(services)
        self._states: dict[int, CircleState] = {}
        self._first_seen: dict[int, datetime] = {}
        self._recent: OrderedDict[tuple[str, str], Recent] = OrderedDict()

    async def _state(self, circle: Circle) -> CircleState:
        """The circle's state, built from its stored settings on first use (or after a change)."""
        circle_id = circle.id or 0
        state = self._states.get(circle_id)
        if state is None:
            row = await store.get_settings(self.services.db, circle_id)
            try:
                settings = build_settings(row.override_data if row is not None else None)
            except SettingsError:
                self.log.exception(
                    "circle %s has invalid rule overrides; using defaults", circle_id
                )
                settings = build_settings()
            engine = Engine(settings)
            previous = self._states.get(circle_id)
            activity = previous.activity if previous is not None else engine.new_activity()
            state = CircleState(row, engine, activity)
            self._states[circle_id] = state
        return state

    async def _joined(self, member_id: int) -> datetime | None:
        if member_id not in self._first_seen:
            member = await members.get_member(self.services.db, member_id)
            if member is None:
                return None
            self._first_seen[member_id] = member.created_at
        return self._first_seen[member_id]

    async def _log_once(self, entry: store.AuditEntry) -> None:
        """Write an audit row once per event or command, whatever retries and replays follow."""
        await self.services.effects.stored("audit", partial(store.log, self.services.db, entry))

    async def _enqueue_once(self, item: store.QueueItem) -> store.QueueItem | None:
        """Queue ``item`` for the hosts once per event or command; the stored item."""
        db = self.services.db

        async def insert() -> int:
            stored = await store.enqueue(db, item)
            assert stored.id is not None
            return stored.id

        item_id = await self.services.effects.stored("enqueue", insert, encode=str, decode=int)
        return await store.get_item(db, item.circle_id, item_id)

    async def _host_log(
        self,
        ctx: Context,
        action: str,
        *,
        member_id: int | None = None,
        rule: str | None = None,
        message_id: str | None = None,
        note: str = "",
    ) -> None:
        """Audit a host's decision in the circle of ``ctx``."""
        assert ctx.circle is not None  # /charter runs anywhere, but changes only in a circle
        await self._log_once(
            store.AuditEntry(
                circle_id=ctx.circle.id or 0,
                member_id=member_id,
                message_id=message_id,
                rule=rule,
                action=action,
                actor=store.ACTOR_HOST,
                actor_member_id=ctx.member_id,
                note=note,
                created_at=self.services.clock.now(),
            ),
        )

    @staticmethod
    def _when(moment: datetime, circle: Circle | None) -> str:
        zone = ZoneInfo(circle.timezone) if circle is not None else None
        local = moment.astimezone(zone) if zone is not None else moment
        return local.strftime("%Y-%m-%d %H:%M")

    # ------------------------------------------------------------ between the parts
    #
    # Declared for the type checker only: the part named defines each, and CourtesyCog
    # assembles them all.

    if TYPE_CHECKING:
        # enforcement
        async def _delete(self, platform: Platform, message: MessageRef, reason: str) -> None:
            """Take a message out of view."""

        async def _republish(
            self,
            platform: Platform,
            author: UserRef,
            text: str,
            channel: ChannelRef,
            thread: ThreadRef | None,
            t: Translator,
        ) -> None:
            """Repost a member's words, as them or with attribution."""

        async def _strike(
            self,
            circle: Circle,
            member_id: int,
            user: UserRef,
            channel: ChannelRef,
            weight: float,
            rule: str,
            t: Translator,
            ctx: Context,
        ) -> None:
            """Add a strike; mute past the threshold."""

        # review
        async def _show_hosts(
            self,
            ctx: EventContext,
            item: store.QueueItem,
            decision: Decision,
            event: MessagePosted | MessageEdited,
        ) -> None:
            """Show a held message where the hosts review."""
