"""What members give a round: answers and comments in its thread, edits, deletions, reactions.

A member's top-level message in the thread is an answer, a reply to an answer (or to one of
its comments) is a comment; both are tagged with the profession the author had at that
moment, and an untagged author is asked for theirs once, ever. ``/answer`` does the same where
a member can't post in the thread.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Final

from bot.cog import CircleContext, Context, EventContext, command
from bot.commands import OptionSpec, Scope
from bot.i18n import N_, Translator, translator
from bot.messenger import escape, quote
from bot.types import (
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    MessageRef,
    ReactionAdded,
    Verdict,
    Visibility,
)
from cogs.courtesy.signals import MessageApproved, MessageRejected
from cogs.privacy import remember_posts
from cogs.professions import ProfessionChanged, ProfessionTag, profession_of
from cogs.rounds.base import ASKED, RoundsBase
from cogs.rounds.signals import AnswerStored
from storage import rounds as store
from storage import state
from storage.rounds import Answer, Comment, Round

MAX_ANSWER: Final = 4000


def _visibility(verdict: Verdict | None) -> str:
    """How the message is stored, from the verdict on it (none: visible)."""
    return (verdict.visibility if verdict else Visibility.VISIBLE).stored


class IntakeMixin(RoundsBase):
    """Collects answers, comments and reactions, and follows their moderation."""

    async def _round_of_thread(self, ctx: Context) -> Round | None:
        if ctx.thread is None:
            return None
        key = (ctx.platform.name, ctx.thread.id)
        cached = self._threads.get(key)
        if cached is not None:
            return cached
        round_ = await store.round_by_thread(self.services.db, *key)
        if round_ is not None:
            self._threads[key] = round_
        return round_

    async def _profession(self, member_id: int) -> ProfessionTag | None:
        if member_id not in self._professions:
            self._professions[member_id] = await self._profession_reader.get(member_id)
        return self._professions[member_id]

    async def on_message(self, ctx: EventContext) -> None:
        """An answer, or a comment when it replies to an answer, in a round's thread."""
        if ctx.circle is None or ctx.member_id is None:
            return
        round_ = await self._round_of_thread(ctx)
        if round_ is None:
            return
        event = ctx.event
        assert isinstance(event, MessagePosted)
        await self._store_contribution(ctx, round_, event.message, event.reply_to, ctx.verdict)

    async def _store_contribution(
        self,
        ctx: Context,
        round_: Round,
        message: MessageRef,
        reply_to: MessageRef | None,
        verdict: Verdict | None,
    ) -> int | None:
        assert ctx.member_id is not None and round_.id is not None
        db = self.services.db
        text = verdict.text if verdict else ""
        tag = await self._profession(ctx.member_id)
        now = self.services.clock.now()
        parent: Answer | None = None
        if reply_to is not None:
            parent = await store.answer_by_message(db, ctx.platform.name, reply_to.id)
            if parent is None:
                sibling = await store.comment_by_message(db, ctx.platform.name, reply_to.id)
                if sibling is not None and sibling.answer_id is not None:
                    parent = await store.get_answer(db, sibling.answer_id)
        common = {
            "round_id": round_.id,
            "member_id": ctx.member_id,
            "platform": ctx.platform.name,
            "message_id": message.id,
            "text": text,
            "profession_key": tag.key if tag else None,
            "visibility": _visibility(verdict),
            "created_at": now,
        }
        if parent is not None:
            stored = await store.add_comment(db, answer_id=parent.id, **common)
        else:
            stored = await store.add_answer(
                db,
                profession_wording=tag.wording if tag else "",
                late=round_.status == store.ROUND_CLOSED,
                **common,
            )
        if tag is None and (verdict is None or verdict.public):
            # Also when the answer was stored before a crash: the question is asked once, ever.
            # Never about a removed or held message: its author is told that instead.
            await self._ask_profession_once(ctx)
        if stored is not None and parent is None:
            await self.services.signals.emit(AnswerStored(round_.id, round_.circle_id))
        return stored

    async def _ask_profession_once(self, ctx: Context) -> None:
        assert ctx.member_id is not None
        await self._ask_once(ctx.member_id, ctx.t, ctx.prefix, ctx.send_private)

    async def _ask_once(
        self,
        member_id: int,
        t: Translator,
        prefix: str,
        send: Callable[[str], Awaitable[object]],
    ) -> None:
        """Ask a member their profession privately, once ever."""
        if member_id in self._asked:
            return
        self._asked[member_id] = True  # before any await: two answers at once ask once
        # Sent first, then recorded: a crash in between replays the event, and the effects
        # ledger knows the message went out, so it is neither lost nor sent twice.
        try:
            if await self._asked_reader.get(member_id):
                return  # asked before this process started, or forgotten by the cache
            await send(
                t._(
                    "Thank you for your answer! Which profession do you speak from? Tell the "
                    "circle with {command}: your answers of this round will be tagged with it.",
                    command=f"`{prefix}profession set`",
                )
            )
        except BaseException:
            self._asked.pop(member_id)
            raise
        key = f"{ASKED}:{member_id}"
        await state.set_state(self.services.db, self.name, key, "1", now=self.services.clock.now())

    async def _ask_after_approval(self, signal: MessageApproved) -> None:
        """A held answer or comment is published: its untagged author is asked, as for any."""
        db = self.services.db
        platform, message_id = signal.message.channel.platform, signal.message.id
        given: Answer | Comment | None = await store.answer_by_message(db, platform, message_id)
        if given is None:
            given = await store.comment_by_message(db, platform, message_id)
        if given is None or given.profession_key is not None or not signal.author.id:
            return
        if await self._profession(given.member_id) is not None:
            return  # tagged since the answer was held
        round_ = await store.get_round(db, given.round_id)
        circle = await self.services.directory.circle_by_id(round_.circle_id) if round_ else None
        if circle is None:
            return
        messenger = self.services.platforms.messenger(platform)
        await self._ask_once(
            given.member_id,
            translator(circle.locale),
            self.services.platforms.prefix(platform),
            functools.partial(messenger.send_direct, signal.author),
        )

    async def on_edit(self, ctx: EventContext) -> None:
        """An edited answer keeps its history; an edited comment is updated."""
        event = ctx.event
        assert isinstance(event, MessageEdited)
        db = self.services.db
        now = self.services.clock.now()
        text = ctx.verdict.text if ctx.verdict else event.text
        answer = await store.answer_by_message(db, ctx.platform.name, event.message.id)
        if answer is not None:
            await store.edit_answer(db, answer.id or 0, text, _visibility(ctx.verdict), now=now)
            return
        comment = await store.comment_by_message(db, ctx.platform.name, event.message.id)
        if comment is not None:
            await store.edit_comment(db, comment.id or 0, text, _visibility(ctx.verdict), now=now)

    async def on_delete(self, ctx: EventContext) -> None:
        """A deleted answer or comment is removed, unless moderation took it out of view.

        The courtesy rules delete the original of a redacted, held or hidden message
        themselves; that deletion must not lose what a host may still approve.
        """
        assert isinstance(ctx.event, MessageDeleted)
        await store.delete_by_message(
            self.services.db, ctx.platform.name, ctx.event.message.id, only_visible=True
        )

    async def on_reaction(self, ctx: EventContext) -> None:
        """Reactions to answers are how readers take part."""
        event = ctx.event
        if ctx.member_id is None or isinstance(
            event, MessagePosted | MessageEdited | MessageDeleted
        ):
            return
        db = self.services.db
        answer = await store.answer_by_message(db, ctx.platform.name, event.message.id)
        if answer is None or answer.id is None:
            return
        if isinstance(event, ReactionAdded):
            await store.add_reaction(
                db, answer.id, ctx.member_id, event.emoji, now=self.services.clock.now()
            )
        else:
            await store.remove_reaction(db, answer.id, ctx.member_id, event.emoji)

    async def _follow(self, signal: object) -> None:
        """Follow hosts' moderation decisions and members' professions.

        An approved held answer becomes visible (with the text as published); a rejected one
        stays hidden. A member's untagged answers of open rounds get their new profession.
        """
        if isinstance(signal, MessageApproved):
            await store.publish(
                self.services.db, signal.message.channel.platform, signal.message.id, signal.text
            )
            # No member context at approval: the author is asked by direct message, inside
            # the host's command scope, so a replay finds the message already sent.
            await self._ask_after_approval(signal)
        elif isinstance(signal, MessageRejected):
            await store.set_visibility(
                self.services.db,
                signal.message.channel.platform,
                signal.message.id,
                Visibility.HIDDEN.stored,
            )
        elif isinstance(signal, ProfessionChanged):
            self._professions[signal.member_id] = signal.tag
            open_rounds = await store.rounds_with_status(self.services.db, store.ROUND_OPEN)
            await store.tag_untagged(
                self.services.db,
                signal.member_id,
                [r.id for r in open_rounds if r.id is not None],
                signal.tag.key,
                signal.tag.wording,
            )

    # ------------------------------------------------------------ /answer

    @command(
        "answer",
        description=N_("Answer this week's question (where you can't post in the thread)."),
        options=[
            OptionSpec("text", N_("Your answer"), required=True, rest=True, max_length=MAX_ANSWER)
        ],
        scope=Scope.CIRCLE,
        private=True,
    )
    async def answer(self, ctx: CircleContext) -> None:
        """Store an answer given as a command and show it in the round's thread."""
        round_ = await store.current_round(self.services.db, ctx.circle_id)
        if round_ is None:
            await ctx.reply(
                ctx.t._("No round is open right now. {next}", next=await self._next_text(ctx))
            )
            return
        text = ctx.options["text"]
        verdict = await self.services.verdicts.judge(ctx, text, ident=ctx.invocation.id)
        message = MessageRef(ctx.channel, f"command:{ctx.invocation.id}", ctx.thread)
        stored = await self._store_contribution(ctx, round_, message, None, verdict)
        if stored is None:
            return
        if verdict.public:
            tag = await profession_of(self.services.db, ctx.member_id or 0)
            who = f"**{escape(ctx.user.label)}**"
            if tag is not None:
                who += f" ({escape(tag.label(ctx.t.locale))})"
            shown = await ctx.messenger.send(
                ctx.channel,
                ctx.t._("{who} answered:", who=who) + "\n" + quote(verdict.text),
                thread=self._thread_of(round_),
            )
            await remember_posts(self.services, ctx.user, shown)
            await ctx.reply(ctx.t._("Thank you, your answer is in the round."))
        elif verdict.visibility is Visibility.HELD:
            await ctx.reply(ctx.t._("Your answer waits for a host's review."))
        else:
            await ctx.reply(ctx.t._("Your answer was not added to the round."))
