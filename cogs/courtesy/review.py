"""The review queue: what waits for a host, and the hosts' decisions on it.

Messages held by the rules and messages members report (``/report``) wait in the queue;
hosts list it (``/mod queue``) and decide (``/mod approve``, ``/mod reject``). Where the
platform has a hosts' channel, a held message is also posted there with Approve / Reject
buttons that run those same commands; a threat opens with an alert line there and in the queue.
A held message a host approves is remembered as an example for the circle: the semantic layer
allows messages like it from then on.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Final

from bot.cog import CircleContext, EventContext, command
from bot.commands import OptionSpec, OptionType, Scope
from bot.i18n import N_, local_name
from bot.messenger import escape, quote
from bot.platform import HasHostsChannel, PlatformError
from bot.types import (
    Action,
    ActionStyle,
    ChannelRef,
    Content,
    MessageEdited,
    MessagePosted,
    MessageRef,
    Role,
    ThreadRef,
    UserRef,
)
from cogs.courtesy.base import CourtesyBase, Recent, clip
from cogs.courtesy.engine import Decision
from cogs.courtesy.rules import Category
from cogs.courtesy.signals import MessageApproved, MessageRejected
from cogs.privacy import remember_posts
from storage import courtesy as store

_LINK_ID_RE: Final = re.compile(r"[/#]?([\w\-:.!$]+)/?$")

#: A held message as hosts see it in their channel, above its quoted (masked) text.
REVIEW_TEXT: Final = N_("**{name}** in {channel}, held by rule {rule} (queue #{id}):")
#: The first line of a held threat, in the hosts' channel and the queue.
THREAT_ALERT: Final = N_("⚠️ **Threat**: please look at this one first.")
APPROVE_LABEL: Final = N_("Approve")
REJECT_LABEL: Final = N_("Reject")
APPROVE_PATH: Final = ("mod", "approve")
REJECT_PATH: Final = ("mod", "reject")


class Review(CourtesyBase):
    """The hosts' queue: held and reported messages, and the hosts' decisions on them."""

    # ------------------------------------------------------------ held messages

    async def _show_hosts(
        self,
        ctx: EventContext,
        item: store.QueueItem,
        decision: Decision,
        event: MessagePosted | MessageEdited,
    ) -> None:
        """Post a held message where the platform's hosts review, with Approve / Reject."""
        platform = ctx.platform
        if item.id is None or not isinstance(platform, HasHostsChannel):
            return
        hosts = platform.hosts_channel(ctx.channel)
        if hosts is None:
            return
        t = ctx.t
        held = event.message
        shown = decision.redacted_text if decision.redacted_text is not None else event.text
        header = t._(
            REVIEW_TEXT,
            name=escape(ctx.user.label),
            channel=platform.mention_channel(held.thread or held.channel),
            rule=f"`{decision.rule or '?'}`",
            id=item.id,
        )
        text = header + "\n" + quote(shown)
        if decision.category is Category.THREAT:
            text = t._(THREAT_ALERT) + "\n" + text
        limit = ctx.platform.capabilities.max_message_length
        if len(text) > limit:
            text = text[: limit - 1] + "…"
        options = (("id", item.id),)
        approve = Action(
            t._(APPROVE_LABEL),
            APPROVE_PATH,
            options,
            channel=held.channel,
            style=ActionStyle.SUCCESS,
        )
        reject = Action(
            t._(REJECT_LABEL),
            REJECT_PATH,
            options,
            channel=held.channel,
            style=ActionStyle.DANGER,
            ask="reason",
        )
        try:
            shown_to_hosts = await ctx.messenger.send(
                hosts, Content(text=text, actions=(approve, reject))
            )
            await remember_posts(self.services, ctx.user, shown_to_hosts)
        except PlatformError:
            # The hold stands (it is in the queue) and the author is still told.
            self.log.exception("could not show held message #%s to the hosts", item.id)

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
        menu=N_("Report to hosts"),
    )
    async def report(self, ctx: CircleContext) -> None:
        """Put a message (or what a member says about one) in the hosts' queue."""
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
                circle_id=ctx.circle_id,
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
                circle_id=ctx.circle_id,
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
        stored = await self._enqueue_once(item)
        if stored is None:
            return
        item = stored
        await self._log_once(
            store.AuditEntry(
                circle_id=ctx.circle_id,
                member_id=item.member_id,
                message_id=item.message_id,
                action="report",
                actor=store.ACTOR_HOST if ctx.is_host else "member",
                actor_member_id=ctx.member_id,
                note=clip(note),
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

    def _find_recent(self, platform: str, reference: str) -> Recent | None:
        return self._recent.get((platform, self._message_id(reference)))

    # ------------------------------------------------------------ /mod queue|approve|reject

    @command(
        "mod",
        "queue",
        description=N_("Show the messages waiting for a host: held by the rules or reported."),
        role=Role.HOST,
        scope=Scope.CIRCLE,
        private=True,
    )
    async def mod_queue(self, ctx: CircleContext) -> None:
        """List the pending queue."""
        items = await store.pending(self.services.db, ctx.circle_id)
        t = ctx.t
        if not items:
            await ctx.reply(t._("Nothing waits for review."))
            return
        lines = [t._("**Waiting for review** ({count})", count=len(items))]
        for item in items:
            shown = item.redacted_text if item.redacted_text is not None else item.text
            if item.source == store.SOURCE_REPORT:
                what = t._("reported: {note}", note=escape(clip(item.note, 80)) or "—")
            else:
                what = t._("held by rule {rule}", rule=f"`{item.rule}`")
            alert = t._(THREAT_ALERT) + "\n" if item.category == Category.THREAT else ""
            if item.author_name:
                who = f"**{escape(item.author_name)}**"
            elif item.message_id:
                who = t._("a message I did not see (its author is unknown)")
            else:
                who = t._("no message, only the reporter's words")
            shown = clip(shown)
            lines.append(
                alert + f"`#{item.id}` {who} — {what}" + ("\n" + quote(shown) if shown else "")
            )
        lines.append(
            t._(
                "Decide with {approve} or {reject}.",
                approve=f"`{ctx.prefix}mod approve <n>`",
                reject=f"`{ctx.prefix}mod reject {local_name('id', t.locale)}:<n> "
                f"<{local_name('reason', t.locale)}>`",
            )
        )
        await ctx.reply("\n".join(lines))

    async def _item(self, ctx: CircleContext) -> store.QueueItem | None:
        item = await store.get_item(self.services.db, ctx.circle_id, ctx.options["id"])
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
    async def mod_approve(self, ctx: CircleContext) -> None:
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
            await self._remember_example(ctx, item, text)
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

    async def _remember_example(self, ctx: CircleContext, item: store.QueueItem, text: str) -> None:
        """Keep an approved message as the circle's example; its engine learns it at once."""
        state = await self._state(ctx.circle)  # built before the new example is stored
        example = store.Example(
            circle_id=ctx.circle_id,
            member_id=item.member_id,
            text=text,
            created_at=self.services.clock.now(),
        )
        await self.services.effects.stored(
            "example", partial(store.add_example, self.services.db, example)
        )
        state.engine.learn([text])

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
    async def mod_reject(self, ctx: CircleContext) -> None:
        """Reject a queue item: the author gets the reason, a strike, the message stays out."""
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
            note=clip(reason),
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
