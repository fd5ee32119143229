"""Enforcement: judge every post and edit, then carry out the decision.

Every post and edit in a circle is judged before other cogs see it (:meth:`inspect`): in
``enforce`` mode the verdict redacts, holds or hides it; in ``observe`` mode decisions are only
logged. The actions follow once the verdict is known (:meth:`on_message`, :meth:`on_edit`):
the original is deleted when it must leave public view, personal details are reposted masked
with attribution, the author is told privately why, strikes decay and escalate to a temporary
mute (never a ban) whose end is scheduled, and held messages go to the hosts' queue. A newcomer
whose spam is removed a second time within a day is muted at once. Where the semantic layer
only observes, what it decided is logged and the word rules' own decision is carried out; a
member who quotes harsh words said to them is offered ``/report``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Final

from bot.cog import Context, EventContext
from bot.i18n import N_, Translator
from bot.messenger import escape, quote
from bot.platform import Platform, PlatformError, RepostsAsAuthor
from bot.scheduler import JobRun, once
from bot.types import (
    ChannelRef,
    MessageEdited,
    MessagePosted,
    MessageRef,
    ThreadRef,
    UserRef,
    Verdict,
    Visibility,
)
from cogs.courtesy.activity import posted_at
from cogs.courtesy.base import (
    WHY,
    CircleState,
    CourtesyBase,
    Recent,
    clip,
    decayed,
    matched,
    rules_only,
    semantic_observed,
)
from cogs.courtesy.engine import Decision
from cogs.courtesy.rules import Action, Category
from cogs.privacy import remember_posts
from storage import courtesy as store
from storage import members
from storage.models import Circle

#: How far back previous mutes count when choosing the next mute's length.
MUTE_MEMORY: Final = timedelta(days=30)
#: A newcomer whose spam is removed twice within this window is muted.
SPAM_WINDOW: Final = timedelta(hours=24)
SPAM_MUTE_AT: Final = 2
_VISIBILITY: Final = {
    Action.REDACT: Visibility.REDACTED,
    Action.HOLD: Visibility.HELD,
    Action.HIDE: Visibility.HIDDEN,
}


def verdict_for(decision: Decision, text: str) -> Verdict | None:
    """The verdict listeners see for a decision (``None`` when nothing matched)."""
    if not decision.acted:
        return None
    visibility = _VISIBILITY.get(decision.action, Visibility.VISIBLE)
    shown = decision.redacted_text if decision.redacted_text is not None else text
    return Verdict(visibility, shown, decision.rule, str(decision.category), detail=decision)


@dataclass(frozen=True, slots=True)
class Judged:
    """What :meth:`Enforcement.inspect` leaves for the listeners' step to carry out."""

    #: The decision to carry out (the word rules' alone where the semantic layer observes).
    decision: Decision
    #: What the semantic layer decided in a circle where it only observes: logged, not done.
    observed: Decision | None = None
    #: A post quoting harsh words to report them: its author is offered ``/report``.
    offer_report: bool = False


