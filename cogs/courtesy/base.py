"""What the parts of the courtesy cog share: the state they keep, the words they use.

:class:`CourtesyCog` is assembled from three parts, one per module, each a subclass of
:class:`CourtesyBase`: :mod:`~cogs.courtesy.enforcement` judges posts and carries out the
decisions, :mod:`~cogs.courtesy.review` is the hosts' queue, :mod:`~cogs.courtesy.tuning`
the charter and the hosts' tools to tune the rules. The state is declared here, once; so are
the few methods one part offers the others.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

from bot.cache import LRU
from bot.cog import Cog, Context, Services
from bot.i18n import N_, Translator
from bot.types import ChannelRef, MessageRef, UserRef
from cogs.courtesy.activity import Activity
from cogs.courtesy.engine import ALLOW, Decision, Engine, Reason
from cogs.courtesy.rules import Category, Settings, SettingsError, build_settings
from cogs.courtesy.semantic import LAYER_ENCODER, LAYER_EXAMPLE, LAYER_GATE
from storage import courtesy as store
from storage import members
from storage.models import Circle
from storage.writer import GroupReader

if TYPE_CHECKING:
    from bot.cog import CircleContext, EventContext
    from bot.platform import Platform
    from bot.types import MessageEdited, MessagePosted, ThreadRef

_EXCERPT: Final = 160
#: Members whose first-seen time is kept in memory (the most recently active).
FIRST_SEEN_CACHED: Final = 10_000
#: Latest posts kept for /report and edits.
RECENT_CACHED: Final = 5_000

WHY: Final[dict[Category, str]] = {
    Category.OK: N_("nothing"),
    Category.RUDE: N_("a dismissive tone"),
    Category.INSULT: N_("an insult"),
    Category.PROFANITY: N_("swearing"),
    Category.THREAT: N_("a threat"),
    Category.HATE: N_("hatred against a group"),
    Category.PII: N_("personal contact details"),
    Category.SPAM: N_("spam or unsolicited links"),
    Category.FLOOD: N_("too many messages at once"),
    Category.MENTIONS: N_("mass mentions"),
}
"""What a category is, in the words members and hosts read."""

LAYER_RULES: Final = "rules"
#: The semantic layer's two readings: they decide by a probability, not by a word.
SEMANTIC_LAYERS: Final = frozenset({LAYER_GATE, LAYER_ENCODER})
LAYER_WORDS: Final[dict[str, str]] = {
    LAYER_RULES: N_("the word rules"),
    LAYER_GATE: N_("the semantic model (quick reading)"),
    LAYER_ENCODER: N_("the semantic model (full reading)"),
    LAYER_EXAMPLE: N_("an example a host approved"),
}
"""Who decided, in the words hosts read."""

#: A list entry made of plain words (not a pattern with gaps, alternatives or anchors).
_PLAIN_RE: Final = re.compile(r"[\w'’ -]+")


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


def matched(reason: Reason) -> str:
    """What tripped a rule, in words: the list's word or phrase, or the member's own words
    when the entry is a pattern; the kind of detail for personal details (never the detail)."""
    if reason.category is Category.PII or not reason.excerpt:
        return reason.term
    return reason.term if _PLAIN_RE.fullmatch(reason.term) else reason.excerpt


def semantic_observed(decision: Decision, settings: Settings) -> bool:
    """The semantic layer decided, in a circle where it only observes."""
    return settings.semantic_observe and decision.layer in SEMANTIC_LAYERS


def rules_only(decision: Decision, settings: Settings) -> Decision:
    """``decision`` as the word and message rules alone would have made it."""
    kept = tuple(r for r in decision.reasons if r.layer == LAYER_RULES)
    if not kept:
        return replace(ALLOW, semantic=decision.semantic, reported=decision.reported)
    top = kept[0]  # the reasons are sorted, the deciding one first
    return replace(
        decision,
        action=top.action,
        category=top.category,
        rule=top.rule,
        reasons=kept,
        strikes=settings.rules[top.rule].strikes,
    )


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
        # Bounded: past 100,000 members memory stays flat (a forgotten one is read again).
        self._first_seen: LRU[int, datetime] = LRU(FIRST_SEEN_CACHED)
        # Members first seen side by side (a newcomers' burst, a backlog) are read together.
        self._first_seen_reader: GroupReader[int, datetime] = GroupReader(
            partial(members.members_created, services.db)
        )
        #: The latest posts, for /report and edits.
        self._recent: LRU[tuple[str, str], Recent] = LRU(RECENT_CACHED)

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
            if engine.model is not None:  # what hosts approved here matters to the model only
                engine.learn([e.text for e in await store.examples(self.services.db, circle_id)])
            state = CircleState(row, engine, engine.new_activity())
            self._states[circle_id] = state
        return state

    async def _joined(self, member_id: int) -> datetime | None:
        joined = self._first_seen.get(member_id)
        if joined is None:
            joined = await self._first_seen_reader.get(member_id)
            if joined is None:
                return None
            self._first_seen[member_id] = joined
        return joined

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

        # tuning
        async def _save_overrides(
            self, ctx: CircleContext, overrides: dict[str, Any], note: str
        ) -> None:
            """Save the circle's overrides of the rules and rebuild its engine."""

        # review
        async def _show_hosts(
            self,
            ctx: EventContext,
            item: store.QueueItem,
            decision: Decision,
            event: MessagePosted | MessageEdited,
        ) -> None:
            """Show a held message where the hosts review."""
