"""The courtesy cog: keeps the charter with the rules engine, and puts hosts in control.

Every post and edit in a circle is judged before other cogs see it (:meth:`inspect`): in
``enforce`` mode the verdict redacts, holds or hides it; in ``observe`` mode decisions are only
logged. The actions follow once the verdict is known (:meth:`on_message`, :meth:`on_edit`):
the original is deleted when it must leave public view, personal details are reposted masked
with attribution, the author is told privately why, strikes decay and escalate to a temporary
mute (never a ban), and held messages wait in the hosts' queue. Every decision is audited.
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from bot.cog import Cog, CommandContext, Context, EventContext, Services, command
from bot.commands import Choice, OptionSpec, OptionType, Scope
from bot.i18n import N_, Translator
from bot.messenger import escape, quote
from bot.platform import (
    HeldMessage,
    OffersReview,
    Platform,
    PlatformError,
    RepostsAsAuthor,
)
from bot.scheduler import JobRun, once
from bot.types import (
    ChannelRef,
    MessageEdited,
    MessagePosted,
    MessageRef,
    Role,
    ThreadRef,
    UserRef,
    Verdict,
    Visibility,
)
from cogs.courtesy.activity import Activity
from cogs.courtesy.engine import Decision, Engine
from cogs.courtesy.rules import Action, Category, SettingsError, build_settings
from cogs.courtesy.signals import MessageApproved, MessageRejected
from storage import courtesy as store
from storage import members
from storage.models import Circle

#: How far back previous mutes count when choosing the next mute's length.
MUTE_MEMORY: Final = timedelta(days=30)
_RECENT_LIMIT: Final = 5_000
_EXCERPT: Final = 160
_MAX_CHARTER: Final = 1_800
_LINK_ID_RE: Final = re.compile(r"[/#]?([\w\-:.!$]+)/?$")

DEFAULT_CHARTER: Final = N_(
    "**The circle's charter**\n\n"
    "1. **Courteous**: no insults, no swearing at anyone, no mockery of a profession.\n"
    "2. **Benevolent**: disagree with ideas, never with people; assume good faith.\n"
    "3. **Lawful**: no threats, no hatred against any group, no harassment.\n"
    "4. **Private**: never publish contact details (phone numbers, e-mail or postal "
    "addresses), yours or anyone else's: I mask them.\n\n"
    "Messages that break the charter may be hidden or held for a host's review. Repeated "
    "breaches lead to a temporary mute, never to an automatic ban."
)

_WHY: Final[dict[Category, str]] = {
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
_ACTION_NAMES: Final[dict[str, str]] = {
    "allow": N_("allow"),
    "nudge": N_("nudge"),
    "warn": N_("warn"),
    "redact": N_("redact"),
    "hold": N_("hold"),
    "hide": N_("hide"),
    "approve": N_("approved"),
    "reject": N_("rejected"),
    "report": N_("reported"),
    "mute": N_("muted"),
    "pardon": N_("pardoned"),
    "mode": N_("mode changed"),
    "charter": N_("charter changed"),
    "settings": N_("rules changed"),
}
_MODE_NAMES: Final = {
    store.MODE_OBSERVE: N_("observe (decisions are only logged)"),
    store.MODE_ENFORCE: N_("enforce"),
}
_VISIBILITY: Final = {
    Action.REDACT: Visibility.REDACTED,
    Action.HOLD: Visibility.HELD,
    Action.HIDE: Visibility.HIDDEN,
}


@dataclass(slots=True)
class _CircleState:
    settings: store.CourtesySettings | None
    engine: Engine
    activity: Activity

    @property
    def mode(self) -> str:
        return self.settings.mode if self.settings is not None else store.MODE_ENFORCE


@dataclass(frozen=True, slots=True)
class _Recent:
    ref: MessageRef
    author: UserRef
    member_id: int
    text: str


def _clip(text: str, limit: int = _EXCERPT) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def decayed(strikes: list[store.Strike], now: datetime, half_life_hours: float) -> float:
    """The weight of strikes today: each halves every ``half_life_hours``."""
    total = 0.0
    for strike in strikes:
        age = max(0.0, (now - strike.created_at).total_seconds() / 3600)
        total += strike.weight * math.pow(0.5, age / half_life_hours) if half_life_hours else 0.0
    return total


def verdict_for(decision: Decision, text: str) -> Verdict | None:
    """The verdict listeners see for a decision (``None`` when nothing matched)."""
    if not decision.acted:
        return None
    visibility = _VISIBILITY.get(decision.action, Visibility.VISIBLE)
    shown = decision.redacted_text if decision.redacted_text is not None else text
    return Verdict(visibility, shown, decision.rule, str(decision.category), detail=decision)


class CourtesyCog(Cog):
    """Courtesy rules, the charter, the hosts' moderation tools and member reports."""

    name = "courtesy"

    def __init__(self, services: Services) -> None:
        super().__init__(services)
        self._states: dict[int, _CircleState] = {}
        self._first_seen: dict[int, datetime] = {}
        self._recent: OrderedDict[tuple[str, str], _Recent] = OrderedDict()

    # ------------------------------------------------------------ state

    async def _state(self, circle: Circle) -> _CircleState:
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
            state = _CircleState(row, engine, activity)
            self._states[circle_id] = state
        return state

    async def _joined(self, member_id: int) -> datetime | None:
        if member_id not in self._first_seen:
            member = await members.get_member(self.services.db, member_id)
            if member is None:
                return None
            self._first_seen[member_id] = member.created_at
        return self._first_seen[member_id]

    # ------------------------------------------------------------ judging

    async def inspect(self, ctx: EventContext) -> Verdict | None:
        """Judge a post or an edit in a circle; in observe mode, only log."""
        event = ctx.event
        if not isinstance(event, MessagePosted | MessageEdited):
            return None
        if ctx.circle is None or ctx.member_id is None or not ctx.user.id:
            return None
        synthetic = bool(getattr(ctx, "synthetic", False))
        state = await self._state(ctx.circle)
        now = self.services.clock.now()
        posted = isinstance(event, MessagePosted) and not synthetic
        if isinstance(event, MessagePosted) and posted:
            self._remember(event, ctx.member_id)
        elif isinstance(event, MessageEdited):
            self._remember_edit(event)
        decision = state.engine.evaluate(
            event.text,
            author=str(ctx.member_id),
            now=now,
            joined_at=await self._joined(ctx.member_id),
            activity=state.activity if posted else None,
        )
        if not decision.acted:
            return None
        if synthetic:
            await self._act(ctx, decision, state, synthetic=True)
        verdict = verdict_for(decision, event.text)
        if verdict is not None and state.mode == store.MODE_OBSERVE:
            # Heard by the listeners (and acted on: logged), it changes nothing shown.
            return replace(verdict, advisory=True)
        return verdict

    def _remember(self, event: MessagePosted, member_id: int) -> None:
        key = (event.message.channel.platform, event.message.id)
        self._recent[key] = _Recent(event.message, event.author, member_id, event.text)
        while len(self._recent) > _RECENT_LIMIT:
            self._recent.popitem(last=False)

    def _remember_edit(self, event: MessageEdited) -> None:
        key = (event.message.channel.platform, event.message.id)
        recent = self._recent.get(key)
        if recent is not None:
            self._recent[key] = _Recent(recent.ref, recent.author, recent.member_id, event.text)

    async def on_message(self, ctx: EventContext) -> None:
        """Carry out what :meth:`inspect` decided about a post."""
        await self._carry_out(ctx)

    async def on_edit(self, ctx: EventContext) -> None:
        """Carry out what :meth:`inspect` decided about an edit (edits are checked again)."""
        await self._carry_out(ctx)

    async def _carry_out(self, ctx: EventContext) -> None:
        event = ctx.event
        if not isinstance(event, MessagePosted | MessageEdited) or ctx.circle is None:
            return
        opinion = ctx.opinions.get(self.name)
        if opinion is not None and isinstance(opinion.detail, Decision):
            await self._act(ctx, opinion.detail, await self._state(ctx.circle), synthetic=False)

    # ------------------------------------------------------------ acting

    async def _act(
        self, ctx: EventContext, decision: Decision, state: _CircleState, *, synthetic: bool
    ) -> None:
        event = ctx.event
        assert isinstance(event, MessagePosted | MessageEdited)
        assert ctx.circle is not None and ctx.member_id is not None
        circle_id = ctx.circle.id or 0
        now = self.services.clock.now()
        excerpt = decision.redacted_text if decision.redacted_text is not None else event.text
        await store.log(
            self.services.db,
            store.AuditEntry(
                circle_id=circle_id,
                member_id=ctx.member_id,
                message_id=event.message.id,
                rule=decision.rule,
                category=str(decision.category),
                action=str(decision.action),
                actor=store.ACTOR_RULES,
                mode=state.mode,
                note=_clip(excerpt, 500),
                created_at=now,
            ),
        )
        if state.mode == store.MODE_OBSERVE:
            return
        t = ctx.t
        action = decision.action
        why = t._(_WHY[decision.category])
        charter = f"`{ctx.prefix}charter`"
        if action in _VISIBILITY and not synthetic:
            await self._delete(ctx.platform, event.message, decision.rule or "")
        if action is Action.REDACT and not synthetic:
            shown = decision.redacted_text or ""
            await self._republish(ctx.platform, ctx.user, shown, ctx.channel, ctx.thread, t)
        if action is Action.HOLD:
            item = await store.enqueue(
                self.services.db,
                store.QueueItem(
                    circle_id=circle_id,
                    member_id=ctx.member_id,
                    platform=ctx.channel.platform,
                    channel_id=ctx.channel.id,
                    channel_name=ctx.channel.name,
                    thread_id=ctx.thread.id if ctx.thread else None,
                    message_id=event.message.id,
                    author_id=ctx.user.id,
                    author_name=ctx.user.label,
                    text=event.text,
                    redacted_text=decision.redacted_text,
                    rule=decision.rule,
                    category=str(decision.category),
                    source=store.SOURCE_RULES,
                    created_at=now,
                ),
            )
            await self._show_hosts(ctx, item, decision, event)
        message = {
            Action.NUDGE: N_(
                "A gentle reminder: this circle keeps a courteous, benevolent tone, and your "
                "message contains {why}. It stays up; you can edit it. The charter: {charter}."
            ),
            Action.WARN: N_(
                "Warning: your message breaks the circle's charter ({why}). It stays up, but "
                "repeated breaches lead to a temporary mute. The charter: {charter}."
            ),
            Action.REDACT: N_(
                "Your message contained {why}: contact details are never published in the "
                "circle. I removed it and reposted it with them masked. Share them privately "
                "if you wish."
            ),
            Action.HOLD: N_(
                "Your message is held for a host's review ({why}). It will be published if a "
                "host approves it."
            ),
            Action.HIDE: N_(
                "Your message was removed: it breaks the circle's charter ({why}). You are "
                "welcome to say it again, differently. The charter: {charter}."
            ),
        }.get(action)
        quiet = synthetic and action in (Action.HOLD, Action.REDACT)  # /answer says it already
        if message is not None and not quiet:
            await ctx.send_private(t._(message, why=why, charter=charter))
        if action is not Action.HOLD and decision.strikes > 0:
            # Held messages cost strikes only if a host rejects them.
            await self._strike(
                ctx.circle,
                ctx.member_id,
                ctx.user,
                ctx.channel,
                decision.strikes,
                decision.rule or "",
                t,
                ctx,
            )

    async def _republish(
        self,
        platform: Platform,
        author: UserRef,
        text: str,
        channel: ChannelRef,
        thread: ThreadRef | None,
        t: Translator,
    ) -> None:
        """Repost a member's words: as them where the platform can, else "{name} wrote:"."""
        if isinstance(platform, RepostsAsAuthor):
            try:
                if await platform.repost_as(author, text, channel, thread=thread) is not None:
                    return
            except PlatformError:
                self.log.exception("could not repost as %s; attributing instead", author.label)
        messenger = self.services.platforms.messenger(platform.name)
        await messenger.send(
            channel,
            t._("{name} wrote:", name=f"**{escape(author.label)}**") + "\n" + quote(text),
            thread=thread,
        )

    async def _show_hosts(
        self,
        ctx: EventContext,
        item: store.QueueItem,
        decision: Decision,
        event: MessagePosted | MessageEdited,
    ) -> None:
        """Where the platform has a hosts' review place (Discord), show the held message there."""
        platform = ctx.platform
        if item.id is None or not isinstance(platform, OffersReview):
            return
        shown = decision.redacted_text if decision.redacted_text is not None else event.text
        held = HeldMessage(
            item.id, event.message, ctx.user, shown, decision.rule, str(ctx.t.locale)
        )
        try:
            await platform.review(held)
        except PlatformError:
            self.log.exception("could not show held message #%s to the hosts", item.id)

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
        """Add a strike; past the threshold, mute for the next duration and spend the strikes."""
        db = self.services.db
        circle_id = circle.id or 0
        now = self.services.clock.now()
        settings = (await self._state(circle)).engine.settings
        await store.add_strike(
            db,
            store.Strike(
                circle_id=circle_id, member_id=member_id, weight=weight, rule=rule, created_at=now
            ),
        )
        total = decayed(
            await store.active_strikes(db, circle_id, member_id),
            now,
            settings.strike_half_life_hours,
        )
        if total + 1e-9 < settings.mute_at:
            return
        previous = await store.count_mutes(db, circle_id, member_id, since=now - MUTE_MEMORY)
        minutes = settings.mute_minutes[min(previous, len(settings.mute_minutes) - 1)]
        until = now + timedelta(minutes=minutes)
        platform = self.services.platforms.get(channel.platform)
        try:
            await platform.mute(user, channel, until)
        except PlatformError:
            self.log.warning("could not mute %s on %s", user.id, channel.platform, exc_info=True)
        mute = await store.add_mute(
            db, store.Mute(circle_id=circle_id, member_id=member_id, until=until, created_at=now)
        )
        self._schedule_unmute(mute, user, channel)
        await store.clear_strikes(db, circle_id, member_id, now=now)
        await store.log(
            db,
            store.AuditEntry(
                circle_id=circle_id,
                member_id=member_id,
                rule=rule,
                action="mute",
                actor=store.ACTOR_RULES,
                note=f"{minutes} min, {total:.2f} strikes",
                created_at=now,
            ),
        )
        await ctx.messenger.send_direct(
            user,
            t._(
                "You are muted in this circle until {until}, after repeated breaches of the "
                "charter. It is temporary, and a host can lift it.",
                until=self._when(until, circle),
            ),
        )

    async def on_start(self) -> None:
        """Schedule the end of every running mute (platforms like Matrix don't end them)."""
        db = self.services.db
        for mute in await store.running_mutes(db, now=self.services.clock.now()):
            async with db.session() as session:
                circle = await session.get(Circle, mute.circle_id)
            if circle is None or circle.platform not in self._platform_names():
                continue
            account = await members.account_of(db, mute.member_id, circle.platform)
            if account is None:
                continue
            user = UserRef(circle.platform, account.platform_user_id, account.display_name)
            self._schedule_unmute(mute, user, ChannelRef(circle.platform, circle.space_id))

    def _platform_names(self) -> set[str]:
        return self.services.platforms.names

    def _schedule_unmute(self, mute: store.Mute, user: UserRef, channel: ChannelRef) -> None:
        async def unmute(run: JobRun) -> None:
            active = await store.active_mute(
                self.services.db, mute.circle_id, mute.member_id, now=run.scheduled_for
            )
            if active is not None and active.id != mute.id:
                return  # a longer mute replaced this one; its own job ends it
            try:
                await self.services.platforms.get(channel.platform).unmute(user, channel)
            except PlatformError:
                self.log.warning("could not unmute %s", user.id, exc_info=True)

        self.services.scheduler.add(
            f"courtesy:unmute:{mute.id}", once(mute.until), unmute, since=mute.created_at
        )

    async def _delete(self, platform: Platform, message: MessageRef, reason: str) -> None:
        """Take a message out of view; a platform refusal is logged, not fatal."""
        try:
            await platform.delete(message, reason=reason)
        except PlatformError:
            self.log.warning("could not delete message %s", message.id, exc_info=True)

    @staticmethod
    def _when(moment: datetime, circle: Circle | None) -> str:
        zone = ZoneInfo(circle.timezone) if circle is not None else None
        local = moment.astimezone(zone) if zone is not None else moment
        return local.strftime("%Y-%m-%d %H:%M")

    # ------------------------------------------------------------ /charter

    @command(
        "charter",
        description=N_("Show the circle's charter (hosts may replace it)."),
        options=[
            OptionSpec("set", N_("Hosts: the new charter text"), max_length=_MAX_CHARTER),
            OptionSpec("reset", N_("Hosts: back to the default charter"), OptionType.BOOLEAN),
        ],
        private=True,
    )
    async def charter(self, ctx: CommandContext) -> None:
        """Show the charter; hosts replace or reset it."""
        new, reset = ctx.options["set"], ctx.options["reset"]
        if new or reset:
            if not ctx.is_host:
                await ctx.reply(ctx.t._("Only hosts can change the charter."))
                return
            if ctx.circle is None:
                await ctx.reply(ctx.t._("Use this command in the circle's channel."))
                return
            circle_id = ctx.circle.id or 0
            now = self.services.clock.now()
            await store.save_settings(
                self.services.db, circle_id, now=now, charter=new, reset_charter=bool(reset)
            )
            await self._host_log(ctx, "charter", note="reset" if reset else _clip(new))
            self._states.pop(circle_id, None)
            await ctx.reply(
                ctx.t._("The charter is back to the default.")
                if reset
                else ctx.t._("The circle's charter is updated.")
            )
            return
        await ctx.reply(await self.charter_text(ctx.circle, ctx.t))

    async def charter_text(self, circle: Circle | None, t: Translator) -> str:
        """The circle's charter, or the default one in the circle's language."""
        if circle is not None:
            state = await self._state(circle)
            if state.settings is not None and state.settings.charter:
                return state.settings.charter
        return t._(DEFAULT_CHARTER)

    # ------------------------------------------------------------ /report

    @command(
        "report",
        description=N_("Send a message to the hosts for review."),
        options=[
            OptionSpec("message", N_("The message's id or link"), max_length=300),
            OptionSpec("text", N_("What is wrong, or what was said"), rest=True, max_length=1000),
        ],
        scope=Scope.CIRCLE,
        private=True,
    )
    async def report(self, ctx: CommandContext) -> None:
        """Put a message (or what a member says about one) in the hosts' queue."""
        assert ctx.circle is not None
        reference, note = ctx.options["message"], ctx.options["text"] or ""
        if not reference and not note:
            await ctx.reply(
                ctx.t._("Tell me which message (message:<id or link>) or what was said.")
            )
            return
        recent = self._find_recent(ctx.channel.platform, reference) if reference else None
        now = self.services.clock.now()
        if recent is not None:
            ref, author = recent.ref, recent.author
            item = store.QueueItem(
                circle_id=ctx.circle.id or 0,
                member_id=recent.member_id,
                platform=ref.channel.platform,
                channel_id=ref.channel.id,
                channel_name=ref.channel.name,
                thread_id=ref.thread.id if ref.thread else None,
                message_id=ref.id,
                author_id=author.id,
                author_name=author.label,
                text=recent.text,
                source=store.SOURCE_REPORT,
                reporter_member_id=ctx.member_id,
                note=note,
                created_at=now,
            )
        else:
            item = store.QueueItem(
                circle_id=ctx.circle.id or 0,
                platform=ctx.channel.platform,
                channel_id=ctx.channel.id,
                channel_name=ctx.channel.name,
                thread_id=ctx.thread.id if ctx.thread else None,
                message_id=self._message_id(reference) if reference else None,
                text="",
                source=store.SOURCE_REPORT,
                reporter_member_id=ctx.member_id,
                note=note,
                created_at=now,
            )
        item = await store.enqueue(self.services.db, item)
        await store.log(
            self.services.db,
            store.AuditEntry(
                circle_id=ctx.circle.id or 0,
                member_id=item.member_id,
                message_id=item.message_id,
                action="report",
                actor=store.ACTOR_HOST if ctx.is_host else "member",
                actor_member_id=ctx.member_id,
                note=_clip(note),
                created_at=now,
            ),
        )
        await ctx.reply(ctx.t._("Thank you: the hosts will look at it."))

    @staticmethod
    def _message_id(reference: str) -> str:
        """The message id in an id or a link (``…/channels/1/2/3`` → ``3``)."""
        cleaned = reference.strip().strip("<>").rstrip("/")
        match = _LINK_ID_RE.search(cleaned)
        return match.group(1) if match else cleaned

    def _find_recent(self, platform: str, reference: str) -> _Recent | None:
        return self._recent.get((platform, self._message_id(reference)))

    # ------------------------------------------------------------ /mod

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
        assert ctx.circle is not None
        await store.log(
            self.services.db,
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

    @command(
        "mod",
        "queue",
        description=N_("Messages waiting for a host: held by the rules or reported."),
        role=Role.HOST,
        scope=Scope.CIRCLE,
        private=True,
    )
    async def mod_queue(self, ctx: CommandContext) -> None:
        """List the pending queue."""
        assert ctx.circle is not None
        items = await store.pending(self.services.db, ctx.circle.id or 0)
        t = ctx.t
        if not items:
            await ctx.reply(t._("Nothing waits for review."))
            return
        lines = [t._("**Waiting for review** ({count})", count=len(items))]
        for item in items:
            shown = item.redacted_text if item.redacted_text is not None else item.text
            if item.source == store.SOURCE_REPORT:
                what = t._("reported: {note}", note=escape(_clip(item.note, 80)) or "—")
            else:
                what = t._("held by rule {rule}", rule=f"`{item.rule}`")
            lines.append(
                f"`#{item.id}` **{escape(item.author_name or '?')}** — {what}\n"
                + quote(_clip(shown) or "…")
            )
        lines.append(
            t._(
                "Decide with {approve} or {reject}.",
                approve=f"`{ctx.prefix}mod approve id:<n>`",
                reject=f"`{ctx.prefix}mod reject id:<n> <reason>`",
            )
        )
        await ctx.reply("\n".join(lines))

    async def _item(self, ctx: CommandContext) -> store.QueueItem | None:
        assert ctx.circle is not None
        item = await store.get_item(self.services.db, ctx.circle.id or 0, ctx.options["id"])
        if item is None or item.status != store.STATUS_PENDING:
            await ctx.reply(ctx.t._("#{id} is not waiting for review.", id=ctx.options["id"]))
            return None
        return item

    @staticmethod
    def _item_ref(item: store.QueueItem) -> tuple[MessageRef, UserRef]:
        channel = ChannelRef(item.platform, item.channel_id, name=item.channel_name)
        thread = ThreadRef(channel, item.thread_id) if item.thread_id else None
        message = MessageRef(channel, item.message_id or "", thread)
        return message, UserRef(item.platform, item.author_id, item.author_name)

    @command(
        "mod",
        "approve",
        description=N_("Publish a held message (or keep a reported one)."),
        options=[OptionSpec("id", N_("The number shown in the queue"), OptionType.INTEGER, True)],
        role=Role.HOST,
        scope=Scope.CIRCLE,
        private=True,
    )
    async def mod_approve(self, ctx: CommandContext) -> None:
        """Approve a queue item: a held message is republished with attribution."""
        item = await self._item(ctx)
        if item is None or item.id is None:
            return
        now = self.services.clock.now()
        decided = await store.decide(
            self.services.db, item.id, store.STATUS_APPROVED, host=ctx.member_id, reason="", now=now
        )
        if decided is None:
            await ctx.reply(ctx.t._("#{id} is not waiting for review.", id=item.id))
            return
        message, author = self._item_ref(item)
        await self._host_log(
            ctx, "approve", member_id=item.member_id, rule=item.rule, message_id=item.message_id
        )
        if item.source == store.SOURCE_RULES:
            text = item.redacted_text if item.redacted_text is not None else item.text
            messenger = self.services.platforms.messenger(item.platform)
            platform = self.services.platforms.get(item.platform)
            await self._republish(platform, author, text, message.channel, message.thread, ctx.t)
            await self.services.signals.emit(MessageApproved(message, author, text))
            if author.id:
                await messenger.send_direct(
                    author, ctx.t._("A host approved your message: it is now published.")
                )
            await ctx.reply(ctx.t._("Approved #{id}: the message is published.", id=item.id))
        else:
            await ctx.reply(ctx.t._("Approved #{id}: the message stays.", id=item.id))

    @command(
        "mod",
        "reject",
        description=N_("Keep a held or reported message out of view; the author is told why."),
        options=[
            OptionSpec("id", N_("The number shown in the queue"), OptionType.INTEGER, True),
            OptionSpec(
                "reason", N_("Why (sent to the author)"), required=True, rest=True, max_length=500
            ),
        ],
        role=Role.HOST,
        scope=Scope.CIRCLE,
        private=True,
    )
    async def mod_reject(self, ctx: CommandContext) -> None:
        """Reject a queue item: the author gets the reason, a strike, the message stays out."""
        assert ctx.circle is not None
        item = await self._item(ctx)
        if item is None or item.id is None:
            return
        reason = ctx.options["reason"]
        now = self.services.clock.now()
        decided = await store.decide(
            self.services.db,
            item.id,
            store.STATUS_REJECTED,
            host=ctx.member_id,
            reason=reason,
            now=now,
        )
        if decided is None:
            await ctx.reply(ctx.t._("#{id} is not waiting for review.", id=item.id))
            return
        message, author = self._item_ref(item)
        platform = self.services.platforms.get(item.platform)
        messenger = self.services.platforms.messenger(item.platform)
        if item.source == store.SOURCE_REPORT and item.message_id:
            await self._delete(platform, message, reason)
        await self._host_log(
            ctx,
            "reject",
            member_id=item.member_id,
            rule=item.rule,
            message_id=item.message_id,
            note=_clip(reason),
        )
        if item.message_id:
            await self.services.signals.emit(MessageRejected(message))
        if author.id:
            await messenger.send_direct(
                author,
                ctx.t._(
                    "A host decided your message will not be published in the circle. "
                    "Reason: {reason}",
                    reason=reason,
                ),
            )
        if item.member_id is not None and author.id:
            settings = (await self._state(ctx.circle)).engine.settings
            rule = settings.rules.get(item.rule or "")
            weight = rule.strikes if rule is not None else 1.0
            if weight > 0:
                await self._strike(
                    ctx.circle,
                    item.member_id,
                    author,
                    message.channel,
                    weight,
                    item.rule or "report",
                    ctx.t,
                    ctx,
                )
        await ctx.reply(
            ctx.t._("Rejected #{id}; {name} was told why.", id=item.id, name=author.label or "?")
        )

    async def _member(self, ctx: CommandContext, query: str) -> tuple[int, UserRef] | None:
        """The member a host names (display name, platform id or mention)."""
        cleaned = query.strip().lstrip("@")
        mention = re.fullmatch(r"<@!?(\d+)>", query.strip())
        if mention:
            cleaned = mention.group(1)
        accounts = await store.find_accounts(self.services.db, ctx.channel.platform, cleaned)
        found = {a.member_id: a for a in accounts}
        if not found:
            await ctx.reply(ctx.t._("I know no member called {name}.", name=escape(cleaned)))
            return None
        if len(found) > 1:
            await ctx.reply(
                ctx.t._("Several members are called {name}; use their id.", name=escape(cleaned))
            )
            return None
        account = next(iter(found.values()))
        user = UserRef(account.platform, account.platform_user_id, account.display_name)
        return account.member_id, user

    @command(
        "mod",
        "log",
        description=N_("Recent moderation decisions, optionally about one member."),
        options=[OptionSpec("member", N_("A member's name"), rest=True, max_length=100)],
        role=Role.HOST,
        scope=Scope.CIRCLE,
        private=True,
    )
    async def mod_log(self, ctx: CommandContext) -> None:
        """Show the audit log."""
        assert ctx.circle is not None
        member_id: int | None = None
        if ctx.options["member"]:
            found = await self._member(ctx, ctx.options["member"])
            if found is None:
                return
            member_id = found[0]
        entries = await store.recent_log(self.services.db, ctx.circle.id or 0, member_id=member_id)
        t = ctx.t
        if not entries:
            await ctx.reply(t._("No decisions yet."))
            return
        names = await self._names(
            [e.member_id for e in entries] + [e.actor_member_id for e in entries]
        )
        lines = [t._("**Recent decisions**")]
        for entry in entries:
            actor = (
                t._("rules")
                if entry.actor == store.ACTOR_RULES
                else escape(names.get(entry.actor_member_id or 0, "?"))
            )
            observed = " " + t._("(observe mode)") if entry.mode == store.MODE_OBSERVE else ""
            lines.append(
                f"{self._when(entry.created_at, ctx.circle)} · "
                f"**{t._(_ACTION_NAMES.get(entry.action, entry.action))}**{observed} · "
                f"{escape(names.get(entry.member_id or 0, '—'))} · "
                f"{'`' + entry.rule + '`' if entry.rule else '—'} · {actor}"
            )
        await ctx.reply("\n".join(lines))

    async def _names(self, ids: list[int | None]) -> dict[int, str]:
        names: dict[int, str] = {}
        for member_id in {i for i in ids if i is not None}:
            member = await members.get_member(self.services.db, member_id)
            if member is not None:
                names[member_id] = member.display_name
        return names

    @command(
        "mod",
        "strikes",
        description=N_("A member's strikes (they halve with time) and mute."),
        options=[
            OptionSpec("member", N_("A member's name"), required=True, rest=True, max_length=100)
        ],
        role=Role.HOST,
        scope=Scope.CIRCLE,
        private=True,
    )
    async def mod_strikes(self, ctx: CommandContext) -> None:
        """Show a member's decayed strikes and any running mute."""
        assert ctx.circle is not None
        found = await self._member(ctx, ctx.options["member"])
        if found is None:
            return
        member_id, user = found
        circle_id = ctx.circle.id or 0
        now = self.services.clock.now()
        settings = (await self._state(ctx.circle)).engine.settings
        strikes = await store.active_strikes(self.services.db, circle_id, member_id)
        total = decayed(strikes, now, settings.strike_half_life_hours)
        mute = await store.active_mute(self.services.db, circle_id, member_id, now=now)
        t = ctx.t
        lines = [
            t._(
                "{name}: {strikes} strikes now (a mute at {limit}; they halve every {hours} h).",
                name=f"**{escape(user.label)}**",
                strikes=f"{total:.2f}",
                limit=f"{settings.mute_at:g}",
                hours=f"{settings.strike_half_life_hours:g}",
            ),
            t._("Muted until {until}.", until=self._when(mute.until, ctx.circle))
            if mute is not None
            else t._("Not muted."),
        ]
        for strike in strikes[-10:]:
            lines.append(
                f"• {self._when(strike.created_at, ctx.circle)} `{strike.rule}` +{strike.weight:g}"
            )
        await ctx.reply("\n".join(lines))

    @command(
        "mod",
        "pardon",
        description=N_("Clear a member's strikes and lift their mute."),
        options=[
            OptionSpec("member", N_("A member's name"), required=True, rest=True, max_length=100)
        ],
        role=Role.HOST,
        scope=Scope.CIRCLE,
        private=True,
    )
    async def mod_pardon(self, ctx: CommandContext) -> None:
        """Clear strikes and unmute."""
        assert ctx.circle is not None
        found = await self._member(ctx, ctx.options["member"])
        if found is None:
            return
        member_id, user = found
        circle_id = ctx.circle.id or 0
        now = self.services.clock.now()
        cleared = await store.clear_strikes(self.services.db, circle_id, member_id, now=now)
        lifted = await store.lift_mutes(self.services.db, circle_id, member_id, now=now)
        if lifted:
            try:
                await ctx.platform.unmute(user, ctx.channel)
            except PlatformError:
                self.log.warning("could not unmute %s", user.id, exc_info=True)
        await self._host_log(ctx, "pardon", member_id=member_id, note=f"{cleared} strikes")
        await ctx.messenger.send_direct(
            user, ctx.t._("A host cleared your strikes in the circle. Welcome back!")
        )
        await ctx.reply(
            ctx.t._("{name} is pardoned: strikes cleared, not muted.", name=escape(user.label))
        )

    @command(
        "mod",
        "mode",
        description=N_("Enforce the rules, or only observe (log) to tune them."),
        options=[
            OptionSpec(
                "mode",
                N_("observe or enforce"),
                rest=True,
                choices=(
                    Choice(store.MODE_OBSERVE, N_("observe")),
                    Choice(store.MODE_ENFORCE, N_("enforce")),
                ),
            )
        ],
        role=Role.HOST,
        scope=Scope.CIRCLE,
        private=True,
    )
    async def mod_mode(self, ctx: CommandContext) -> None:
        """Show or change the circle's moderation mode."""
        assert ctx.circle is not None
        mode = ctx.options["mode"]
        if mode is None:
            current = (await self._state(ctx.circle)).mode
            await ctx.reply(
                ctx.t._("The circle is in {mode} mode.", mode=ctx.t._(_MODE_NAMES[current]))
            )
            return
        circle_id = ctx.circle.id or 0
        await store.save_settings(
            self.services.db, circle_id, now=self.services.clock.now(), mode=mode
        )
        self._states.pop(circle_id, None)
        await self._host_log(ctx, "mode", note=mode)
        await ctx.reply(
            ctx.t._("The circle is now in {mode} mode.", mode=ctx.t._(_MODE_NAMES[mode]))
        )

    @command(
        "mod",
        "test",
        description=N_("What the rules would do with a text, and why."),
        options=[OptionSpec("text", N_("The text to try"), required=True, rest=True)],
        role=Role.HOST,
        scope=Scope.CIRCLE,
        private=True,
    )
    async def mod_test(self, ctx: CommandContext) -> None:
        """Explain the decision on a text, without acting or counting it."""
        assert ctx.circle is not None
        decision = (await self._state(ctx.circle)).engine.evaluate(ctx.options["text"])
        await ctx.reply(self.explain(decision, ctx.t))

    @staticmethod
    def explain(decision: Decision, t: Translator) -> str:
        """A decision and its reasons, for hosts."""
        if not decision.acted:
            return t._("Nothing to act on: the rules allow it.")
        lines = [
            t._(
                "Decision: **{action}**, for {why} (rule {rule}).",
                action=t._(_ACTION_NAMES[str(decision.action)]),
                why=t._(_WHY[decision.category]),
                rule=f"`{decision.rule}`",
            )
        ]
        for reason in decision.reasons:
            line = f"• `{reason.rule}` → {t._(_ACTION_NAMES[str(reason.action)])}"
            if reason.excerpt:
                line += " — «" + escape(_clip(reason.excerpt, 80)) + "»"
            if reason.category is Category.PII:
                line += f" ({escape(reason.term)})"
            elif reason.term and reason.term != reason.excerpt:
                line += " " + t._("(matches {term})", term=f"`{escape(_clip(reason.term, 60))}`")
            if reason.cue:
                line += " " + t._("after the cue {cue}", cue=f"«{escape(reason.cue)}»")
            lines.append(line)
        if decision.redacted_text is not None:
            lines.append(t._("Shown as:") + "\n" + quote(decision.redacted_text))
        return "\n".join(lines)

    @command(
        "mod",
        "allow",
        description=N_("Allow a word or phrase in this circle (professional jargon)."),
        options=[
            OptionSpec("word", N_("The word or phrase"), required=True, rest=True, max_length=80),
            OptionSpec("remove", N_("Take it off the allow-list"), OptionType.BOOLEAN),
        ],
        role=Role.HOST,
        scope=Scope.CIRCLE,
        private=True,
    )
    async def mod_allow(self, ctx: CommandContext) -> None:
        """Add a word to (or remove it from) the circle's allow-list."""
        assert ctx.circle is not None
        word = " ".join(ctx.options["word"].split())
        remove = bool(ctx.options["remove"])
        state = await self._state(ctx.circle)
        overrides = state.settings.override_data if state.settings is not None else {}
        allow = overrides.setdefault("allow", {})
        words: list[str] = [w for w in allow.get("words", []) if w.lower() != word.lower()]
        if not remove:
            words.append(word)
        allow["words"] = words
        await self._save_overrides(ctx, overrides, note=("-" if remove else "+") + word)
        await ctx.reply(
            ctx.t._("«{word}» is no longer on the allow-list.", word=escape(word))
            if remove
            else ctx.t._("«{word}» is now allowed in this circle.", word=escape(word))
        )

    @command(
        "mod",
        "rule",
        description=N_("Show a rule, or change its action or strikes in this circle."),
        options=[
            OptionSpec("rule", N_("The rule id, e.g. profanity"), required=True, rest=True),
            OptionSpec(
                "action",
                N_("What the rule does"),
                choices=tuple(Choice(a.value, _ACTION_NAMES[a.value]) for a in Action),
            ),
            OptionSpec(
                "strikes", N_("Strikes it costs"), OptionType.NUMBER, min_value=0, max_value=10
            ),
        ],
        role=Role.HOST,
        scope=Scope.CIRCLE,
        private=True,
    )
    async def mod_rule(self, ctx: CommandContext) -> None:
        """Show or override one rule for this circle."""
        assert ctx.circle is not None
        rule_id = ctx.options["rule"].strip()
        state = await self._state(ctx.circle)
        t = ctx.t
        if rule_id not in state.engine.settings.rules:
            known = ", ".join(f"`{r}`" for r in sorted(state.engine.settings.rules))
            await ctx.reply(
                t._("Unknown rule {rule}. The rules: {rules}.", rule=rule_id, rules=known)
            )
            return
        action, strikes = ctx.options["action"], ctx.options["strikes"]
        if action is not None or strikes is not None:
            overrides = state.settings.override_data if state.settings is not None else {}
            spec: dict[str, Any] = overrides.setdefault("rules", {}).setdefault(rule_id, {})
            if action is not None:
                spec["action"] = action
            if strikes is not None:
                spec["strikes"] = strikes
            await self._save_overrides(ctx, overrides, note=f"{rule_id}: {spec}")
            state = await self._state(ctx.circle)
        rule = state.engine.settings.rules[rule_id]
        await ctx.reply(
            t._(
                "Rule {rule} ({category}): {action}, {strikes} strikes.",
                rule=f"`{rule.id}`",
                category=t._(_WHY[rule.category]),
                action=t._(_ACTION_NAMES[str(rule.action)]),
                strikes=f"{rule.strikes:g}",
            )
        )

    async def _save_overrides(
        self, ctx: CommandContext, overrides: dict[str, Any], note: str
    ) -> None:
        assert ctx.circle is not None
        build_settings(overrides)  # refuse what would not load
        circle_id = ctx.circle.id or 0
        await store.save_settings(
            self.services.db, circle_id, now=self.services.clock.now(), overrides=overrides
        )
        state = self._states.pop(circle_id, None)
        fresh = await self._state(ctx.circle)
        if state is not None:
            fresh.activity = state.activity
        await self._host_log(ctx, "settings", note=_clip(note))

    # ------------------------------------------------------------ member data

    async def export_member_data(self, member_id: int) -> dict[str, Any]:
        """Decisions about the member, their strikes, mutes, queued messages and reports."""
        return await store.export_member(self.services.db, member_id)

    async def erase_member_data(self, member_id: int) -> None:
        """Forget the member (their reports and host decisions stay, without their name)."""
        await store.erase_member(self.services.db, member_id)
        self._first_seen.pop(member_id, None)
        for state in self._states.values():
            state.activity.forget(str(member_id))
        for key in [k for k, r in self._recent.items() if r.member_id == member_id]:
            del self._recent[key]