class Enforcement(CourtesyBase):
    """Judging posts and edits, and carrying out the decisions: the rules' side."""

    # ------------------------------------------------------------ judging

    async def inspect(self, ctx: EventContext) -> Verdict | None:
        """Judge a post or an edit in a circle; in observe mode, only log."""
        event = ctx.event
        if not isinstance(event, MessagePosted | MessageEdited):
            return None
        if ctx.circle is None or ctx.member_id is None or not ctx.user.id:
            return None
        synthetic = ctx.synthetic
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
            posted_at=posted_at(event.at, now),
        )
        observed = None
        if semantic_observed(decision, state.engine.settings):
            observed, decision = decision, rules_only(decision, state.engine.settings)
        judged = Judged(
            decision,
            observed,
            offer_report=posted and decision.reported and not decision.acted,
        )
        if synthetic:
            # A command's step: its effects are its own (no listener step follows).
            await self._handle(ctx, judged, state, synthetic=True)
        if not decision.acted:
            if observed is None and not judged.offer_report:
                return None
            # Heard by nobody, it changes nothing shown: the listeners' step carries it.
            shown = verdict_for(observed, event.text) if observed is not None else None
            base = shown or Verdict(Visibility.VISIBLE, event.text)
            return replace(base, advisory=True, detail=judged)
        verdict = verdict_for(decision, event.text)
        assert verdict is not None
        verdict = replace(verdict, detail=judged)
        if state.mode == store.MODE_OBSERVE:
            # Heard by the listeners (and acted on: logged), it changes nothing shown.
            return replace(verdict, advisory=True)
        return verdict

    def _remember(self, event: MessagePosted, member_id: int) -> None:
        key = (event.message.channel.platform, event.message.id)
        self._recent[key] = Recent(event.message, event.author, member_id, event.text)

    def _remember_edit(self, event: MessageEdited) -> None:
        key = (event.message.channel.platform, event.message.id)
        recent = self._recent.get(key)
        if recent is not None:
            self._recent[key] = Recent(recent.ref, recent.author, recent.member_id, event.text)

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
        if opinion is not None and isinstance(opinion.detail, Judged):
            judged = opinion.detail
            await self._handle(ctx, judged, await self._state(ctx.circle), synthetic=False)

    async def _handle(
        self, ctx: EventContext, judged: Judged, state: CircleState, *, synthetic: bool
    ) -> None:
        """Log what the semantic layer only observed, carry out the decision, offer /report."""
        if judged.observed is not None:
            await self._audit(ctx, judged.observed, store.MODE_OBSERVE)
        if judged.decision.acted:
            await self._act(ctx, judged.decision, state, synthetic=synthetic)
        elif judged.offer_report and state.mode == store.MODE_ENFORCE:
            await ctx.send_private(
                ctx.t._(
                    "You seem to be quoting words someone said to you. If you want the hosts "
                    "to look at them, use {report} with the message's link or what was said: "
                    "only the hosts will see it.",
                    report=f"`{ctx.prefix}report`",
                )
            )

    async def _audit(self, ctx: EventContext, decision: Decision, mode: str) -> None:
        """Log a decision of the rules about the event's message, once."""
        event = ctx.event
        assert isinstance(event, MessagePosted | MessageEdited)
        assert ctx.circle is not None and ctx.member_id is not None
        excerpt = decision.redacted_text if decision.redacted_text is not None else event.text
        top = decision.reasons[0] if decision.reasons else None
        await self._log_once(
            store.AuditEntry(
                circle_id=ctx.circle.id or 0,
                member_id=ctx.member_id,
                message_id=event.message.id,
                rule=decision.rule,
                category=str(decision.category),
                action=str(decision.action),
                actor=store.ACTOR_RULES,
                mode=mode,
                layer=decision.layer,
                score=decision.score,
                term=clip(matched(top), 200) if top is not None and top.score is None else None,
                note=clip(excerpt, 500),
                created_at=self.services.clock.now(),
            ),
        )

    # ------------------------------------------------------------ acting

    async def _act(
        self, ctx: EventContext, decision: Decision, state: CircleState, *, synthetic: bool
    ) -> None:
        event = ctx.event
        assert isinstance(event, MessagePosted | MessageEdited)
        assert ctx.circle is not None and ctx.member_id is not None
        circle_id = ctx.circle.id or 0
        now = self.services.clock.now()
        await self._audit(ctx, decision, state.mode)
        if state.mode == store.MODE_OBSERVE:
            return
        t = ctx.t
        action = decision.action
        why = t._(WHY[decision.category])
        charter = f"`{ctx.prefix}charter`"
        if action in _VISIBILITY and not synthetic:
            await self._delete(ctx.platform, event.message, decision.rule or "")
        if action is Action.REDACT and not synthetic:
            shown = decision.redacted_text or ""
            await self._republish(ctx.platform, ctx.user, shown, ctx.channel, ctx.thread, t)
        if action is Action.HOLD:
            item = await self._enqueue_once(
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
            if item is not None:
                await self._show_hosts(ctx, item, decision, event)
        message = {
            Action.NUDGE: N_(
                "A gentle reminder: this circle keeps a courteous, kind tone, and your "
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
        if action is Action.HIDE and decision.category is Category.SPAM:
            await self._spam_again(ctx, decision, state)

    async def _spam_again(self, ctx: EventContext, decision: Decision, state: CircleState) -> None:
        """Mute a newcomer whose spam was removed for the second time within a day."""
        assert ctx.circle is not None and ctx.member_id is not None
        circle_id, member_id = ctx.circle.id or 0, ctx.member_id
        now = self.services.clock.now()
        joined = await self._joined(member_id)
        newcomer = timedelta(hours=state.engine.settings.links_new_member_hours)
        if joined is None or now - joined >= newcomer:
            return
        db = self.services.db

        async def due() -> bool:
            if await store.active_mute(db, circle_id, member_id, now=now) is not None:
                return False  # one mute: the strikes of this message may have caused it
            spams = await store.count_decisions(
                db,
                circle_id,
                member_id,
                category=str(Category.SPAM),
                action=str(Action.HIDE),
                since=now - SPAM_WINDOW,
            )
            return spams >= SPAM_MUTE_AT

        # Decided once: a replay finds the mute it made and must still finish it, not skip it.
        if await self.services.effects.stored(
            "spam_mute", due, encode=lambda d: "1" if d else "", decode=bool
        ):
            await self._mute(
                ctx.circle,
                member_id,
                ctx.user,
                ctx.channel,
                decision.rule or "",
                ctx.t,
                ctx,
                note=f"{SPAM_MUTE_AT} spam in {SPAM_WINDOW.total_seconds() / 3600:g} h",
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
                repost = await platform.repost_as(author, text, channel, thread=thread)
            except PlatformError:
                self.log.exception("could not repost as %s; attributing instead", author.label)
            else:
                if repost is not None:
                    await remember_posts(self.services, author, [repost])
                    return
        messenger = self.services.platforms.messenger(platform.name)
        refs = await messenger.send(
            channel,
            t._("{name} wrote:", name=f"**{escape(author.label)}**") + "\n" + quote(text),
            thread=thread,
        )
        await remember_posts(self.services, author, refs)

    async def _add_mute(self, mute: store.Mute) -> int:
        stored = await store.add_mute(self.services.db, mute)
        assert stored.id is not None
        return stored.id

    async def _delete(self, platform: Platform, message: MessageRef, reason: str) -> None:
        """Take a message out of view; a platform refusal is logged, not fatal."""
        try:
            await platform.delete(message, reason=reason)
        except PlatformError:
            self.log.warning("could not delete message %s", message.id, exc_info=True)

    # ------------------------------------------------------------ strikes and mutes

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
        strike = store.Strike(
            circle_id=circle_id, member_id=member_id, weight=weight, rule=rule, created_at=now
        )
        await self.services.effects.stored("strike", partial(store.add_strike, db, strike))
        total = decayed(
            await store.active_strikes(db, circle_id, member_id),
            now,
            settings.strike_half_life_hours,
        )
        if total + 1e-9 < settings.mute_at:
            return
        await self._mute(
            circle, member_id, user, channel, rule, t, ctx, note=f"{total:.2f} strikes"
        )

    async def _mute(
        self,
        circle: Circle,
        member_id: int,
        user: UserRef,
        channel: ChannelRef,
        rule: str,
        t: Translator,
        ctx: Context,
        *,
        note: str,
    ) -> None:
        """Mute for the next duration (longer after each recent mute) and spend the strikes."""
        db = self.services.db
        circle_id = circle.id or 0
        now = self.services.clock.now()
        settings = (await self._state(circle)).engine.settings

        async def length() -> tuple[int, datetime]:
            previous = await store.count_mutes(db, circle_id, member_id, since=now - MUTE_MEMORY)
            minutes = settings.mute_minutes[min(previous, len(settings.mute_minutes) - 1)]
            return minutes, now + timedelta(minutes=minutes)

        # Chosen once: a replay after the mute row is written would count this mute itself
        # (and start from a later "now"), lengthening the platform mute and the DM's date.
        minutes, until = await self.services.effects.once(
            "mute_length", length, encode=_encode_length, decode=_decode_length
        )
        platform = self.services.platforms.get(channel.platform)
        try:
            await platform.mute(user, channel, until)
        except PlatformError:
            self.log.warning("could not mute %s on %s", user.id, channel.platform, exc_info=True)
        mute = store.Mute(circle_id=circle_id, member_id=member_id, until=until, created_at=now)
        mute.id = await self.services.effects.stored(
            "mute_row", partial(self._add_mute, mute), encode=str, decode=int
        )
        self._schedule_unmute(mute, user, channel)
        await store.clear_strikes(db, circle_id, member_id, now=now)
        await self._log_once(
            store.AuditEntry(
                circle_id=circle_id,
                member_id=member_id,
                rule=rule,
                action="mute",
                actor=store.ACTOR_RULES,
                note=f"{minutes} min, {note}",
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
            circle = await self.services.directory.circle_by_id(mute.circle_id)
            if circle is None or not self.services.platforms.serves(circle):
                continue
            account = await members.account_of(db, mute.member_id, circle.platform)
            if account is None:
                continue
            user = UserRef(circle.platform, account.platform_user_id, account.display_name)
            self._schedule_unmute(mute, user, ChannelRef(circle.platform, circle.space_id))

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


def _encode_length(length: tuple[int, datetime]) -> str:
    return f"{length[0]} {length[1].isoformat()}"


def _decode_length(recorded: str) -> tuple[int, datetime]:
    minutes, until = recorded.split(" ", 1)
    return int(minutes), datetime.fromisoformat(until)
